// What both stores do to keep a task's error index as its lines are stored: which lines are
// errors (level ERROR or an `::error::` annotation), which open or close a `::group::` section,
// and how each section's error count and end move. Each dialect only reads and writes the rows.
import {
  groupNameOf,
  isErrorAnnotation,
  isGroupEnd,
  isGroupStart,
  type IndexedError,
  type IndexedErrorKind,
  type LogEntry,
  type LogGroup,
} from '@keruta/protocol';
import { isoOfMs } from './iso-time.js';

/** A task_errors row; group_seq 0 outside sections. */
export interface ErrorRow {
  seq: number;
  kind: IndexedErrorKind;
  group_seq: number;
}

/** A task_groups row; end_seq and end_ms NULL while the section is open. */
export interface GroupRow {
  start_seq: number;
  end_seq: number | null;
  name: string;
  start_ms: number;
  end_ms: number | null;
  error_count: number;
}

export interface ErrorIndexChanges {
  errors: ErrorRow[];
  /** Sections to write whole (insert or replace by start_seq): the open one carried in and any the batch opened. */
  groups: GroupRow[];
}

/**
 * True when the entries may change the index: most batches hold no error and no marker, and
 * cost one look at each line's level and first character, nothing read or written.
 */
export function touchesErrorIndex(entries: readonly LogEntry[]): boolean {
  for (const entry of entries) {
    if (entry.level === 'ERROR' || entry.message.charCodeAt(0) === 58 /* ':' */) return true;
  }
  return false;
}

/** The rows to write for `entries` (stored in `seq` order), given the task's open section before them. */
export function planErrorIndex(entries: readonly LogEntry[], openBefore: GroupRow | undefined): ErrorIndexChanges {
  const errors: ErrorRow[] = [];
  const groups: GroupRow[] = [];
  let open = openBefore === undefined ? undefined : { ...openBefore };
  if (open !== undefined) groups.push(open);
  for (const entry of entries) {
    const { message } = entry;
    if (isGroupStart(message)) {
      const timeMs = Date.parse(entry.timestamp);
      if (open !== undefined) {
        open.end_seq = entry.seq - 1;
        open.end_ms = timeMs;
      }
      open = { start_seq: entry.seq, end_seq: null, name: groupNameOf(message), start_ms: timeMs, end_ms: null, error_count: 0 };
      groups.push(open);
    }
    const annotation = isErrorAnnotation(message);
    if (annotation || entry.level === 'ERROR') {
      errors.push({ seq: entry.seq, kind: annotation ? 'annotation' : 'error', group_seq: open?.start_seq ?? 0 });
      if (open !== undefined) open.error_count += 1;
    }
    if (open !== undefined && isGroupEnd(message)) {
      open.end_seq = entry.seq;
      open.end_ms = Date.parse(entry.timestamp);
      open = undefined;
    }
  }
  return { errors, groups };
}

export function toIndexedError(row: ErrorRow): IndexedError {
  const error: IndexedError = { seq: row.seq, kind: row.kind };
  if (row.group_seq > 0) error.groupSeq = row.group_seq;
  return error;
}

/** `latestMs`: the task's latest line, where an open section's duration runs to. */
export function toLogGroup(row: GroupRow, latestMs: number | null): LogGroup {
  const endMs = row.end_ms ?? Math.max(latestMs ?? row.start_ms, row.start_ms);
  const group: LogGroup = {
    name: row.name,
    startSeq: row.start_seq,
    status: row.end_seq === null ? 'open' : row.error_count > 0 ? 'failed' : 'succeeded',
    startedAt: isoOfMs(row.start_ms),
    durationMs: Math.max(0, endMs - row.start_ms),
    errorCount: row.error_count,
  };
  if (row.end_seq !== null) group.endSeq = row.end_seq;
  if (row.end_ms !== null) group.endedAt = isoOfMs(row.end_ms);
  return group;
}

/** Counts of the index, as a store reads them. */
export interface ErrorIndexCounts {
  errors: number;
  annotations: number;
  groups: number;
  failedGroups: number;
}

