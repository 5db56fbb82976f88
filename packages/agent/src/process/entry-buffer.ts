// Entries' JSON (PROTOCOL.md §1), written once, straight into one reused buffer from pre-encoded
// pieces, and appended from there to the run's spool: the spool keeps exactly these bytes and
// batches are cut from them. The recorder (recorder.ts) decides what the entries say.
import type { LogLevel, LogSource } from '@keruta/protocol';

const BUFFER_BYTES = 512 * 1024;
const SOURCES = ['stdout', 'stderr', 'agent'] as const;
const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
const LINE_NUMBER_KEY = Buffer.from(',"lineNumber":');
const CLOSE_BRACE = 0x7d;
const NEWLINE = 0x0a;

/** Where entries go: the run's spool. */
export interface EntrySink {
  /** Appends `count` entries, each a line of JSON ending in "\n". */
  append(records: Buffer, count: number): { ok: true } | { ok: false; reason: string };
}

export interface EntryBuffer {
  /** What follows was read at this moment (ms since the epoch): its entries carry it as their timestamp. */
  setTime(timeMs: number): void;
  /** One entry; `metadata` is `,"metadata":{…}` or ''. */
  write(source: LogSource, level: LogLevel, message: string, lineNumber: number, runSeq: number, metadata: string): void;
  /** Appends what is written to the sink; on a disk error it stays here, to be tried again. */
  flush(): { ok: true } | { ok: false; reason: string };
  /** Entries written and not yet in the sink. */
  readonly count: number;
}

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

export function createEntryBuffer(runId: string, sink: EntrySink): EntryBuffer {
  const heads = Object.fromEntries(
    SOURCES.map((s) => [s, Object.fromEntries(LEVELS.map((l) => [l, Buffer.from(`{"source":"${s}","level":"${l}","message":`)]))]),
  ) as Record<LogSource, Record<LogLevel, Buffer>>;
  const runIdPiece = `","runId":${JSON.stringify(runId)},"runSeq":`;
  let out = Buffer.allocUnsafe(BUFFER_BYTES);
  let used = 0;
  let count = 0;
  /** `,"timestamp":"…","runId":"…","runSeq":` for what is being written. */
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
    const written = sink.append(out.subarray(0, used), count);
    if (!written.ok) return written;
    used = 0;
    count = 0;
    return written;
  };

  return {
    setTime,
    write(source, level, message, lineNumber, runSeq, metadata) {
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
      used = writeDecimal(out, used, runSeq);
      if (metadata.length > 0) used += out.write(metadata, used);
      out[used++] = CLOSE_BRACE;
      out[used++] = NEWLINE;
      count++;
    },
    flush,
    get count() {
      return count;
    },
  };
}
