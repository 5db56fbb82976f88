// Turns the script's lines and the agent's own events into entries (PROTOCOL.md §1): numbered
// (runSeq, line numbers), levels detected, below the minimum level counted instead, masked and cut
// to length; written into the entry buffer (entry-buffer.ts) for the run's spool. The processing
// thread calls flush() after each stretch of intake it processed, so a line that comes alone
// reaches the spool (and the server) at once, and a burst is written in large appends.
import { levelRank, type AgentEvent, type LogLevel, type LogSource } from '@keruta/protocol';
import { cut } from '../read/line-splitter.js';
import { createEntryBuffer, type EntrySink } from './entry-buffer.js';
import { createLevelDetector, type LevelDetectorState } from './level-detector.js';
import type { Redactor } from './redactor.js';

/** Where numbering stands: saved with the processing state, so that a resumed run numbers alike. */
export interface RecorderPosition {
  readonly nextSeq: number;
  readonly lineNumbers: Readonly<Record<LogSource, number>>;
  /** The script's lines below the minimum level so far (absent in an older agent's state: none). */
  readonly belowLevel?: number;
  /** Each pipe's level detector (a traceback may go on past a saved state); absent in older states. */
  readonly levels?: Readonly<Record<'stdout' | 'stderr', LevelDetectorState>>;
}

export interface RecorderOptions {
  readonly runId: string;
  /** The run's spool. */
  readonly spool: EntrySink;
  /**
   * Lines below this level are not sent; they are counted (`belowLevel`), and their line numbers
   * stay the script's, so that the run's end can say how many there were.
   */
  readonly minLevel: LogLevel;
  /** For the agent's own messages. */
  readonly redact: Redactor;
  /** For the script's lines (the identity when they were masked before the intake). */
  readonly redactLines: Redactor;
  readonly maxMessageLength: number;
  readonly position?: RecorderPosition;
  /** Entries up to this runSeq are already in the spool (a replay): numbered, not written again. */
  readonly skipThrough?: number;
}

export interface Recorder {
  /** What follows was read at this moment (ms since the epoch): its entries carry it as their timestamp. */
  setTime(timeMs: number): void;
  /** `originalLength`: the line's length as the script printed it, before the splitter's cut. */
  line(source: 'stdout' | 'stderr', message: string, truncated: boolean, originalLength: number): void;
  /** One of the agent's own entries; `metadata` is written as `{event, ...metadata}`. */
  event(event: AgentEvent, level: LogLevel, message: string, metadata: Record<string, unknown>): void;
  /**
   * Appends what was recorded to the spool. On a disk error the entries stay here, numbered, and
   * the next flush tries them again: runSeq stays gapless and a replay numbers alike.
   */
  flush(): { ok: true } | { ok: false; reason: string };
  /** Entries recorded but not yet in the spool. */
  readonly pending: number;
  readonly position: RecorderPosition;
  /** The script's lines below the minimum level so far, not sent. */
  readonly belowLevel: number;
}

/** A cut line's metadata: `truncated`, and the length it had (PROTOCOL.md §1, `originalLength`). */
function truncatedMetadata(originalLength: number): string {
  return `,"metadata":{"truncated":true,"originalLength":${originalLength}}`;
}
const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export function createRecorder(options: RecorderOptions): Recorder {
  const { redact, redactLines, maxMessageLength } = options;
  const skipThrough = options.skipThrough ?? 0;
  const minRank = levelRank(options.minLevel);
  const ranks = Object.fromEntries(LEVELS.map((l) => [l, levelRank(l)])) as Record<LogLevel, number>;
  const entries = createEntryBuffer(options.runId, options.spool);
  const lineNumbers: Record<LogSource, number> = { stdout: 0, stderr: 0, agent: 0, ...options.position?.lineNumbers };
  const detectors = { stdout: createLevelDetector(options.position?.levels?.stdout), stderr: createLevelDetector(options.position?.levels?.stderr) };
  let nextSeq = options.position?.nextSeq ?? 1;
  let belowLevel = options.position?.belowLevel ?? 0;

  const push = (source: LogSource, level: LogLevel, message: string, lineNumber: number, metadata: string): void => {
    // Already in the spool (a replay): numbered alike, not written again.
    if (nextSeq > skipThrough) entries.write(source, level, message, lineNumber, nextSeq, metadata);
    nextSeq++;
  };

  return {
    setTime: entries.setTime,
    line(source, raw, truncatedBySplitter, originalLength) {
      const lineNumber = ++lineNumbers[source];
      const level = detectors[source].detect(raw);
      if (ranks[level] < minRank) {
        belowLevel++;
        return;
      }
      let message = redactLines(raw);
      let truncated = truncatedBySplitter;
      if (message.length > maxMessageLength) {
        message = cut(message, maxMessageLength);
        truncated = true;
      }
      push(source, level, message, lineNumber, truncated ? truncatedMetadata(originalLength) : '');
    },
    event(event, level, message, metadata) {
      const lineNumber = ++lineNumbers.agent;
      push('agent', level, redact(message), lineNumber, `,"metadata":${JSON.stringify({ event, ...metadata })}`);
    },
    flush: entries.flush,
    get pending() {
      return entries.count;
    },
    get position() {
      return {
        nextSeq,
        lineNumbers: { ...lineNumbers },
        belowLevel,
        levels: { stdout: detectors.stdout.state(), stderr: detectors.stderr.state() },
      };
    },
    get belowLevel() {
      return belowLevel;
    },
  };
}
