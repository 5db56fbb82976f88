// How `keruta logs` ends for the task it watched: the exit status for how the task stands
// (--exit-status), the one for Ctrl-C and SIGTERM, and the last notice of a follow.
import type { TaskStatus, TaskSummary } from '@keruta/protocol';

/**
 * The followed task failed. Not 1 (the server refused or could not be reached) nor 2 (usage), so
 * that a script tells "the task failed" from "could not watch it"; the task's own exit code is in
 * the last notice, as it can be 1, 2, or absent (an agent that died).
 */
export const EXIT_TASK_FAILED = 3;

/** With --exit-status, without -f: the task had not finished (running, or `unknown`: lines posted without an agent). */
export const EXIT_TASK_UNFINISHED = 4;

export function isFinished(status: TaskStatus): boolean {
  return status === 'succeeded' || status === 'failed';
}

export function finishedText(task: TaskSummary): string {
  return `task ${task.taskId} ${task.status}${task.exitCode === undefined ? '' : ` with exit code ${task.exitCode}`}`;
}

export function abortExitCode(signal: AbortSignal): number {
  return signal.reason === 'SIGTERM' ? 143 : 130;
}

/** The exit status for how the task stands (--exit-status): 0 succeeded, 3 failed, 4 not finished. */
export function taskExitCode(task: TaskSummary): number {
  if (task.status === 'failed') return EXIT_TASK_FAILED;
  return task.status === 'succeeded' ? 0 : EXIT_TASK_UNFINISHED;
}

/** A follow that ended on the task's end (or on Ctrl-C meanwhile). */
export function finishedExitCode(task: TaskSummary, signal: AbortSignal, exitStatus: boolean): number {
  if (signal.aborted) return abortExitCode(signal);
  return exitStatus ? taskExitCode(task) : 0;
}
