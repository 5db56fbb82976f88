// The spool: every entry of a run, appended to disk before it is sent, kept until the server has
// acknowledged it. A run is a directory `<taskId>~<runId>` holding run.json, a lock per owner and
// segment files named by the runSeq of their first entry, one entry's JSON per line (the exact
// bytes that go on the wire). A segment is deleted once all of it is acknowledged. Nothing but
// appends touches a segment, so a kill -9 can at worst leave a torn last line, which recovery ignores.
import {
  chmodSync,
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_DIR, PRIVATE_FILE } from './file-modes.js';
import { listIntakeSegments } from './intake.js';
import type { ProcessingSettings } from './intake-processor.js';
import { acquireRunLock, isLocked, isLockFile, type RunLock } from './spool-lock.js';
import { appendToSegment, NEWLINE, offsetOf, readBatch, type Position, type Segment, type SpoolBatch } from './spool-segment.js';
import type { Framing } from './transport.js';

export type { SpoolBatch } from './spool-segment.js';

/** A segment is closed and a new one started past this size, so acknowledged data is freed as it goes. */
const SEGMENT_BYTES = 8 * 1024 * 1024;
const SEGMENT_NAME = /^(\d{12})\.jsonl$/;

export interface RunInfo {
  readonly taskId: string;
  readonly runId: string;
  readonly createdAt: string;
  /** How the run's intake is turned into entries (absent in runs of agents without an intake). */
  readonly processing?: ProcessingSettings;
}

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

const runJson = (dir: string) => join(dir, 'run.json');
const ackedFile = (dir: string) => join(dir, 'acked');
const segmentName = (firstSeq: number) => `${String(firstSeq).padStart(12, '0')}.jsonl`;

function runDirName(taskId: string, runId: string): string {
  return `${taskId}~${runId}`;
}

/** Makes a new run's directory, locked by this process. Throws (with the errno) when it cannot be written. */
export function createRunDirectory(spoolDir: string, info: RunInfo): string {
  const dir = join(spoolDir, runDirName(info.taskId, info.runId));
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  // An existing directory keeps its mode; the run's own is new and made private here in any case.
  chmodSync(dir, PRIVATE_DIR);
  const lock = acquireRunLock(dir);
  if (lock === undefined) throw new Error(`spool run ${dir} is held by another agent`);
  // run.json appears whole (rename) so a reader never sees a half-written one.
  writeFileSync(`${runJson(dir)}.tmp`, JSON.stringify(info), { mode: PRIVATE_FILE });
  renameSync(`${runJson(dir)}.tmp`, runJson(dir));
  return dir;
}

/** The spool of a new run whose directory this process made (in any of its threads). */
export function openNewRunSpool(dir: string, info: RunInfo): RunSpool {
  const lock = acquireRunLock(dir);
  if (lock === undefined) throw new Error(`spool run ${dir} is held by another agent`);
  return openRun(dir, info, [], 0, false, lock);
}

/** Starts the spool of a new run. Throws (with the errno) when the directory cannot be written. */
export function createRunSpool(spoolDir: string, info: RunInfo): RunSpool {
  return openNewRunSpool(createRunDirectory(spoolDir, info), info);
}

/** The runs in `spoolDir` left by earlier agents, oldest first (locked ones included: claim to find out). */
export function listSpooledRuns(spoolDir: string): { dir: string; info: RunInfo }[] {
  let names: string[];
  try {
    names = readdirSync(spoolDir);
  } catch {
    // No spool directory yet: nothing was ever kept.
    return [];
  }
  const runs: { dir: string; info: RunInfo }[] = [];
  for (const name of names) {
    const dir = join(spoolDir, name);
    const info = readRunInfo(dir);
    if (info !== undefined) runs.push({ dir, info });
    else if (name.includes('~') && !isLocked(dir)) removeAbandoned(dir);
  }
  return runs.sort((a, b) => a.info.createdAt.localeCompare(b.info.createdAt));
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
  const files = readdirSync(dir)
    .map((name) => ({ name, match: SEGMENT_NAME.exec(name) }))
    .filter((f): f is { name: string; match: RegExpExecArray } => f.match !== null)
    .map((f) => ({ path: join(dir, f.name), firstSeq: Number(f.match[1]) }))
    .sort((a, b) => a.firstSeq - b.firstSeq);
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
  let acked = 0;
  try {
    acked = Number(readFileSync(ackedFile(dir), 'utf8').trim()) || 0;
  } catch {
    // No record of acknowledgements (the agent was killed): resend all; the server drops duplicates.
  }
  const spool = openRun(dir, info, segments, 0, true, lock);
  spool.acknowledge(acked);
  return spool;
}

