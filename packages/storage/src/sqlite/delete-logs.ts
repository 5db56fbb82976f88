// The body of LogStore.deleteLogs for SQLite; runs inside one IMMEDIATE transaction.
import { LOG_LEVELS, LOG_SOURCES, type LogLevel, type LogSource } from '@keruta/protocol';
import { LEVEL_COUNT_COLUMN, SOURCE_COUNT_COLUMN, type TaskRow } from '../row-mapping.js';
import type { Statements } from './statements.js';

/**
 * Deletes the task's entries with a timestamp before `beforeMs` (all without it) and takes
 * them off the counters. The task row, its last_seq and its line counters stay, so neither a
 * seq nor a line number is ever handed out twice; its activity time stays too, so that
 * retention does not bring old tasks to the top of the list.
 */
export function deleteLogs(statements: Statements, taskId: string, beforeMs: number | undefined): number | undefined {
  const task = statements.selectTask.get(taskId);
  if (task === undefined) return undefined;
  if (task.total_logs === 0 || task.min_time_ms === null) return 0;
  if (beforeMs !== undefined && beforeMs <= task.min_time_ms) return 0;

  const row: TaskRow = { ...task };
  if (beforeMs === undefined || (task.max_time_ms !== null && beforeMs > task.max_time_ms)) {
    statements.deleteAll.run(taskId);
    for (const source of LOG_SOURCES) row[SOURCE_COUNT_COLUMN[source]] = 0;
    for (const level of LOG_LEVELS) row[LEVEL_COUNT_COLUMN[level]] = 0;
    row.total_logs = 0;
    row.min_time_ms = null;
    row.max_time_ms = null;
    statements.upsertTask.run(row);
    return task.total_logs;
  }

  // Counted before deleting, in the same transaction, so the counters match what goes.
  const groups = statements.countBefore.all(taskId, beforeMs);
  let deleted = 0;
  for (const { source, level, n } of groups) {
    deleted += n;
    row[SOURCE_COUNT_COLUMN[source as LogSource]] -= n;
    row[LEVEL_COUNT_COLUMN[level as LogLevel]] -= n;
  }
  if (deleted === 0) return 0;
  statements.deleteBefore.run(taskId, beforeMs);
  row.total_logs -= deleted;
  const range = statements.timeRange.get(taskId);
  row.min_time_ms = range?.min ?? null;
  row.max_time_ms = range?.max ?? null;
  statements.upsertTask.run(row);
  return deleted;
}
