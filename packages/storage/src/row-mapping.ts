// Rows of the tasks and logs tables, as both dialects return them, and how they become the
// protocol's shapes. int8 columns arrive as numbers (postgres/open-pool.ts sets that parser).
import {
  entryId,
  type LogEntry,
  type LogLevel,
  type LogSource,
  type LogStats,
  type TaskPage,
  type TaskStatus,
  type TaskSummary,
} from '@keruta/protocol';
import { totalPages, type TaskCounters } from './entry-filter.js';
import { isoOfMs } from './iso-time.js';
import type { TaskState } from './task-status.js';

export interface LogRow {
  seq: number;
  time_ms: number;
  source: string;
  level: string;
  message: string;
  line_number: number;
  /** SQLite returns the JSON text; node-postgres parses a json column itself. NULL is the empty object. */
  metadata: string | Record<string, unknown> | null;
  run_id: string | null;
  run_seq: number | null;
}

/** The columns of LogRow, in a SELECT. */
export const LOG_COLUMNS = 'seq, time_ms, source, level, message, line_number, metadata, run_id, run_seq';

export interface TaskRow {
  task_id: string;
  last_seq: number;
  total_logs: number;
  count_stdout: number;
  count_stderr: number;
  count_agent: number;
  count_debug: number;
  count_info: number;
  count_warn: number;
  count_error: number;
  min_time_ms: number | null;
  max_time_ms: number | null;
  next_line_stdout: number;
  next_line_stderr: number;
  next_line_agent: number;
  status: string;
  exit_code: number | null;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

/** The columns of TaskRow, in the order both stores write them. */
export const TASK_COLUMNS = [
  'task_id',
  'last_seq',
  'total_logs',
  'count_stdout',
  'count_stderr',
  'count_agent',
  'count_debug',
  'count_info',
  'count_warn',
  'count_error',
  'min_time_ms',
  'max_time_ms',
  'next_line_stdout',
  'next_line_stderr',
  'next_line_agent',
  'status',
  'exit_code',
  'started_at',
  'finished_at',
  'updated_at',
] as const satisfies readonly (keyof TaskRow)[];

export function toLogEntry(taskId: string, row: LogRow): LogEntry {
  const entry: LogEntry = {
    id: entryId(taskId, row.seq),
    seq: row.seq,
    taskId,
    timestamp: isoOfMs(row.time_ms),
    source: row.source as LogSource,
    level: row.level as LogLevel,
    message: row.message,
    lineNumber: row.line_number,
    metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as Record<string, unknown>) : (row.metadata ?? {}),
  };
  if (row.run_id !== null) entry.runId = row.run_id;
  if (row.run_seq !== null) entry.runSeq = row.run_seq;
  return entry;
}

/**
 * A LogRow as an array in the order of LOG_COLUMNS: better-sqlite3's raw rows, which cost about
 * half as much to read as one object per row (measured: 200,000 rows in pages of 1,000,
 * 351-367 ms as objects, 201-205 ms as arrays).
 */
export type RawLogRow = [
  seq: number,
  time_ms: number,
  source: string,
  level: string,
  message: string,
  line_number: number,
  metadata: string | null,
  run_id: string | null,
  run_seq: number | null,
];

/** The same entry as toLogEntry, from a raw row. */
export function toLogEntryOfRaw(taskId: string, row: RawLogRow): LogEntry {
  const [seq, timeMs, source, level, message, lineNumber, metadata, runId, runSeq] = row;
  const entry: LogEntry = {
    id: entryId(taskId, seq),
    seq,
    taskId,
    timestamp: isoOfMs(timeMs),
    source: source as LogSource,
    level: level as LogLevel,
    message,
    lineNumber,
    metadata: metadata === null ? {} : (JSON.parse(metadata) as Record<string, unknown>),
  };
  if (runId !== null) entry.runId = runId;
  if (runSeq !== null) entry.runSeq = runSeq;
  return entry;
}

export function countersOf(row: TaskRow): TaskCounters {
  return {
    total: row.total_logs,
    sources: { stdout: row.count_stdout, stderr: row.count_stderr, agent: row.count_agent },
    levels: { DEBUG: row.count_debug, INFO: row.count_info, WARN: row.count_warn, ERROR: row.count_error },
    minTimeMs: row.min_time_ms,
    maxTimeMs: row.max_time_ms,
  };
}

export function stateOf(row: TaskRow): TaskState {
  return {
    status: row.status as TaskStatus,
    exitCode: row.exit_code ?? undefined,
    startedAtMs: row.started_at ?? undefined,
    finishedAtMs: row.finished_at ?? undefined,
  };
}

/** Page `page` of the task list: its rows, out of `totalElements` tasks, `size` a page. */
export function toTaskPage(rows: readonly TaskRow[], totalElements: number, page: number, size: number): TaskPage {
  return { content: rows.map(toTaskSummary), totalElements, totalPages: totalPages(totalElements, size), size, number: page };
}

export function toTaskSummary(row: TaskRow): TaskSummary {
  const summary: TaskSummary = {
    taskId: row.task_id,
    status: row.status as TaskStatus,
    totalLogs: row.total_logs,
    lastSeq: row.last_seq,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  if (row.exit_code !== null) summary.exitCode = row.exit_code;
  if (row.started_at !== null) summary.startedAt = new Date(row.started_at).toISOString();
  if (row.finished_at !== null) summary.finishedAt = new Date(row.finished_at).toISOString();
  return summary;
}

export function toLogStats(row: TaskRow): LogStats {
  return {
    taskId: row.task_id,
    totalLogs: row.total_logs,
    logCounts: { stdout: row.count_stdout, stderr: row.count_stderr, agent: row.count_agent },
    levelCounts: { DEBUG: row.count_debug, INFO: row.count_info, WARN: row.count_warn, ERROR: row.count_error },
    timeRange: {
      start: row.min_time_ms === null ? null : new Date(row.min_time_ms).toISOString(),
      end: row.max_time_ms === null ? null : new Date(row.max_time_ms).toISOString(),
    },
  };
}

/** The tasks column that counts each source's entries. */
export const SOURCE_COUNT_COLUMN = {
  stdout: 'count_stdout',
  stderr: 'count_stderr',
  agent: 'count_agent',
} as const satisfies Record<LogSource, keyof TaskRow>;

/** The tasks column that counts each level's entries. */
export const LEVEL_COUNT_COLUMN = {
  DEBUG: 'count_debug',
  INFO: 'count_info',
  WARN: 'count_warn',
  ERROR: 'count_error',
} as const satisfies Record<LogLevel, keyof TaskRow>;

/** The tasks column that holds each source's next line number. */
export const NEXT_LINE_COLUMN = {
  stdout: 'next_line_stdout',
  stderr: 'next_line_stderr',
  agent: 'next_line_agent',
} as const satisfies Record<LogSource, keyof TaskRow>;
