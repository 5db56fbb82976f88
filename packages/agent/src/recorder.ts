// Turns the script's lines and the agent's own events into entries (PROTOCOL.md §1) and appends
// them to the run's spool. Each entry's JSON is written once, straight into a reused buffer, from
// pre-encoded pieces; the spool keeps exactly these bytes and batches are cut from them. A line
// that comes alone is written to disk (and so sent) at once; during a burst, writes are gathered
// for SPOOL_QUIET_MS, so that a burst read in thousands of small pipe reads costs a few hundred
// disk writes a second, and a kill -9 can lose at most that much of what was read.
import { levelRank, type AgentEvent, type LogLevel, type LogSource } from '@keruta/protocol';
import { cut } from './line-splitter.js';
import { detectLevel } from './level-detector.js';
import type { Redactor } from './redactor.js';
import type { RunSpool } from './spool.js';

/** After a disk write, later lines wait this long to be written together (the most a kill -9 could lose). */
export const SPOOL_QUIET_MS = 2;
const BUFFER_BYTES = 1024 * 1024;

export interface RecorderOptions {
  readonly runId: string;
  readonly spool: RunSpool;
  /** Lines below this level are counted (line numbers stay the script's) but not sent. */
  readonly minLevel: LogLevel;
  readonly redact: Redactor;
  readonly maxMessageLength: number;
  /** Called after entries were written to the spool. */
  readonly onAppended: () => void;
  /** Called when the spool could not take entries (disk full …): they are lost, and the user is told. */
  readonly onDiskError: (reason: string, lost: number) => void;
}

export interface Recorder {
  /** A chunk was read: its lines share this moment as their timestamp. */
  beginChunk(): void;
  line(source: 'stdout' | 'stderr', message: string, truncated: boolean): void;
  /** The chunk is done: its entries reach the disk now, or within SPOOL_QUIET_MS during a burst. */
  commit(): void;
  /** Writes everything recorded so far to the spool now. */
  flush(): void;
  /** One of the agent's own entries, written to disk at once. */
  event(event: AgentEvent, level: LogLevel, message: string, metadata?: Record<string, unknown>): void;
  readonly lines: Readonly<Record<LogSource, number>>;
  /** Entries that could not be written to the spool. */
  readonly lost: number;
}

const SOURCES = ['stdout', 'stderr', 'agent'] as const;
const LINE_NUMBER_KEY = Buffer.from(',"lineNumber":');
const CLOSE_BRACE = 0x7d;
const NEWLINE = 0x0a;

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
const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export function createRecorder(options: RecorderOptions): Recorder {
  const { spool, redact, maxMessageLength } = options;
  const minRank = levelRank(options.minLevel);
  const ranks = Object.fromEntries(LEVELS.map((l) => [l, levelRank(l)])) as Record<LogLevel, number>;
  const heads = Object.fromEntries(
    SOURCES.map((s) => [s, Object.fromEntries(LEVELS.map((l) => [l, Buffer.from(`{"source":"${s}","level":"${l}","message":`)]))]),
  ) as Record<LogSource, Record<LogLevel, Buffer>>;
  const runIdPiece = `","runId":${JSON.stringify(options.runId)},"runSeq":`;

  const lineNumbers: Record<LogSource, number> = { stdout: 0, stderr: 0, agent: 0 };
  let nextSeq = 1;
  let lost = 0;
  let out = Buffer.allocUnsafe(BUFFER_BYTES);
  let used = 0;
  let count = 0;
  let timer: NodeJS.Timeout | undefined;
  /** `,"timestamp":"…","runId":"…","runSeq":` for the chunk being read. */
  const tail = Buffer.alloc(64 + runIdPiece.length);
  let tailLength = 0;

  const stamp = (): void => {
    tailLength = tail.write(`,"timestamp":"${new Date().toISOString()}${runIdPiece}`, 'latin1');
  };
  stamp();

  /** Ends a quiet period: writes what gathered during it, and starts another if there was any. */
  const quietEnded = (): void => {
    timer = undefined;
    if (count === 0) return;
    write();
    timer = setTimeout(quietEnded, SPOOL_QUIET_MS);
  };

  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    write();
  };

  const write = (): void => {
    if (count === 0) return;
    const written = spool.append(out.subarray(0, used), count);
    const firstSeq = nextSeq - count;
    const entries = count;
    used = 0;
    count = 0;
    if (written.ok) {
      options.onAppended();
      return;
    }
    // runSeq must stay gapless in the spool (an entry's position is its runSeq): take them back.
    nextSeq = firstSeq;
    lost += entries;
    options.onDiskError(written.reason, entries);
  };

  const push = (source: LogSource, level: LogLevel, message: string, lineNumber: number, metadata: string): void => {
    const escaped = JSON.stringify(message);
    const head = heads[source][level];
    // UTF-16 code units take at most 3 bytes of UTF-8 each; numbers at most 16 digits.
    const worst = head.length + 3 * (escaped.length + metadata.length) + LINE_NUMBER_KEY.length + tailLength + 40;
    if (used + worst > out.length) {
      write();
      if (worst > out.length) out = Buffer.allocUnsafe(worst);
    }
    used += head.copy(out, used);
    used += out.write(escaped, used);
    used += LINE_NUMBER_KEY.copy(out, used);
    used = writeDecimal(out, used, lineNumber);
    used += tail.copy(out, used, 0, tailLength);
    used = writeDecimal(out, used, nextSeq);
    if (metadata.length > 0) used += out.write(metadata, used);
    out[used++] = CLOSE_BRACE;
    out[used++] = NEWLINE;
    count++;
    nextSeq++;
  };

  return {
    beginChunk: stamp,
    line(source, raw, truncatedBySplitter) {
      const lineNumber = ++lineNumbers[source];
      const level = detectLevel(raw);
      if (ranks[level] < minRank) return;
      let message = redact(raw);
      let truncated = truncatedBySplitter;
      if (message.length > maxMessageLength) {
        message = cut(message, maxMessageLength);
        truncated = true;
      }
      push(source, level, message, lineNumber, truncated ? ',"metadata":{"truncated":true}' : '');
    },
    commit() {
      if (count === 0 || timer !== undefined) return;
      write();
      timer = setTimeout(quietEnded, SPOOL_QUIET_MS);
    },
    flush,
    event(event, level, message, metadata = {}) {
      stamp();
      const lineNumber = ++lineNumbers.agent;
      push('agent', level, redact(message), lineNumber, `,"metadata":${JSON.stringify({ event, ...metadata })}`);
      flush();
    },
    get lines() {
      return lineNumbers;
    },
    get lost() {
      return lost;
    },
  };
}
