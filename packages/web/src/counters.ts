// The counters above the log: lines shown since the page opened or was last cleared, in all and
// per level. Unlike the usage guide's page, clearing resets every one of them.
import { LOG_LEVELS, type LogLevel } from '@keruta/protocol';

export interface Counters {
  readonly total: number;
  count(level: LogLevel): number;
  /** Adds a line of level `levelIndex` (0 DEBUG … 3 ERROR). */
  add(levelIndex: number): void;
  reset(): void;
}

export function createCounters(): Counters {
  const perLevel = [0, 0, 0, 0];
  let total = 0;
  return {
    get total() {
      return total;
    },
    count: (level) => perLevel[LOG_LEVELS.indexOf(level)] ?? 0,
    add(levelIndex) {
      perLevel[levelIndex] = (perLevel[levelIndex] ?? 0) + 1;
      total += 1;
    },
    reset() {
      perLevel.fill(0);
      total = 0;
    },
  };
}
