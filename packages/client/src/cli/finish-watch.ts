// Whether the followed task has finished, asked after each subscription and each `task` event,
// one question at a time; once it has, the follow finishes (and asks no more), as it does on Ctrl-C.
import type { TaskSummary } from '@keruta/protocol';
import type { RestClient } from '../rest-client.js';
import { isFinished } from './task-exit.js';

export interface FinishWatch {
  /** Asks once the questions before have been answered. */
  check(): void;
  /** The follow is ending: the task finished, or `stop` was called. */
  readonly finishing: boolean;
  /** The follow ends for another reason (Ctrl-C): asks no more. */
  stop(): void;
}

export function createFinishWatch(options: {
  rest: RestClient;
  taskId: string;
  /** The task has finished: prints what is left and ends the follow. */
  finish(task: TaskSummary): Promise<void>;
  /** Finishing failed. */
  fail(error: Error): void;
}): FinishWatch {
  let finishing = false;
  let checks = Promise.resolve();

  const checkFinished = async (): Promise<void> => {
    if (finishing) return;
    let task: TaskSummary;
    try {
      task = await options.rest.getTask(options.taskId);
    } catch {
      // Not started yet (TASK_NOT_FOUND) or the server went away again: the next `subscribed`
      // or `task` event asks again.
      return;
    }
    if (!isFinished(task.status) || finishing) return;
    finishing = true;
    await options.finish(task);
  };

  return {
    check() {
      checks = checks.then(checkFinished).catch((error: unknown) => options.fail(error instanceof Error ? error : new Error(String(error))));
    },
    get finishing() {
      return finishing;
    },
    stop() {
      finishing = true;
    },
  };
}
