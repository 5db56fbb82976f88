// Who may read and delete a spooled run: one lock file per owner, named by its pid and start time,
// so a lock left by a killed agent is recognised as stale without anyone cleaning up by hand.
// An owner announces itself first and then looks for other live owners; if there is one it backs
// off. Two agents that race may both back off, but two can never both own a run.
import { closeSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE } from './file-modes.js';

const LOCK_PREFIX = 'lock.';

export interface RunLock {
  release(): void;
}

/** The start time of a process in clock ticks since boot (Linux), so a reused pid is not mistaken for its owner. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in field 2 may contain spaces and parentheses; the fields after it do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    // No /proc (not Linux) or the process is gone: liveness then rests on the pid alone.
    return undefined;
  }
}

function isAlive(pid: number, startTime: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (startTime === '-') return true;
  const current = startTimeOf(pid);
  return current === undefined || current === startTime;
}

const ownName = `${LOCK_PREFIX}${process.pid}.${startTimeOf(process.pid) ?? '-'}`;

/** True when the lock file name belongs to a live process other than this one. */
function isLiveOther(name: string): boolean {
  if (name === ownName) return false;
  const [pid, startTime] = name.slice(LOCK_PREFIX.length).split('.');
  const n = Number(pid);
  if (!Number.isSafeInteger(n) || n <= 0 || startTime === undefined) return false;
  return isAlive(n, startTime);
}

/** Takes the run in `dir`, or returns undefined while another live agent holds it. Stale locks are removed. */
export function acquireRunLock(dir: string): RunLock | undefined {
  const own = join(dir, ownName);
  closeSync(openSync(own, 'w', PRIVATE_FILE));
  let busy = false;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(LOCK_PREFIX) || name === ownName) continue;
    if (isLiveOther(name)) busy = true;
    else removeQuietly(join(dir, name));
  }
  if (busy) {
    removeQuietly(own);
    return undefined;
  }
  return { release: () => removeQuietly(own) };
}

/** True when some live agent (this one included) holds a lock in `dir`. */
export function isLocked(dir: string): boolean {
  try {
    return readdirSync(dir).some((name) => name === ownName || (name.startsWith(LOCK_PREFIX) && isLiveOther(name)));
  } catch {
    // The directory went away: nobody holds it.
    return false;
  }
}

export function isLockFile(name: string): boolean {
  return name.startsWith(LOCK_PREFIX);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (another agent removed the same stale lock): nothing to do.
  }
}
