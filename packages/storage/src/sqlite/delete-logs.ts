// LogStore.deleteLogs for SQLite: the task's entries go in chunks, each in an IMMEDIATE
// transaction of its own, as in the PostgreSQL store. better-sqlite3 is synchronous: deleting a
// million entries in one statement held keruta-api's event loop for 2.7 s (no ingest, no live
// line, no /health), ten million for half a minute. A chunk is tens of milliseconds, and the
// event loop turns between two.
import type { LogLevel, LogSource } from '@keruta/protocol';
import { DELETE_CHUNK_SIZE, END_OF_TIME, widenRange, type TimeRange } from '../delete-chunks.js';
import { LEVEL_COUNT_COLUMN, SOURCE_COUNT_COLUMN, type TaskRow } from '../row-mapping.js';
import type { Statements } from './statements.js';

/** Where a delete stands between two chunks. */
export interface DeleteProgress {
  readonly taskId: string;
  readonly before: number;
  /** The task's last seq when the delete began: lines appended meanwhile stay. */
  readonly upToSeq: number;
  afterSeq: number;
  deleted: number;
  /** The time range of what the chunks so far kept. */
  kept: TimeRange;
  done: boolean;
}

/**
 * The whole delete: chunk after chunk, each run by `runChunk` in its own IMMEDIATE transaction
 * (deleteChunk), with a turn of the event loop between two. Undefined for an unknown task.
 */
export async function deleteLogs(
  statements: Statements,
  taskId: string,
  beforeMs: number | undefined,
  runChunk: (progress: DeleteProgress) => void,
): Promise<number | undefined> {
  const progress = startDelete(statements, taskId, beforeMs);
  if (progress === undefined) return undefined;
  while (!progress.done) {
    runChunk(progress);
    // The event loop's turn: appends, pages and live lines go on between two chunks.
    if (!progress.done) await new Promise((resolve) => setImmediate(resolve));
  }
  return progress.deleted;
}

/**
 * Starts a delete of the task's entries with a timestamp before `beforeMs` (all without it):
 * undefined for an unknown task, or progress that is already done when nothing can match.
 */
function startDelete(statements: Statements, taskId: string, beforeMs: number | undefined): DeleteProgress | undefined {
  const task = statements.selectTask.get(taskId);
  if (task === undefined) return undefined;
  const nothing = task.total_logs === 0 || task.min_time_ms === null || (beforeMs !== undefined && beforeMs <= task.min_time_ms);
  return {
    taskId,
    before: beforeMs ?? END_OF_TIME,
    upToSeq: task.last_seq,
    afterSeq: 0,
    deleted: 0,
    kept: { min: null, max: null },
    done: nothing,
  };
}

/**
 * One chunk, inside its own transaction: deletes its entries that are old enough and takes them
 * off the counters, so that after every commit the counters match the rows. The task row, its
 * last_seq and its line counters stay, so neither a seq nor a line number is ever handed out
 * twice; its activity time stays too, so that retention does not bring old tasks to the top.
 */
export function deleteChunk(statements: Statements, progress: DeleteProgress): void {
  const task = statements.selectTask.get(progress.taskId);
  if (task === undefined) {
    progress.done = true;
    return;
  }
  const { taskId, before, upToSeq, afterSeq } = progress;
  const end = statements.chunkEnd.get(taskId, afterSeq, upToSeq, DELETE_CHUNK_SIZE - 1);
  const last = end === undefined;
  const chunkEnd = end ?? upToSeq;
  const row: TaskRow = { ...task };
  let gone = 0;
  for (const { source, level, n } of statements.countChunk.all(taskId, afterSeq, chunkEnd, before)) {
    gone += n;
    row[SOURCE_COUNT_COLUMN[source as LogSource]] -= n;
    row[LEVEL_COUNT_COLUMN[level as LogLevel]] -= n;
  }
  if (gone > 0) statements.deleteChunk.run(taskId, afterSeq, chunkEnd, before);
  row.total_logs -= gone;
  // The last chunk's range runs on past upToSeq: the entries appended since the delete began count too.
  const range = last ? statements.timeRangeAfter.get(taskId, afterSeq) : statements.timeRangeBetween.get(taskId, afterSeq, chunkEnd);
  const kept = widenRange(progress.kept, range);
  if (last) {
    row.min_time_ms = kept.min;
    row.max_time_ms = kept.max;
  }
  if (gone > 0 || last) statements.upsertTask.run(row);
  progress.kept = kept;
  progress.afterSeq = chunkEnd;
  progress.deleted += gone;
  progress.done = last;
}