function readRunInfo(dir: string): RunInfo | undefined {
  try {
    const value = JSON.parse(readFileSync(runJson(dir), 'utf8')) as Partial<RunInfo>;
    if (typeof value.taskId === 'string' && typeof value.runId === 'string' && typeof value.createdAt === 'string') {
      const info = { taskId: value.taskId, runId: value.runId, createdAt: value.createdAt };
      return value.processing === undefined ? info : { ...info, processing: value.processing };
    }
  } catch {
    // Missing or unreadable run.json: not a run (or one killed before it started).
  }
  return undefined;
}

/** A run directory whose agent died before writing run.json holds no entries; remove it. */
function removeAbandoned(dir: string): void {
  try {
    if (readdirSync(dir).every((name) => isLockFile(name) || name.endsWith('.tmp'))) rmSync(dir, { recursive: true, force: true });
  } catch {
    // Not a directory, or already gone: leave it.
  }
}

/** Counts the complete lines of a segment; a torn last line (no "\n") is cut off. */
function recoverSegment(path: string, firstSeq: number): Segment {
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

function openRun(dir: string, info: RunInfo, segments: Segment[], acked: number, sealed: boolean, lock: RunLock): RunSpool {
  let ackedSeq = acked;
  let isSealed = sealed;
  const last = segments.at(-1);
  let lastSeq = last === undefined ? 0 : last.firstSeq + last.count - 1;
  /** Where known entries start, so that a resend after a reconnect needs no scan. */
  const positions = new Map<number, Position>();

  const segmentOf = (seq: number): Segment | undefined => segments.find((segment) => seq < segment.firstSeq + segment.count);

  /** The segment to append to: the last, unless it is full or does not end at lastSeq. */
  const appendTarget = (): Segment => {
    const current = segments.at(-1);
    if (current !== undefined && current.bytes < SEGMENT_BYTES && current.firstSeq + current.count === lastSeq + 1) return current;
    const firstSeq = lastSeq + 1;
    const path = join(dir, segmentName(firstSeq));
    const segment: Segment = { firstSeq, path, count: 0, bytes: 0, fd: openSync(path, 'a+', PRIVATE_FILE) };
    segments.push(segment);
    return segment;
  };

  const dropAcknowledged = (): void => {
    while (segments.length > 0) {
      const first = segments[0] as Segment;
      const isCurrent = segments.length === 1 && !isSealed;
      if (first.firstSeq + first.count - 1 > ackedSeq || isCurrent) break;
      if (first.fd !== undefined) closeSync(first.fd);
      unlinkQuietly(first.path);
      segments.shift();
    }
    for (const seq of positions.keys()) if (seq <= ackedSeq) positions.delete(seq);
  };

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
        appendToSegment(appendTarget(), records, count);
        lastSeq += count;
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
      }
    },
    read(fromSeq, maxEntries, maxBytes, framing, reuse) {
      if (fromSeq > lastSeq) return undefined;
      const segment = segmentOf(fromSeq);
      if (segment === undefined) return undefined;
      const seq = Math.max(fromSeq, segment.firstSeq);
      const { batch, next } = readBatch(segment, seq, offsetOf(segment, seq, positions), maxEntries, maxBytes, framing, reuse);
      positions.set(batch.lastSeq + 1, next);
      return batch;
    },
    acknowledge(upToSeq) {
      if (upToSeq <= ackedSeq) return;
      ackedSeq = Math.min(upToSeq, lastSeq);
      dropAcknowledged();
    },
    resumeAt(seq) {
      if (seq - 1 <= lastSeq) return;
      lastSeq = seq - 1;
      ackedSeq = Math.max(ackedSeq, lastSeq);
    },
    seal() {
      isSealed = true;
      dropAcknowledged();
    },
    close() {
      const kept = lastSeq - ackedSeq;
      for (const segment of segments) {
        if (segment.fd !== undefined) closeSync(segment.fd);
        segment.fd = undefined;
      }
      // An intake not yet turned into entries is still to be sent: the run stays.
      if (kept === 0 && isSealed && listIntakeSegments(dir).length === 0) {
        rmSync(dir, { recursive: true, force: true });
        return 0;
      }
      if (ackedSeq > 0) {
        writeFileSync(`${ackedFile(dir)}.tmp`, String(ackedSeq), { mode: PRIVATE_FILE });
        renameSync(`${ackedFile(dir)}.tmp`, ackedFile(dir));
      }
      lock.release();
      return kept;
    },
  };
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
