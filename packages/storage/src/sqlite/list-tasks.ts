// LogStore.listTasks for SQLite: one page of tasks, newest activity first, and how many there are,
// of every task or of those whose id matches one of the credential's patterns.
import type { TaskPage } from '@keruta/protocol';
import { toTaskPage, type TaskRow } from '../row-mapping.js';
import { toGlobPattern } from '../task-patterns.js';
import type { Statements } from './statements.js';

/** Run inside a read transaction, so that the count and the page agree. */
export function listTasks(statements: Statements, page: number, size: number, taskPatterns: readonly string[] | undefined): TaskPage {
  const patterns = taskPatterns === undefined ? undefined : JSON.stringify(taskPatterns.map(toGlobPattern));
  const totalElements = (patterns === undefined ? statements.countTasks.get() : statements.countMatchingTasks.get(patterns)) ?? 0;
  let rows: TaskRow[] = [];
  if (size > 0) {
    rows = patterns === undefined ? statements.listTasks.all(size, page * size) : statements.listMatchingTasks.all(patterns, size, page * size);
  }
  return toTaskPage(rows, totalElements, page, size);
}
