// The reads of the PostgreSQL store: pages by number or by keyset, ranges for catch-up and
// export, and where a tail begins.
//
// Each read takes the task's row first, and bounds every later statement by the last_seq it
// saw: lines appended meanwhile are neither shown nor counted, so counts and pages agree as in a
// snapshot. No snapshot transaction, though: its BEGIN and COMMIT are two more round trips, and
// on a busy machine every round trip may wait for the CPU (page p99 measured 60-90 ms with them
// at load 7-11 on two cores). A delete that commits between the statements can leave a page
// shorter than the total promised; a delete racing a read may do that anyway.
import type { LogPage, LogQuery } from '@keruta/protocol';
import type { PoolClient } from 'pg';
import { countFromCounters, filterOfQuery, isEmptyFilter, narrowingFilter, totalPages } from '../entry-filter.js';
import type { EntryFilter, RangeQuery, RangeResult } from '../log-store.js';
import { conditionOfFilter, sqlParams } from './filters.js';
import { LOG_COLUMNS, countersOf, toLogEntry, type LogRow, type TaskRow } from '../row-mapping.js';
import { PAGE_RANGE, SELECT_TASK, SELECT_TASK_AND_FIRST_SEQ } from './statements.js';

/**
 * Most seqs one filtered readRange looks at, as in SQLite: a filter that matches nothing in ten
 * million lines would otherwise hold a connection for the whole scan. The
 * caller reads on from `scannedTo` until `done`.
 */
export const MAX_FILTERED_SCAN = 50_000;

type TaskWithFirstSeq = TaskRow & { first_seq: number | null };

async function selectTask(client: PoolClient, taskId: string): Promise<TaskRow | undefined> {
  return (await client.query<TaskRow>({ ...SELECT_TASK, values: [taskId] })).rows[0];
}

async function selectTaskAndFirstSeq(client: PoolClient, taskId: string): Promise<TaskWithFirstSeq | undefined> {
  return (await client.query<TaskWithFirstSeq>({ ...SELECT_TASK_AND_FIRST_SEQ, values: [taskId] })).rows[0];
}

/** True when the task's seqs have no holes: no delete took entries from its middle. */
function isContiguous(task: TaskWithFirstSeq): task is TaskWithFirstSeq & { first_seq: number } {
  return task.first_seq !== null && task.total_logs === task.last_seq - task.first_seq + 1;
}

export async function queryLogs(client: PoolClient, taskId: string, query: LogQuery): Promise<LogPage | undefined> {
  const task = await selectTaskAndFirstSeq(client, taskId);
  if (task === undefined) return undefined;
  const { page, size } = query;
  const counters = countersOf(task);
  const filter = narrowingFilter(filterOfQuery(query), counters);
  const upTo = task.last_seq;
  const totalElements = countFromCounters(filter, counters) ?? (await countMatches(client, taskId, upTo, filter));

  let rows: LogRow[];
  if (size <= 0 || totalElements === 0 || (query.afterSeq === undefined && page * size >= totalElements)) {
    // Past the end: no need to step an OFFSET over every match to find nothing.
    rows = [];
  } else if (query.afterSeq !== undefined) {
    rows = await pageAfterSeq(client, taskId, query.afterSeq, upTo, size, filter);
  } else {
    // Page N of an unfiltered task without holes starts right after seq firstSeq - 1 + N * size:
    // one primary-key seek instead of an OFFSET that steps over every earlier row.
    const seqBound = isEmptyFilter(filter) && isContiguous(task) ? task.first_seq - 1 + page * size : undefined;
    if (seqBound === undefined) {
      const params = sqlParams(taskId, upTo);
      const condition = conditionOfFilter(filter, params);
      const sql = `SELECT ${LOG_COLUMNS} FROM logs WHERE task_id = $1 AND seq <= $2${condition} ORDER BY seq LIMIT ${params.add(size)} OFFSET ${params.add(page * size)}`;
      rows = (await client.query<LogRow>(sql, params.values)).rows;
    } else {
      rows = await pageAfterSeq(client, taskId, seqBound, upTo, size, filter);
    }
  }
  return {
    content: rows.map((row) => toLogEntry(taskId, row)),
    totalElements,
    totalPages: totalPages(totalElements, size),
    size,
    number: page,
  };
}