export interface ErrorIndexQuery {
  taskId: string;
  /** Errors with a larger seq; 0 from the start. */
  errorsAfter: number;
  /** Sections whose header has a larger seq; 0 from the start. */
  groupsAfter: number;
  /** Most errors and most sections returned. */
  limit: number;
}

export interface ErrorIndexPage {
  lastSeq: number;
  counts: ErrorIndexCounts;
  first: IndexedError | undefined;
  errors: IndexedError[];
  nextErrorsAfter: number | null;
  groups: LogGroup[];
  nextGroupsAfter: number | null;
}

/**
 * Builds the page from what a store read: `limit + 1` rows of each list, so that a next cursor is
 * given only when more follow. Rows of lines deleted since (seq before the first stored one) are
 * left out by the store's reads.
 */
export function errorIndexPage(input: {
  lastSeq: number;
  latestMs: number | null;
  counts: ErrorIndexCounts;
  first: ErrorRow | undefined;
  errors: ErrorRow[];
  groups: GroupRow[];
  limit: number;
}): ErrorIndexPage {
  const { limit } = input;
  const errors = input.errors.slice(0, limit);
  const groups = input.groups.slice(0, limit);
  return {
    lastSeq: input.lastSeq,
    counts: input.counts,
    first: input.first === undefined ? undefined : toIndexedError(input.first),
    errors: errors.map(toIndexedError),
    nextErrorsAfter: input.errors.length > limit ? (errors.at(-1)?.seq ?? null) : null,
    groups: groups.map((row) => toLogGroup(row, input.latestMs)),
    nextGroupsAfter: input.groups.length > limit ? (groups.at(-1)?.start_seq ?? null) : null,
  };
}

/**
 * The SQL both stores' migrations fill the index with from lines stored before it existed; only
 * the spelling of a few functions differs. `endTrim` trims the whitespace after `::endgroup::`.
 */
export function backfillSql(endTrimmed: string): string {
  const annotation = "(substr(message, 1, 9) = '::error::' OR substr(message, 1, 8) = '::error ')";
  return `
    INSERT INTO task_errors (task_id, seq, kind, group_seq)
      SELECT task_id, seq, CASE WHEN ${annotation} THEN 'annotation' ELSE 'error' END, 0
      FROM logs WHERE level = 'ERROR' OR ${annotation};
    INSERT INTO task_groups (task_id, start_seq, end_seq, name, start_ms, end_ms, error_count)
      SELECT task_id, seq,
             CASE WHEN next_seq IS NULL THEN NULL WHEN next_is_start = 1 THEN next_seq - 1 ELSE next_seq END,
             trim(substr(message, 10)), time_ms, next_ms, 0
      FROM (
        SELECT task_id, seq, time_ms, message, is_start,
               LEAD(seq) OVER w AS next_seq, LEAD(time_ms) OVER w AS next_ms, LEAD(is_start) OVER w AS next_is_start
        FROM (
          SELECT task_id, seq, time_ms, message, CASE WHEN substr(message, 1, 9) = '::group::' THEN 1 ELSE 0 END AS is_start
          FROM logs WHERE substr(message, 1, 9) = '::group::' OR ${endTrimmed} = '::endgroup::'
        ) AS markers
        WINDOW w AS (PARTITION BY task_id ORDER BY seq)
      ) AS paired
      WHERE is_start = 1;
    UPDATE task_errors SET group_seq = COALESCE((
      SELECT g.start_seq FROM task_groups g
      WHERE g.task_id = task_errors.task_id AND g.start_seq <= task_errors.seq AND (g.end_seq IS NULL OR g.end_seq >= task_errors.seq)
      ORDER BY g.start_seq DESC LIMIT 1), 0);
    UPDATE task_groups SET error_count = (
      SELECT COUNT(*) FROM task_errors e WHERE e.task_id = task_groups.task_id AND e.group_seq = task_groups.start_seq);
  `;
}
