// Whether the process that left a stamp (`<pid>.<start time>`) is still alive: the start time, in
// clock ticks since boot (Linux), tells a reused pid from its first owner. Where there is no /proc
// the start time is `-` and liveness rests on the pid alone.
import { readFileSync } from 'node:fs';

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

let own: string | undefined;

/** This process's stamp. */
export function ownStamp(): string {
  own ??= `${process.pid}.${startTimeOf(process.pid) ?? '-'}`;
  return own;
}

/** True when `stamp` names a live process (this one included); false for anything that is not a stamp. */
export function isLiveStamp(stamp: string): boolean {
  const [pid, startTime] = stamp.split('.');
  const n = Number(pid);
  if (!Number.isSafeInteger(n) || n <= 0 || startTime === undefined) return false;
  return isAlive(n, startTime);
}
