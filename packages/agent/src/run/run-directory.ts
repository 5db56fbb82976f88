// A run's directory and everything in it, in this one place: its name in the spool directory
// (`<taskId>~<runId>`), its files, and who may hold it. Nothing else joins these names.
//   run.json                  the run (RunInfo), whole or not at all
//   lock.<pid>.<start time>   one per owner: the agent writing or delivering the run
//   intake-<offset>.bin       the intake journal's segments, by the journal offset of their first byte (intake.ts)
//   intake-state.json         the processing state at the last intake segment boundary (intake-processor.ts)
//   <runSeq>.jsonl            the spool's segments, by the runSeq of their first entry (spool.ts)
//   acked                     up to which runSeq the server acknowledged, written when the run is released
// A file written whole appears by rename from `<name>.tmp`, so a reader never sees half of one.
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { ProcessingSettings, ProcessingState } from '../process/processing-types.js';
import { PRIVATE_DIR, PRIVATE_FILE } from './file-modes.js';
import { isLiveStamp, ownStamp } from './process-liveness.js';

export interface RunInfo {
  readonly taskId: string;
  readonly runId: string;
  readonly createdAt: string;
  /** How the run's intake is turned into entries (absent in runs of agents without an intake). */
  readonly processing?: ProcessingSettings;
}

const RUN_INFO = 'run.json';
const ACKED = 'acked';
const PROCESSING_STATE = 'intake-state.json';
const LOCK_PREFIX = 'lock.';
const TEMPORARY = '.tmp';
const SPOOL_SEGMENT = /^(\d{12})\.jsonl$/;
const INTAKE_SEGMENT = /^intake-(\d{15})\.bin$/;

/** Where runs go when the configured spool directory cannot be written. */
export function fallbackSpoolDir(): string {
  return join(tmpdir(), `keruta-spool-${userInfo().username}`);
}

/** The spool directory a run directory is in. */
export function spoolDirOf(dir: string): string {
  return dirname(dir);
}

/** Writes `text` to `path` whole or not at all. */
function writeWhole(path: string, text: string): void {
  writeFileSync(`${path}${TEMPORARY}`, text, { mode: PRIVATE_FILE });
  renameSync(`${path}${TEMPORARY}`, path);
}

export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (another agent removed the same file): nothing to do.
  }
}

/** Makes a new run's directory, locked by this process. Throws (with the errno) when it cannot be written. */
export function createRunDirectory(spoolDir: string, info: RunInfo): string {
  const dir = join(spoolDir, `${info.taskId}~${info.runId}`);
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  // An existing directory keeps its mode; the run's own is new and made private here in any case.
  chmodSync(dir, PRIVATE_DIR);
  const lock = acquireRunLock(dir);
  if (lock === undefined) throw new Error(`spool run ${dir} is held by another agent`);
  writeWhole(join(dir, RUN_INFO), JSON.stringify(info));
  return dir;
}

export function readRunInfo(dir: string): RunInfo | undefined {
  try {
    const value = JSON.parse(readFileSync(join(dir, RUN_INFO), 'utf8')) as Partial<RunInfo>;
    if (typeof value.taskId === 'string' && typeof value.runId === 'string' && typeof value.createdAt === 'string') {
      const info = { taskId: value.taskId, runId: value.runId, createdAt: value.createdAt };
      return value.processing === undefined ? info : { ...info, processing: value.processing };
    }
  } catch {
    // Missing or unreadable run.json: not a run (or one killed before it started).
  }
  return undefined;
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

/** A run directory whose agent died before writing run.json holds no entries; remove it. */
function removeAbandoned(dir: string): void {
  try {
    if (readdirSync(dir).every((name) => name.startsWith(LOCK_PREFIX) || name.endsWith(TEMPORARY))) rmSync(dir, { recursive: true, force: true });
  } catch {
    // Not a directory, or already gone: leave it.
  }
}

/** A run that is all delivered: nothing of it is kept. */
export function removeRunDirectory(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

// Who may read and delete a run: one lock file per owner, named by its stamp (process-liveness.ts),
// so a lock left by a killed agent is recognised as stale without anyone cleaning up by hand. An
// owner announces itself first and then looks for other live owners; if there is one it backs off.
// Two agents that race may both back off, but two can never both own a run.

export interface RunLock {
  release(): void;
}

const ownLockName = (): string => `${LOCK_PREFIX}${ownStamp()}`;

/** True when the lock file name belongs to a live process other than this one. */
function isLiveOther(name: string): boolean {
  return name !== ownLockName() && isLiveStamp(name.slice(LOCK_PREFIX.length));
}

/** Takes the run in `dir`, or returns undefined while another live agent holds it. Stale locks are removed. */
export function acquireRunLock(dir: string): RunLock | undefined {
  const ownName = ownLockName();
  const own = join(dir, ownName);
  closeSync(openSync(own, 'w', PRIVATE_FILE));
  let busy = false;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(LOCK_PREFIX) || name === ownName) continue;
    if (isLiveOther(name)) busy = true;
    else unlinkQuietly(join(dir, name));
  }
  if (busy) {
    unlinkQuietly(own);
    return undefined;
  }
  return { release: () => unlinkQuietly(own) };
}

