// The reads of the SQLite store: pages by number or by keyset, ranges for catch-up and
// export, and where a tail begins. Each runs inside one read transaction (a consistent snapshot).
import type { LogEntry, LogPage, LogQuery } from '@keruta/protocol';
import { countFromCounters, filterOfQuery, isEmptyFilter, narrowingFilter, totalPages } from '../entry-filter.js';
import type { EntryFilter, RangeQuery, RangeResult } from '../log-store.js';
import { conditionOfFilter } from './filters.js';
import { LOG_COLUMNS, countersOf, toLogEntryOfRaw, type RawLogRow, type TaskRow } from '../row-mapping.js';
import { attachRuns, lastSeqOf, type SeqSpan } from '../run-spans.js';
import type { Statements } from './statements.js';

/**
 * Most seqs one filtered readRange looks at. better-sqlite3 is synchronous, so a filter that
 * matches nothing in a million lines would otherwise hold the event loop for the whole scan;
 * the caller reads on from `scannedTo` until `done`.
 */
export const MAX_FILTERED_SCAN = 50_000;

export function queryLogs(statements: Statements, taskId: string, query: LogQuery): LogPage | undefined {
  const task = statements.selectTask.get(taskId);
  if (task === undefined) return undefined;
  const { page, size } = query;
  const counters = countersOf(task);
  const filter = narrowingFilter(filterOfQuery(query), counters);
  const condition = conditionOfFilter(filter);
  const totalElements =
    countFromCounters(filter, counters) ??
    (statements
      .cached<number>(`SELECT COUNT(*) FROM logs WHERE task_id = ?${condition.sql}`)
      .pluck()
      .get(taskId, ...condition.params) ?? 0);

  let rows: RawLogRow[];
  if (size <= 0 || totalElements === 0 || (query.afterSeq === undefined && page * size >= totalElements)) {
    // Past the end: no need to step an OFFSET over every match to find nothing.
    rows = [];
  } else if (query.afterSeq !== undefined) {
    rows = pageAfterSeq(statements, taskId, query.afterSeq, size, filter);
  } else {
    const seqBound = isEmptyFilter(filter) ? seqBoundOfPage(statements, task, page, size) : undefined;
    rows =
      seqBound === undefined
        ? statements
            .cachedRaw<RawLogRow>(
              `SELECT ${LOG_COLUMNS} FROM logs WHERE task_id = ?${condition.sql} ORDER BY seq LIMIT ? OFFSET ?`,
            )
            .all(taskId, ...condition.params, size, page * size)
        : pageAfterSeq(statements, taskId, seqBound, size, filter);
  }
  return {
    content: entriesOf(statements, taskId, rows),
    totalElements,
    totalPages: totalPages(totalElements, size),
    size,
    number: page,
  };
}

/**
 * Page N of an unfiltered task whose seqs have no holes starts right after seq
 * firstSeq - 1 + N * size: one primary-key seek instead of an OFFSET that steps over every
 * earlier row. Undefined when the task has holes (a delete took entries from its middle).
 */
function seqBoundOfPage(statements: Statements, task: TaskRow, page: number, size: number): number | undefined {
  const firstSeq = statements.firstSeq.get(task.task_id);
  if (firstSeq === undefined) return undefined;
  const contiguous = task.total_logs === task.last_seq - firstSeq + 1;
  return contiguous ? firstSeq - 1 + page * size : undefined;
}

function pageAfterSeq(
  statements: Statements,
  taskId: string,
  afterSeq: number,
  size: number,
  filter: EntryFilter,
): RawLogRow[] {
  const condition = conditionOfFilter(filter);
  return statements
    .cachedRaw<RawLogRow>(`SELECT ${LOG_COLUMNS} FROM logs WHERE task_id = ? AND seq > ?${condition.sql} ORDER BY seq LIMIT ?`)
    .all(taskId, afterSeq, ...condition.params, size);
}

export function readRange(statements: Statements, query: RangeQuery): RangeResult {
  const { taskId, afterSeq, limit } = query;
  const task = statements.selectTask.get(taskId);
  if (task === undefined) return { entries: [], scannedTo: afterSeq, done: true };
  const upper = Math.min(query.upToSeq ?? task.last_seq, task.last_seq);
  if (afterSeq >= upper) return { entries: [], scannedTo: afterSeq, done: true };
  if (limit <= 0) return { entries: [], scannedTo: afterSeq, done: false };

  const filter = narrowingFilter(query.filter, countersOf(task));
  const window = Math.max(1, Math.min(query.maxScan ?? MAX_FILTERED_SCAN, MAX_FILTERED_SCAN));
  const bound = isEmptyFilter(filter) ? upper : Math.min(upper, afterSeq + window);
  const condition = conditionOfFilter(filter);
  // One row more than asked tells whether anything matching remains before the bound.
  const rows = statements
    .cachedRaw<RawLogRow>(
      `SELECT ${LOG_COLUMNS} FROM logs WHERE task_id = ? AND seq > ? AND seq <= ?${condition.sql} ORDER BY seq LIMIT ?`,
    )
    .all(taskId, afterSeq, bound, ...condition.params, limit + 1);
  if (rows.length > limit) {
    const entries = entriesOf(statements, taskId, rows.slice(0, limit));
    return { entries, scannedTo: entries[entries.length - 1]?.seq ?? afterSeq, done: false };
  }
  return { entries: entriesOf(statements, taskId, rows), scannedTo: bound, done: bound >= upper };
}

export function tailStart(
  statements: Statements,
  taskId: string,
  count: number,
  upToSeq: number,
  filter: EntryFilter | undefined,
): number {
  const task = statements.selectTask.get(taskId);
  if (task === undefined) return 0;
  const upper = Math.min(upToSeq, task.last_seq);
  // No tail at all: start where the reader would have nothing left to read.
  if (count <= 0) return Math.max(upper, 0);
  const narrowed = narrowingFilter(filter, countersOf(task));
  if (isEmptyFilter(narrowed)) {
    const firstSeq = statements.firstSeq.get(taskId);
    if (firstSeq === undefined || upper < firstSeq) return 0;
    if (task.total_logs === task.last_seq - firstSeq + 1) {
      return upper - firstSeq + 1 < count ? 0 : upper - count;
    }
  }
  const condition = conditionOfFilter(narrowed);
  const firstOfTail = statements
    .cached<number>(
      `SELECT seq FROM logs WHERE task_id = ? AND seq <= ?${condition.sql} ORDER BY seq DESC LIMIT 1 OFFSET ?`,
    )
    .pluck()
    .get(taskId, upper, ...condition.params, count - 1);
  return firstOfTail === undefined ? 0 : firstOfTail - 1;
}

/**
 * The rows (in seq order) as entries, with the run and runSeq that the task's spans hold for
 * those stored without them: one look-up of the spans by seq per read.
 */
function entriesOf(statements: Statements, taskId: string, rows: RawLogRow[]): LogEntry[] {
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first === undefined || last === undefined) return [];
  const spans: SeqSpan[] = [];
  // Disjoint in seq, last first: the first one that ends before the rows ends the look-up.
  for (const span of statements.spansUpToSeq.iterate(taskId, last[0])) {
    if (lastSeqOf(span) < first[0]) break;
    spans.push(span);
  }
  const entries = rows.map((row) => toLogEntryOfRaw(taskId, row));
  spans.reverse();
  attachRuns(entries, spans);
  return entries;
}
