// The spool: every entry of a run, appended to disk before it is sent, kept until the server has
// acknowledged it, in segment files of the run's directory (run-directory.ts) named by the runSeq of
// their first entry, one entry's JSON per line (the exact bytes that go on the wire). A segment is
// deleted once all of it is acknowledged. Nothing but appends touches a segment, so a kill -9 can
// at worst leave a torn last line, which recovery ignores.
import { acquireRunLock, createRunDirectory, listIntakeSegments, readAckedSeq, readRunInfo, removeRunDirectory, writeAckedSeq, type RunInfo, type RunLock } from '../run/run-directory.js';
import { appendToSegment, type Segment, type SpoolBatch } from './spool-segment.js';
import { createSpoolSegments, recoverSegments } from './spool-segments.js';
import type { Framing } from './transport.js';

export type { SpoolBatch } from './spool-segment.js';

export interface RunSpool extends RunInfo {
  readonly dir: string;
  /** runSeq of the last entry written (0: none yet). */
  readonly lastSeq: number;
  /** Every entry up to this runSeq is acknowledged. */
  readonly ackedSeq: number;
  /** No more entries will be appended (the run ended, or it is a recovered one). */
  readonly sealed: boolean;
  /** Appends `count` entries, each a line of JSON ending in "\n". Fails only on a disk error. */
  append(records: Buffer, count: number): { ok: true } | { ok: false; reason: string };
  /**
   * Up to `maxEntries` entries (and about `maxBytes`) from `fromSeq` on, fewer at a segment's end,
   * framed by `framing`, in `reuse` when it is big enough; undefined when none are written yet.
   */
  read(fromSeq: number, maxEntries: number, maxBytes: number, framing: Framing, reuse?: Buffer): SpoolBatch | undefined;
  acknowledge(upToSeq: number): void;
  /**
   * The next entry appended is `seq` (a replay resuming after entries that were acknowledged and
   * deleted): what lies before it counts as acknowledged.
   */
  resumeAt(seq: number): void;
  seal(): void;
  /** Releases the run; deletes it when everything is acknowledged. Returns the entries still kept. */
  close(): number;
}

/** The spool of a new run whose directory this process made (in any of its threads). */
export function openNewRunSpool(dir: string, info: RunInfo): RunSpool {
  const lock = acquireRunLock(dir);
  if (lock === undefined) throw new Error(`spool run ${dir} is held by another agent`);
  return openRun(dir, info, [], false, lock);
}

/** Starts the spool of a new run. Throws (with the errno) when the directory cannot be written. */
export function createRunSpool(spoolDir: string, info: RunInfo): RunSpool {
  return openNewRunSpool(createRunDirectory(spoolDir, info), info);
}

/** Takes a spooled run over for delivery; undefined while a live agent holds it or when it is gone. */
export function claimRun(dir: string): RunSpool | undefined {
  let lock: RunLock | undefined;
  try {
    lock = acquireRunLock(dir);
  } catch {
    // The run was deleted between listing and claiming: its lines were delivered.
    return undefined;
  }
  if (lock === undefined) return undefined;
  const info = readRunInfo(dir);
  if (info === undefined) {
    lock.release();
    return undefined;
  }
  const segments = recoverSegments(dir);
  const acked = readAckedSeq(dir);
  const spool = openRun(dir, info, segments, true, lock);
  spool.acknowledge(acked);
  return spool;
}

function openRun(dir: string, info: RunInfo, recovered: Segment[], sealed: boolean, lock: RunLock): RunSpool {
  const segments = createSpoolSegments(dir, recovered);
  let ackedSeq = 0;
  let isSealed = sealed;
  let lastSeq = segments.lastSeq;

  return {
    ...info,
    dir,
    get lastSeq() {
      return lastSeq;
    },
    get ackedSeq() {
      return ackedSeq;
    },
    get sealed() {
      return isSealed;
    },
    append(records, count) {
      if (count === 0) return { ok: true };
      try {
        appendToSegment(segments.appendTarget(lastSeq), records, count);
        lastSeq += count;
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
      }
    },
    read(fromSeq, maxEntries, maxBytes, framing, reuse) {
      if (fromSeq > lastSeq) return undefined;
      return segments.read(fromSeq, maxEntries, maxBytes, framing, reuse);
    },
    acknowledge(upToSeq) {
      if (upToSeq <= ackedSeq) return;
      ackedSeq = Math.min(upToSeq, lastSeq);
      segments.dropAcknowledged(ackedSeq, isSealed);
    },
    resumeAt(seq) {
      if (seq - 1 <= lastSeq) return;
      lastSeq = seq - 1;
      ackedSeq = Math.max(ackedSeq, lastSeq);
    },
    seal() {
      isSealed = true;
      segments.dropAcknowledged(ackedSeq, isSealed);
    },
    close() {
      const kept = lastSeq - ackedSeq;
      segments.close();
      // An intake not yet turned into entries is still to be sent: the run stays.
      if (kept === 0 && isSealed && listIntakeSegments(dir).length === 0) {
        removeRunDirectory(dir);
        return 0;
      }
      if (ackedSeq > 0) writeAckedSeq(dir, ackedSeq);
      lock.release();
      return kept;
    },
  };
}
