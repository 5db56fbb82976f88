// A task's stored log over REST: where a --since/--tail window starts, and every entry from
// there up to a fixed seq, paged with the `afterSeq` cursor.
import type { TaskSummary } from '@keruta/protocol';
import type { LogFilter } from '../log-query.js';
import type { RestClient } from '../rest-client.js';
import type { EntryPrinter } from './entry-printer.js';

export interface HistoryScope {
  readonly taskId: string;
  readonly filter: LogFilter;
  /** Only entries after this seq. */
  readonly since: number | undefined;
  /** Only the last N matching entries. */
  readonly tail: number | undefined;
}

/** Entries printed between flushes, so a slow terminal or pipe holds back the reading. */
const FLUSH_EVERY = 1000;

/** The seq to read after: `since`, or the one just before the last `tail` matching entries, whichever is later. */
export async function historyStart(rest: RestClient, scope: HistoryScope, upToSeq: number): Promise<number> {
  const since = scope.since ?? 0;
  if (scope.tail === undefined) return since;
  if (scope.tail === 0) return Math.max(since, upToSeq);
  const matching = (await rest.getLogs(scope.taskId, { ...scope.filter, size: 1 })).totalElements;
  const skip = matching - scope.tail;
  if (skip <= 0) return since;
  // With pages of one entry, page `skip - 1` is the entry just before the window.
  const before = (await rest.getLogs(scope.taskId, { ...scope.filter, page: skip - 1, size: 1 })).content[0];
  return Math.max(since, before?.seq ?? 0);
}

/** Prints every matching entry with afterSeq < seq ≤ upToSeq, in order; stops early when `signal` is aborted. */
export async function printRange(
  rest: RestClient,
  printer: EntryPrinter,
  range: { taskId: string; filter: LogFilter; afterSeq: number; upToSeq: number },
  signal: AbortSignal,
): Promise<void> {
  if (range.afterSeq >= range.upToSeq) return;
  printer.expectAfter(range.afterSeq);
  let sinceFlush = 0;
  for await (const entry of rest.iterateLogs(range.taskId, { ...range.filter, afterSeq: range.afterSeq, upToSeq: range.upToSeq })) {
    if (signal.aborted) break;
    printer.print(entry);
    if (++sinceFlush >= FLUSH_EVERY) {
      sinceFlush = 0;
      await printer.flush();
    }
  }
  await printer.flush();
}

/**
 * `keruta logs` without -f: the stored log as it stands when the command starts (later lines are
 * left for the next run, or for -f). An unknown task is TASK_NOT_FOUND. Resolves with the task
 * as it stood then.
 */
export async function printHistory(rest: RestClient, printer: EntryPrinter, scope: HistoryScope, signal: AbortSignal): Promise<TaskSummary> {
  let afterSeq: number;
  let task: TaskSummary;
  if (scope.tail === undefined) {
    task = await rest.getTask(scope.taskId);
    afterSeq = scope.since ?? 0;
  } else {
    // Count the window first and take the end after it, so that the window holds at least `tail` lines.
    const start = await historyStart(rest, scope, Number.MAX_SAFE_INTEGER);
    task = await rest.getTask(scope.taskId);
    afterSeq = scope.tail === 0 ? task.lastSeq : start;
  }
  await printRange(rest, printer, { taskId: scope.taskId, filter: scope.filter, afterSeq, upToSeq: task.lastSeq }, signal);
  return task;
}
