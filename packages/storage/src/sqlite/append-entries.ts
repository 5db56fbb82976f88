// The body of LogStore.append for SQLite; runs inside one IMMEDIATE transaction.
import { entryId, type LogEntry, type NormalizedLogRequest } from '@keruta/protocol';
import type { AppendResult } from '../log-store.js';
import { UNKNOWN_TASK_STATE, applyStatusEvent, sameTaskState } from '../task-status.js';
import {
  LEVEL_COUNT_COLUMN,
  NEXT_LINE_COLUMN,
  SOURCE_COUNT_COLUMN,
  stateOf,
  toTaskSummary,
  type TaskRow,
} from './row-mapping.js';
import type { Statements } from './statements.js';

export interface AppendContext {
  statements: Statements;
  maxMessageLength: number;
  /** The server's clock, for the task's `updatedAt`. */
  now: number;
}

export function appendEntries(
  context: AppendContext,
  taskId: string,
  entries: readonly NormalizedLogRequest[],
): AppendResult {
  const { statements, maxMessageLength } = context;
  const existing = statements.selectTask.get(taskId);
  // An empty batch must not create a task: "a task that has never had a log" stays unknown.
  if (entries.length === 0) return { stored: [], duplicates: 0, lastSeq: existing?.last_seq ?? 0 };

  const row: TaskRow = existing === undefined ? newTaskRow(taskId, context.now) : { ...existing };
  const stateBefore = existing === undefined ? UNKNOWN_TASK_STATE : stateOf(existing);
  let state = stateBefore;
  const stored: LogEntry[] = [];
  let duplicates = 0;

  for (const request of entries) {
    const seq = row.last_seq + 1;
    const nextLine = NEXT_LINE_COLUMN[request.source];
    const lineNumber = request.lineNumber ?? row[nextLine];
    let { message, metadata } = request;
    if (message.length > maxMessageLength) {
      message = message.slice(0, maxMessageLength);
      metadata = { ...metadata, truncated: true };
    }
    const { changes } = statements.insertLog.run(
      taskId,
      seq,
      request.timeMs,
      request.source,
      request.level,
      message,
      lineNumber,
      hasKeys(metadata) ? JSON.stringify(metadata) : null,
      request.runId ?? null,
      request.runSeq ?? null,
    );
    if (changes === 0) {
      duplicates += 1;
      continue;
    }

    row.last_seq = seq;
    row.total_logs += 1;
    row[SOURCE_COUNT_COLUMN[request.source]] += 1;
    row[LEVEL_COUNT_COLUMN[request.level]] += 1;
    // A caller-given number moves the counter past it, so an assigned one never repeats it.
    if (lineNumber >= row[nextLine]) row[nextLine] = lineNumber + 1;
    if (row.min_time_ms === null || request.timeMs < row.min_time_ms) row.min_time_ms = request.timeMs;
    if (row.max_time_ms === null || request.timeMs > row.max_time_ms) row.max_time_ms = request.timeMs;
    state = applyStatusEvent(state, request) ?? state;

    const entry: LogEntry = {
      id: entryId(taskId, seq),
      seq,
      taskId,
      timestamp: request.timestamp,
      source: request.source,
      level: request.level,
      message,
      lineNumber,
      metadata,
    };
    if (request.runId !== undefined) entry.runId = request.runId;
    if (request.runSeq !== undefined) entry.runSeq = request.runSeq;
    stored.push(entry);
  }

  // Nothing new (a resent batch): the task's activity time stays where it was.
  if (stored.length === 0) return { stored, duplicates, lastSeq: row.last_seq };

  row.status = state.status;
  row.exit_code = state.exitCode ?? null;
  row.started_at = state.startedAtMs ?? null;
  row.finished_at = state.finishedAtMs ?? null;
  row.updated_at = context.now;
  statements.upsertTask.run(row);

  const result: AppendResult = { stored, duplicates, lastSeq: row.last_seq };
  if (!sameTaskState(stateBefore, state)) result.taskChanged = toTaskSummary(row);
  return result;
}

function newTaskRow(taskId: string, now: number): TaskRow {
  return {
    task_id: taskId,
    last_seq: 0,
    total_logs: 0,
    count_stdout: 0,
    count_stderr: 0,
    count_agent: 0,
    count_debug: 0,
    count_info: 0,
    count_warn: 0,
    count_error: 0,
    min_time_ms: null,
    max_time_ms: null,
    next_line_stdout: 1,
    next_line_stderr: 1,
    next_line_agent: 1,
    status: 'unknown',
    exit_code: null,
    started_at: null,
    finished_at: null,
    updated_at: now,
  };
}

function hasKeys(object: Record<string, unknown>): boolean {
  for (const _key in object) return true;
  return false;
}
