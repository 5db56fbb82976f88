// LogStore.listTasks for PostgreSQL: one page of tasks, newest activity first, and how many there
// are, of every task or of those whose id matches one of the credential's patterns.
import type { TaskPage } from '@keruta/protocol';
import type { PoolClient } from 'pg';
import { toTaskPage, type TaskRow } from '../row-mapping.js';
import { toLikePattern } from '../task-patterns.js';
import { COUNT_MATCHING_TASKS, COUNT_TASKS, LIST_MATCHING_TASKS, LIST_TASKS } from './statements.js';

/** Run inside a snapshot transaction, so that a task made meanwhile cannot show on a page uncounted. */
export async function listTasks(client: PoolClient, page: number, size: number, taskPatterns: readonly string[] | undefined): Promise<TaskPage> {
  const patterns = taskPatterns?.map(toLikePattern);
  const count = patterns === undefined ? COUNT_TASKS : { ...COUNT_MATCHING_TASKS, values: [patterns] };
  const list = patterns === undefined ? { ...LIST_TASKS, values: [size, page * size] } : { ...LIST_MATCHING_TASKS, values: [patterns, size, page * size] };
  const totalElements = (await client.query<{ n: number }>(count)).rows[0]?.n ?? 0;
  const rows = size > 0 ? (await client.query<TaskRow>(list)).rows : [];
  return toTaskPage(rows, totalElements, page, size);
}