async function countMatches(client: PoolClient, taskId: string, upTo: number, filter: EntryFilter): Promise<number> {
  const params = sqlParams(taskId, upTo);
  const condition = conditionOfFilter(filter, params);
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*) AS n FROM logs WHERE task_id = $1 AND seq <= $2${condition}`,
    params.values,
  );
  return rows[0]?.n ?? 0;
}

async function pageAfterSeq(
  client: PoolClient,
  taskId: string,
  afterSeq: number,
  upTo: number,
  size: number,
  filter: EntryFilter,
): Promise<LogRow[]> {
  if (isEmptyFilter(filter)) return (await client.query<LogRow>({ ...PAGE_RANGE, values: [taskId, afterSeq, upTo, size] })).rows;
  const params = sqlParams(taskId, afterSeq, upTo);
  const condition = conditionOfFilter(filter, params);
  const sql = `SELECT ${LOG_COLUMNS} FROM logs WHERE task_id = $1 AND seq > $2 AND seq <= $3${condition} ORDER BY seq LIMIT ${params.add(size)}`;
  return (await client.query<LogRow>(sql, params.values)).rows;
}

export async function readRange(client: PoolClient, query: RangeQuery): Promise<RangeResult> {
  const { taskId, afterSeq, limit } = query;
  const task = await selectTask(client, taskId);
  if (task === undefined) return { entries: [], scannedTo: afterSeq, done: true };
  const upper = Math.min(query.upToSeq ?? task.last_seq, task.last_seq);
  if (afterSeq >= upper) return { entries: [], scannedTo: afterSeq, done: true };
  if (limit <= 0) return { entries: [], scannedTo: afterSeq, done: false };

  const filter = narrowingFilter(query.filter, countersOf(task));
  const window = Math.max(1, Math.min(query.maxScan ?? MAX_FILTERED_SCAN, MAX_FILTERED_SCAN));
  const bound = isEmptyFilter(filter) ? upper : Math.min(upper, afterSeq + window);
  // One row more than asked tells whether anything matching remains before the bound.
  const rows = await pageAfterSeq(client, taskId, afterSeq, bound, limit + 1, filter);
  if (rows.length > limit) {
    const entries = rows.slice(0, limit).map((row) => toLogEntry(taskId, row));
    return { entries, scannedTo: entries[entries.length - 1]?.seq ?? afterSeq, done: false };
  }
  return { entries: rows.map((row) => toLogEntry(taskId, row)), scannedTo: bound, done: bound >= upper };
}

export async function tailStart(
  client: PoolClient,
  taskId: string,
  count: number,
  upToSeq: number,
  filter: EntryFilter | undefined,
): Promise<number> {
  const task = await selectTaskAndFirstSeq(client, taskId);
  if (task === undefined) return 0;
  const upper = Math.min(upToSeq, task.last_seq);
  // No tail at all: start where the reader would have nothing left to read.
  if (count <= 0) return Math.max(upper, 0);
  const narrowed = narrowingFilter(filter, countersOf(task));
  if (isEmptyFilter(narrowed)) {
    if (task.first_seq === null || upper < task.first_seq) return 0;
    if (isContiguous(task)) return upper - task.first_seq + 1 < count ? 0 : upper - count;
  }
  const params = sqlParams(taskId, upper);
  const condition = conditionOfFilter(narrowed, params);
  const sql = `SELECT seq FROM logs WHERE task_id = $1 AND seq <= $2${condition} ORDER BY seq DESC LIMIT 1 OFFSET ${params.add(count - 1)}`;
  const firstOfTail = (await client.query<{ seq: number }>(sql, params.values)).rows[0]?.seq;
  return firstOfTail === undefined ? 0 : firstOfTail - 1;
}
