// The segment files of one run's spool (spool-segment.ts is one of them), in runSeq order: the one
// to append to, the one an entry is in, where known entries start, and deleting the segments whose
// entries are all acknowledged. A segment is closed and a new one started past 8 MiB, so that
// acknowledged data is freed as it goes.
import { closeSync, openSync, statSync } from 'node:fs';
import { PRIVATE_FILE } from '../run/file-modes.js';
import { listSpoolSegments, spoolSegmentPath, unlinkQuietly } from '../run/run-directory.js';
import { offsetOf, readBatch, recoverSegment, type Position, type Segment, type SpoolBatch } from './spool-segment.js';
import type { Framing } from './transport.js';

/** A segment is closed and a new one started past this size, so acknowledged data is freed as it goes. */
const SEGMENT_BYTES = 8 * 1024 * 1024;

export interface SpoolSegments {
  /** runSeq of the last entry the segments hold (0: none). */
  readonly lastSeq: number;
  /** The segment to append the entry after `lastSeq` to: the last, unless it is full or does not end at `lastSeq`. */
  appendTarget(lastSeq: number): Segment;
  /** Up to `maxEntries` entries (about `maxBytes`) from `fromSeq` on, to its segment's end at most; undefined when no segment holds it. */
  read(fromSeq: number, maxEntries: number, maxBytes: number, framing: Framing, reuse: Buffer | undefined): SpoolBatch | undefined;
  /** Deletes the segments wholly acknowledged up to `ackedSeq`, but the last while more may be appended to it. */
  dropAcknowledged(ackedSeq: number, sealed: boolean): void;
  /** Closes the segments' files (they are opened again when read). */
  close(): void;
}

export function createSpoolSegments(dir: string, segments: Segment[]): SpoolSegments {
  /** Where known entries start, so that a resend after a reconnect needs no scan. */
  const positions = new Map<number, Position>();
  const segmentOf = (seq: number): Segment | undefined => segments.find((segment) => seq < segment.firstSeq + segment.count);

  return {
    get lastSeq() {
      const last = segments.at(-1);
      return last === undefined ? 0 : last.firstSeq + last.count - 1;
    },
    appendTarget(lastSeq) {
      const current = segments.at(-1);
      if (current !== undefined && current.bytes < SEGMENT_BYTES && current.firstSeq + current.count === lastSeq + 1) return current;
      const firstSeq = lastSeq + 1;
      const path = spoolSegmentPath(dir, firstSeq);
      const segment: Segment = { firstSeq, path, count: 0, bytes: 0, fd: openSync(path, 'a+', PRIVATE_FILE) };
      segments.push(segment);
      return segment;
    },
    read(fromSeq, maxEntries, maxBytes, framing, reuse) {
      const segment = segmentOf(fromSeq);
      if (segment === undefined) return undefined;
      const seq = Math.max(fromSeq, segment.firstSeq);
      const { batch, next } = readBatch(segment, seq, offsetOf(segment, seq, positions), maxEntries, maxBytes, framing, reuse);
      positions.set(batch.lastSeq + 1, next);
      return batch;
    },
    dropAcknowledged(ackedSeq, sealed) {
      while (segments.length > 0) {
        const first = segments[0] as Segment;
        const isCurrent = segments.length === 1 && !sealed;
        if (first.firstSeq + first.count - 1 > ackedSeq || isCurrent) break;
        if (first.fd !== undefined) closeSync(first.fd);
        unlinkQuietly(first.path);
        segments.shift();
      }
      for (const seq of positions.keys()) if (seq <= ackedSeq) positions.delete(seq);
    },
    close() {
      for (const segment of segments) {
        if (segment.fd !== undefined) closeSync(segment.fd);
        segment.fd = undefined;
      }
    },
  };
}

/** The segments a run's earlier agent left in `dir`; empty ones are deleted. */
export function recoverSegments(dir: string): Segment[] {
  const files = listSpoolSegments(dir);
  const segments: Segment[] = [];
  for (const [i, file] of files.entries()) {
    const next = files[i + 1];
    // Only the last segment was being appended to, so only it can end in a torn record and needs
    // counting; the others hold exactly the entries up to the next one's first runSeq.
    const segment =
      next !== undefined && next.firstSeq > file.firstSeq
        ? { firstSeq: file.firstSeq, path: file.path, count: next.firstSeq - file.firstSeq, bytes: statSync(file.path).size, fd: undefined }
        : recoverSegment(file.path, file.firstSeq);
    if (segment.count > 0) segments.push(segment);
    else unlinkQuietly(segment.path);
  }
  return segments;
}
