// The intake journal: everything the agent reads from the script's pipes, appended raw (or, with
// filters.excludePatterns, its complete lines masked: intake-masker.ts) to the run's directory
// by the reading thread the moment it is read, in the order it was read, and
// turned into entries by the processing thread from there. The reader never waits for the
// processing (a burst costs disk, not the script's time), memory stays bounded however far the
// processing falls behind, and a kill -9 loses nothing the agent had read: the next agent replays
// what was not yet turned into entries (intake-replay.ts).
//
// A record is a 16-byte header — payload length (u32 LE), kind (u8), 3 spare bytes, the time it
// was read (f64 LE, ms since the epoch) — and its payload. Segment files are named by the journal
// offset of their first byte (run-directory.ts) and hold whole records only; the processing thread deletes a segment
// once it has turned all of it into spooled entries and saved its own state at the segment's end.
import { closeSync, existsSync, ftruncateSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import type { AgentEvent, LogLevel } from '@keruta/protocol';
import { PRIVATE_FILE } from '../run/file-modes.js';
import { intakeSegmentPath } from '../run/run-directory.js';

export const INTAKE_STDOUT = 1;
export const INTAKE_STDERR = 2;
/** One of the agent's own events: an EventPayload as JSON. */
export const INTAKE_EVENT = 3;
/** Both pipes are closed: a last line without a newline is complete. */
export const INTAKE_END = 4;

export type IntakeKind = typeof INTAKE_STDOUT | typeof INTAKE_STDERR | typeof INTAKE_EVENT | typeof INTAKE_END;

/** An event record's payload: `{event, level, message, metadata}`. */
export interface EventPayload {
  readonly event: AgentEvent;
  readonly level: LogLevel;
  readonly message: string;
  readonly metadata: Record<string, unknown>;
  /** When it happened, if earlier than it is journaled (`exited` waits for the server's first answer). */
  readonly timeMs?: number;
}

export interface IntakeRecord {
  readonly kind: IntakeKind;
  readonly timeMs: number;
  /** A view into the reader's buffer, valid until the next call to `next()`. */
  readonly payload: Buffer;
}

/** The reader passed the end of a segment that will never grow again. */
export interface IntakeSegmentEnd {
  readonly kind: 'segment-end';
  readonly path: string;
  /** Journal offset of the next segment's first record. */
  readonly nextOffset: number;
}

const HEADER_BYTES = 16;
/** The writer starts a new segment past this size, so that processed intake is freed as it goes. */
const SEGMENT_BYTES = 4 * 1024 * 1024;
const READ_BUFFER_BYTES = 256 * 1024;

export interface IntakeWriter {
  /** Appends one record (`timeMs`: when it was read; now by default); fails only on a disk error (the record is then not in the journal at all). */
  append(kind: IntakeKind, payload?: Buffer, timeMs?: number): { ok: true } | { ok: false; reason: string };
  /** Journal offset after the last record. */
  readonly written: number;
  close(): void;
}

export function createIntakeWriter(dir: string): IntakeWriter {
  const header = Buffer.alloc(HEADER_BYTES);
  const empty = Buffer.alloc(0);
  let segmentStart = 0;
  let segmentBytes = 0;
  let fd: number | undefined = openSync(intakeSegmentPath(dir, 0), 'a', PRIVATE_FILE);

  return {
    append(kind, payload = empty, timeMs = Date.now()) {
      try {
        if (segmentBytes >= SEGMENT_BYTES) {
          if (fd !== undefined) closeSync(fd);
          fd = undefined;
          segmentStart += segmentBytes;
          segmentBytes = 0;
          fd = openSync(intakeSegmentPath(dir, segmentStart), 'a', PRIVATE_FILE);
        }
        if (fd === undefined) return { ok: false, reason: 'closed' };
        header.writeUInt32LE(payload.length, 0);
        header[4] = kind;
        header.writeDoubleLE(timeMs, 8);
        const total = HEADER_BYTES + payload.length;
        try {
          let done = writevSync(fd, [header, payload]);
          // A short write (the disk filling up): finish it, or fail and take it back below.
          while (done < total) {
            done += done < HEADER_BYTES ? writeSync(fd, header, done, HEADER_BYTES - done) : writeSync(fd, payload, done - HEADER_BYTES, total - done);
          }
        } catch (error) {
          try {
            ftruncateSync(fd, segmentBytes);
          } catch {
            // The disk is failing; a reader treats a torn last record as never written anyway.
          }
          throw error;
        }
        segmentBytes += total;
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
      }
    },
    get written() {
      return segmentStart + segmentBytes;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

export interface IntakeReader {
  /**
   * The next whole record; a segment end once a segment is read to its end and a later one
   * exists; undefined when nothing (whole) is there yet. A torn last record is never returned.
   */
  next(): IntakeRecord | IntakeSegmentEnd | undefined;
  /** Journal offset after the last record returned. */
  readonly offset: number;
  close(): void;
}

/** Reads the journal in `dir` from `fromOffset`, the start of a segment (or 0). */
export function openIntakeReader(dir: string, fromOffset: number): IntakeReader {
  let segmentStart = fromOffset;
  let path = intakeSegmentPath(dir, segmentStart);
  let fd: number | undefined;
  /** Bytes of the current segment read into `buffer` so far. */
  let filePosition = 0;
  let buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  let start = 0;
  let end = 0;

  const openCurrent = (): boolean => {
    if (fd !== undefined) return true;
    try {
      fd = openSync(path, 'r');
      return true;
    } catch {
      // Not created yet (the writer has not reached it): nothing to read.
      return false;
    }
  };

  /** Reads more of the current segment behind what is buffered; false at its (current) end. */
  const fill = (): boolean => {
    if (!openCurrent() || fd === undefined) return false;
    if (start > 0) {
      buffer.copy(buffer, 0, start, end);
      end -= start;
      start = 0;
    }
    if (end === buffer.length) {
      // One record larger than the buffer: make room for all of it.
      const bigger = Buffer.allocUnsafe(Math.max(buffer.length * 2, HEADER_BYTES + buffer.readUInt32LE(0)));
      buffer.copy(bigger, 0, 0, end);
      buffer = bigger;
    }
    const n = readSync(fd, buffer, end, buffer.length - end, filePosition);
    filePosition += n;
    end += n;
    return n > 0;
  };

  const wholeRecord = (): IntakeRecord | undefined => {
    if (end - start < HEADER_BYTES) return undefined;
    const length = buffer.readUInt32LE(start);
    if (end - start < HEADER_BYTES + length) return undefined;
    const record: IntakeRecord = {
      kind: buffer[start + 4] as IntakeKind,
      timeMs: buffer.readDoubleLE(start + 8),
      payload: buffer.subarray(start + HEADER_BYTES, start + HEADER_BYTES + length),
    };
    start += HEADER_BYTES + length;
    return record;
  };

  return {
    next() {
      for (;;) {
        const record = wholeRecord();
        if (record !== undefined) return record;
        if (fill()) continue;
        // At the end of what the segment holds now. If the next one exists the writer has left this
        // one for good; what it wrote before moving on is readable now, so read to the end once more.
        // (An empty segment is the writer's current one: it moves on only past SEGMENT_BYTES.)
        if (filePosition === 0) return undefined;
        const nextPath = intakeSegmentPath(dir, segmentStart + filePosition);
        if (!existsSync(nextPath)) return undefined;
        if (fill()) continue;
        if (fd !== undefined) closeSync(fd);
        fd = undefined;
        const finished = path;
        // Bytes left over here are a torn record that a failed write left behind; they are skipped.
        segmentStart += filePosition;
        path = nextPath;
        filePosition = 0;
        start = 0;
        end = 0;
        return { kind: 'segment-end', path: finished, nextOffset: segmentStart };
      }
    },
    get offset() {
      return segmentStart + filePosition - (end - start);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
