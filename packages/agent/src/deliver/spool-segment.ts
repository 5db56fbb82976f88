// One segment file of a spooled run: entries as lines of JSON, appended at its end and read back
// in batches framed for the transport. The run's list of them (spool-segments.ts) keeps their order.
import { fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { Framing } from './transport.js';

const NEWLINE = 10;
const COMMA = 44;

export interface Segment {
  readonly firstSeq: number;
  readonly path: string;
  count: number;
  bytes: number;
  fd: number | undefined;
}

/** Where an entry starts, remembered so that a resend after a reconnect needs no scan. */
export interface Position {
  readonly segment: Segment;
  readonly offset: number;
}

/** Entries read back for one batch, their JSON joined by commas between the transport's head and tail. */
export interface SpoolBatch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly count: number;
  /** head + entries + tail. */
  readonly body: Buffer;
  /** The whole buffer `body` lies in (the one passed for reuse, or a new one). */
  readonly buffer: Buffer;
}

export function fdOf(segment: Segment): number {
  segment.fd ??= openSync(segment.path, 'r');
  return segment.fd;
}

function readFully(fd: number, buffer: Buffer, at: number, length: number, position: number): void {
  for (let done = 0; done < length; ) {
    const n = readSync(fd, buffer, at + done, length - done, position + done);
    if (n <= 0) throw new Error(`spool segment shorter than expected at byte ${position + done}`);
    done += n;
  }
}

/** Opens a segment that was being appended to when its agent died: counts its whole lines, and cuts off a torn last one (no "\n"). */
export function recoverSegment(path: string, firstSeq: number): Segment {
  const fd = openSync(path, 'r+');
  const size = fstatSync(fd).size;
  const block = Buffer.allocUnsafe(1024 * 1024);
  let count = 0;
  let end = 0;
  for (let offset = 0; offset < size; ) {
    const n = readSync(fd, block, 0, Math.min(block.length, size - offset), offset);
    if (n <= 0) break;
    for (let i = block.indexOf(NEWLINE); i !== -1 && i < n; i = block.indexOf(NEWLINE, i + 1)) {
      count++;
      end = offset + i + 1;
    }
    offset += n;
  }
  if (end < size) ftruncateSync(fd, end);
  return { firstSeq, path, count, bytes: end, fd };
}

/** Byte offset of `seq` in its segment: remembered in `positions`, or found by counting lines from the start. */
export function offsetOf(segment: Segment, seq: number, positions: ReadonlyMap<number, Position>): number {
  if (seq <= segment.firstSeq) return 0;
  const known = positions.get(seq);
  if (known !== undefined && known.segment === segment) return known.offset;
  const fd = fdOf(segment);
  const block = Buffer.allocUnsafe(1024 * 1024);
  let current = segment.firstSeq;
  for (let offset = 0; offset < segment.bytes; ) {
    const n = Math.min(block.length, segment.bytes - offset);
    readFully(fd, block, 0, n, offset);
    for (let i = block.indexOf(NEWLINE); i !== -1 && i < n; i = block.indexOf(NEWLINE, i + 1)) {
      current++;
      if (current === seq) return offset + i + 1;
    }
    offset += n;
  }
  throw new Error(`runSeq ${seq} not found in spool segment ${segment.path}`);
}

/** Writes `records` (`count` whole lines) at the segment's end; on failure the segment is left as it was, whole lines. */
export function appendToSegment(segment: Segment, records: Buffer, count: number): void {
  const fd = fdOf(segment);
  try {
    // At the segment's end by position: a recovered segment's descriptor is not in append mode.
    for (let done = 0; done < records.length; ) done += writeSync(fd, records, done, records.length - done, segment.bytes + done);
  } catch (error) {
    // Take back a partial write so the segment stays whole lines (best effort: the disk is failing).
    try {
      ftruncateSync(fd, segment.bytes);
    } catch {
      // Nothing more can be done; recovery cuts a torn last line anyway.
    }
    throw error;
  }
  segment.bytes += records.length;
  segment.count += count;
}

/**
 * Up to `maxEntries` entries (about `maxBytes`) from `seq` at byte `offset` on, to the segment's
 * end at most, framed by `framing` in `reuse` when it is big enough; also where the next entry starts.
 */
export function readBatch(
  segment: Segment,
  seq: number,
  offset: number,
  maxEntries: number,
  maxBytes: number,
  framing: Framing,
  reuse: Buffer | undefined,
): { batch: SpoolBatch; next: Position } {
  const fd = fdOf(segment);
  const available = segment.bytes - offset;
  const { head, tail } = framing;
  let length = Math.min(available, maxBytes);
  for (;;) {
    const size = head.length + length + tail.length;
    const buffer = reuse !== undefined && reuse.length >= size ? reuse : Buffer.allocUnsafe(size);
    head.copy(buffer, 0);
    readFully(fd, buffer, head.length, length, offset);
    let count = 0;
    let end = -1;
    const wanted = Math.min(maxEntries, segment.firstSeq + segment.count - seq);
    // Only what was read: a reused buffer holds an older batch past it.
    const view = buffer.subarray(0, head.length + length);
    for (let i = view.indexOf(NEWLINE, head.length); i !== -1 && count < wanted; i = view.indexOf(NEWLINE, i + 1)) {
      count++;
      end = i;
      buffer[i] = COMMA;
    }
    if (count === 0) {
      // One entry larger than maxBytes: read it whole anyway (it is at most a few maxMessageLength).
      if (length >= available) throw new Error(`spool segment ${segment.path} ends inside an entry`);
      length = Math.min(available, length * 2);
      continue;
    }
    // The last entry's "\n" (now a comma) is where the tail goes.
    tail.copy(buffer, end);
    return {
      batch: { firstSeq: seq, lastSeq: seq + count - 1, count, body: buffer.subarray(0, end + tail.length), buffer },
      next: { segment, offset: offset + (end - head.length) + 1 },
    };
  }
}
