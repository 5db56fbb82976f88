// Which line a script is still writing should be on screen (`partial` messages,
// docs/live-partial-lines.md): the latest partial of a run and pipe, until a stored line of the
// same run and pipe with at least its line number arrives, or the run's `exited`/`lost` entry.
// A partial whose line is already stored is stale and ignored. With two pipes writing, the one
// updated last is shown: a terminal has one row to rewrite.
import type { LogEntry, PartialMessage } from '@keruta/protocol';

export interface PartialLines {
  /** A partial arrived: true when what should be shown changed. */
  show(partial: PartialMessage): boolean;
  /** Stored entries were printed: true when what should be shown changed. */
  settle(entries: readonly LogEntry[]): boolean;
  /** The partial to show, or undefined. */
  readonly current: PartialMessage | undefined;
}

export function createPartialLines(): PartialLines {
  const pending = new Map<PartialMessage['source'], PartialMessage>();
  /** Per run and pipe, the highest line number stored. */
  const storedUpTo = new Map<string, number>();
  let current: PartialMessage | undefined;

  const latest = (): PartialMessage | undefined => {
    let last: PartialMessage | undefined;
    // The map is in update order: each partial is re-inserted at the end.
    for (const partial of pending.values()) last = partial;
    return last;
  };

  return {
    show(partial) {
      if ((storedUpTo.get(`${partial.runId}|${partial.source}`) ?? 0) >= partial.lineNumber) return false;
      pending.delete(partial.source);
      pending.set(partial.source, partial);
      current = partial;
      return true;
    },
    settle(entries) {
      if (pending.size === 0 && storedUpTo.size === 0 && entries.every((e) => e.runId === undefined)) return false;
      let changed = false;
      for (const entry of entries) {
        if (entry.runId === undefined) continue;
        if (entry.source === 'agent') {
          const event = entry.metadata['event'];
          if (event !== 'exited' && event !== 'lost') continue;
          // The run ended (or was lost): nothing of it is being written any more.
          for (const [source, partial] of pending) {
            if (partial.runId !== entry.runId) continue;
            pending.delete(source);
            changed = true;
          }
          continue;
        }
        if (entry.lineNumber === undefined) continue;
        const key = `${entry.runId}|${entry.source}`;
        storedUpTo.set(key, Math.max(storedUpTo.get(key) ?? 0, entry.lineNumber));
        const partial = pending.get(entry.source);
        if (partial !== undefined && partial.runId === entry.runId && partial.lineNumber <= entry.lineNumber) {
          pending.delete(entry.source);
          changed = true;
        }
      }
      if (changed) current = latest();
      return changed;
    },
    get current() {
      return current;
    },
  };
}
