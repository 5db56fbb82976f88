// Turns the script's lines and the agent's own events into entries (PROTOCOL.md §1) and appends
// them to the run's spool. Each entry's JSON is written once, straight into a reused buffer, from
// pre-encoded pieces; the spool keeps exactly these bytes and batches are cut from them. The
// processing thread calls flush() after each stretch of intake it processed, so a line that comes
// alone reaches the spool (and the server) at once, and a burst is written in large appends.
import { levelRank, type AgentEvent, type LogLevel, type LogSource } from '@keruta/protocol';
import { cut } from './line-splitter.js';
import { createLevelDetector, type LevelDetectorState } from './level-detector.js';
import type { Redactor } from './redactor.js';
import type { RunSpool } from './spool.js';

const BUFFER_BYTES = 512 * 1024;

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
  readonly spool: RunSpool;
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

const SOURCES = ['stdout', 'stderr', 'agent'] as const;
const LINE_NUMBER_KEY = Buffer.from(',"lineNumber":');
/** A cut line's metadata: `truncated`, and the length it had (PROTOCOL.md §1, `originalLength`). */
function truncatedMetadata(originalLength: number): string {
  return `,"metadata":{"truncated":true,"originalLength":${originalLength}}`;
}
const CLOSE_BRACE = 0x7d;
const NEWLINE = 0x0a;
const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/**
 * Writes a non-negative integer's digits. Not `${n}`: every number turned into a string lands in
 * V8's number-string cache, survives the next scavenge and is promoted, which at a million lines
 * grows the old generation by tens of megabytes of garbage.
 */
function writeDecimal(buffer: Buffer, offset: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let position = offset + digits;
  let rest = value;
  do {
    buffer[--position] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  } while (rest > 0);
  return offset + digits;
}

export function createRecorder(options: RecorderOptions): Recorder {
  const { spool, redact, redactLines, maxMessageLength } = options;
  const skipThrough = options.skipThrough ?? 0;
  const minRank = levelRank(options.minLevel);
  const ranks = Object.fromEntries(LEVELS.map((l) => [l, levelRank(l)])) as Record<LogLevel, number>;
  const heads = Object.fromEntries(
    SOURCES.map((s) => [s, Object.fromEntries(LEVELS.map((l) => [l, Buffer.from(`{"source":"${s}","level":"${l}","message":`)]))]),
  ) as Record<LogSource, Record<LogLevel, Buffer>>;
  const runIdPiece = `","runId":${JSON.stringify(options.runId)},"runSeq":`;

  const lineNumbers: Record<LogSource, number> = { stdout: 0, stderr: 0, agent: 0, ...options.position?.lineNumbers };
  const detectors = { stdout: createLevelDetector(options.position?.levels?.stdout), stderr: createLevelDetector(options.position?.levels?.stderr) };
  let nextSeq = options.position?.nextSeq ?? 1;
  let belowLevel = options.position?.belowLevel ?? 0;
  let out = Buffer.allocUnsafe(BUFFER_BYTES);
  let used = 0;
  let count = 0;
  /** `,"timestamp":"…","runId":"…","runSeq":` for what is being recorded. */
  const tailSpace = Buffer.alloc(64 + runIdPiece.length);
  let tail = tailSpace.subarray(0, 0);
  let tailTime = Number.NaN;

  const setTime = (timeMs: number): void => {
    if (timeMs === tailTime) return;
    tailTime = timeMs;
    tail = tailSpace.subarray(0, tailSpace.write(`,"timestamp":"${new Date(timeMs).toISOString()}${runIdPiece}`, 'latin1'));
  };
  setTime(Date.now());

  const flush = (): { ok: true } | { ok: false; reason: string } => {
    if (count === 0) return { ok: true };
    const written = spool.append(out.subarray(0, used), count);
    if (!written.ok) return written;
    used = 0;
    count = 0;
    return written;
  };

  const push = (source: LogSource, level: LogLevel, message: string, lineNumber: number, metadata: string): void => {
    if (nextSeq <= skipThrough) {
      nextSeq++;
      return;
    }
    const escaped = JSON.stringify(message);
    const head = heads[source][level];
    // UTF-16 code units take at most 3 bytes of UTF-8 each; numbers at most 16 digits.
    const worst = head.length + 3 * (escaped.length + metadata.length) + LINE_NUMBER_KEY.length + tail.length + 40;
    if (used + worst > out.length) {
      // Full: write what is here; when the disk refuses, grow instead (the caller stops taking more).
      if (count === 0 || !flush().ok || worst > out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(out.length, used + worst));
        out.copy(bigger, 0, 0, used);
        out = bigger;
      }
    }
    // TypedArray#set, not Buffer#copy: no call into C++ for a few dozen bytes.
    out.set(head, used);
    used += head.length;
    used += out.write(escaped, used);
    out.set(LINE_NUMBER_KEY, used);
    used += LINE_NUMBER_KEY.length;
    used = writeDecimal(out, used, lineNumber);
    out.set(tail, used);
    used += tail.length;
    used = writeDecimal(out, used, nextSeq);
    if (metadata.length > 0) used += out.write(metadata, used);
    out[used++] = CLOSE_BRACE;
    out[used++] = NEWLINE;
    count++;
    nextSeq++;
  };

  return {
    setTime,
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
    flush,
    get pending() {
      return count;
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