/** True when some live agent (this one included) holds a lock in `dir`. */
export function isLocked(dir: string): boolean {
  try {
    return readdirSync(dir).some((name) => name === ownLockName() || (name.startsWith(LOCK_PREFIX) && isLiveOther(name)));
  } catch {
    // The directory went away: nobody holds it.
    return false;
  }
}

/** The files in `dir` whose names `pattern` matches, by the number its first group holds, in order. */
function numberedFiles(dir: string, pattern: RegExp): { number: number; path: string }[] {
  return readdirSync(dir)
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((f): f is { name: string; match: RegExpExecArray } => f.match !== null)
    .map((f) => ({ number: Number(f.match[1]), path: join(dir, f.name) }))
    .sort((a, b) => a.number - b.number);
}

export function spoolSegmentPath(dir: string, firstSeq: number): string {
  return join(dir, `${String(firstSeq).padStart(12, '0')}.jsonl`);
}

/** The spool's segments in `dir`, by the runSeq of their first entry. */
export function listSpoolSegments(dir: string): { firstSeq: number; path: string }[] {
  return numberedFiles(dir, SPOOL_SEGMENT).map(({ number, path }) => ({ firstSeq: number, path }));
}

/** Up to which runSeq the server acknowledged the run's entries; 0 when that is not on record. */
export function readAckedSeq(dir: string): number {
  try {
    return Number(readFileSync(join(dir, ACKED), 'utf8').trim()) || 0;
  } catch {
    // No record of acknowledgements (the agent was killed): resend all; the server drops duplicates.
    return 0;
  }
}

export function writeAckedSeq(dir: string, seq: number): void {
  writeWhole(join(dir, ACKED), String(seq));
}

export function intakeSegmentPath(dir: string, offset: number): string {
  return join(dir, `intake-${String(offset).padStart(15, '0')}.bin`);
}

/** The intake segments in `dir`, by their first offset. */
export function listIntakeSegments(dir: string): { offset: number; path: string }[] {
  try {
    return numberedFiles(dir, INTAKE_SEGMENT).map(({ number, path }) => ({ offset: number, path }));
  } catch {
    // The run directory is gone: no intake.
    return [];
  }
}

export function removeIntake(dir: string): void {
  for (const { path } of listIntakeSegments(dir)) unlinkQuietly(path);
}

/** Saves the processing state at a segment boundary, whole or not at all. */
export function saveProcessingState(dir: string, state: ProcessingState): void {
  writeWhole(join(dir, PROCESSING_STATE), JSON.stringify(state));
}

/** The last saved state; undefined when none was saved (the intake starts at offset 0). */
export function readProcessingState(dir: string): ProcessingState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, PROCESSING_STATE), 'utf8')) as ProcessingState;
  } catch {
    // None saved yet: the processing of this run never left its first segment.
    return undefined;
  }
}

export function removeProcessingState(dir: string): void {
  unlinkQuietly(join(dir, PROCESSING_STATE));
}
