// A task's status, derived from its agent's `started` and `exited` entries (PROTOCOL.md §1, §4).
import type { NormalizedLogRequest, TaskStatus } from '@keruta/protocol';

export interface TaskState {
  status: TaskStatus;
  exitCode: number | undefined;
  startedAtMs: number | undefined;
  finishedAtMs: number | undefined;
}

export const UNKNOWN_TASK_STATE: TaskState = {
  status: 'unknown',
  exitCode: undefined,
  startedAtMs: undefined,
  finishedAtMs: undefined,
};

/** The state after `entry`, or undefined when the entry is not a status event. */
export function applyStatusEvent(state: TaskState, entry: NormalizedLogRequest): TaskState | undefined {
  if (entry.source !== 'agent') return undefined;
  const event = entry.metadata['event'];
  if (event === 'started') {
    // A new run of the task: what the previous run ended with no longer describes it.
    return { status: 'running', exitCode: undefined, startedAtMs: entry.timeMs, finishedAtMs: undefined };
  }
  const exitCode = entry.metadata['exitCode'];
  if (event === 'exited' && typeof exitCode === 'number' && Number.isInteger(exitCode)) {
    return {
      status: exitCode === 0 ? 'succeeded' : 'failed',
      exitCode,
      startedAtMs: state.startedAtMs,
      finishedAtMs: entry.timeMs,
    };
  }
  if (event === 'lost') {
    // The agent died before the script ended (its next run or `keruta-agent flush` says so): the
    // run failed under keruta's watch, whatever the script would have returned.
    return { status: 'failed', exitCode: undefined, startedAtMs: state.startedAtMs, finishedAtMs: entry.timeMs };
  }
  return undefined;
}

export function sameTaskState(a: TaskState, b: TaskState): boolean {
  return (
    a.status === b.status &&
    a.exitCode === b.exitCode &&
    a.startedAtMs === b.startedAtMs &&
    a.finishedAtMs === b.finishedAtMs
  );
}
