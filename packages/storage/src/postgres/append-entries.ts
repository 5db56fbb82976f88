// The body of LogStore.append for PostgreSQL; runs inside one READ COMMITTED transaction.
import { KerutaError, entryId, type LogEntry, type NormalizedLogRequest } from '@keruta/protocol';
import type { PoolClient } from 'pg';
import type { AppendResult } from '../log-store.js';
import { applyStatusEvent, sameTaskState } from '../task-status.js';
import { createCopyRows, storableText } from './copy-logs.js';
import {
  LEVEL_COUNT_COLUMN,
  NEXT_LINE_COLUMN,
  SOURCE_COUNT_COLUMN,
  stateOf,
  toTaskSummary,
  type TaskRow,
} from './row-mapping.js';
import { CREATE_TASK, HELD_RUN_SEQS, LOCK_TASK, UPDATE_TASK, taskRowValues } from './statements.js';

export interface AppendContext {
  client: PoolClient;
  maxMessageLength: number;
  /** The server's clock, for the task's `updatedAt`. */
  now: number;
}

/** `entries` is not empty: an empty batch is answered without a transaction. */
export async function appendEntries(
  context: AppendContext,
  taskId: string,
  entries: readonly NormalizedLogRequest[],
): Promise<AppendResult> {
  const { client, maxMessageLength } = context;
  const existing = await lockTask(client, taskId, context.now);
  const row: TaskRow = { ...existing };
  const stateBefore = stateOf(existing);
  let state = stateBefore;
  const stored: LogEntry[] = [];
  let duplicates = 0;

  const held = await heldRunSeqs(client, taskId, entries);
  const rows = createCopyRows();
  for (const request of entries) {
    const runId = request.runId === undefined ? null : storableText(request.runId);
    if (runId !== null && request.runSeq !== undefined) {
      const seen = held.get(runId);
      if (seen?.has(request.runSeq) === true) {
        duplicates += 1;
        continue;
      }
      // Remembered, so that the same pair repeated later in this batch is a duplicate too.
      seen?.add(request.runSeq);
    }
    const nextLine = NEXT_LINE_COLUMN[request.source];
    const sourceCount = SOURCE_COUNT_COLUMN[request.source];
    const levelCount = LEVEL_COUNT_COLUMN[request.level];
    // The type says this cannot happen; a caller that skipped validation would corrupt the counters.
    if (nextLine === undefined || levelCount === undefined) {
      throw new KerutaError('INVALID_LOG_FORMAT', "source or level: not one of the protocol's values");
    }
    const seq = row.last_seq + 1;
    const lineNumber = request.lineNumber ?? row[nextLine];
    let message = storableText(request.message);
    let metadata = request.metadata;
    if (message.length > maxMessageLength) {
      message = message.slice(0, maxMessageLength);
      metadata = { ...metadata, truncated: true };
    }
    rows.add(
      taskId,
      seq,
      request.timeMs,
      request.source,
      request.level,
      message,
      lineNumber,
      hasKeys(metadata) ? JSON.stringify(metadata) : null,
      runId,
      request.runSeq ?? null,
    );

    row.last_seq = seq;
    row.total_logs += 1;
    row[sourceCount] += 1;
    row[levelCount] += 1;
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
    if (runId !== null) entry.runId = runId;
    if (request.runSeq !== undefined) entry.runSeq = request.runSeq;
    stored.push(entry);
  }

  // Nothing new (a resent batch): the task's activity time stays where it was.
  if (stored.length === 0) return { stored, duplicates, lastSeq: row.last_seq };
  await rows.write(client);

  row.status = state.status;
  row.exit_code = state.exitCode ?? null;
  row.started_at = state.startedAtMs ?? null;
  row.finished_at = state.finishedAtMs ?? null;
  row.updated_at = context.now;
  await client.query({ ...UPDATE_TASK, values: taskRowValues(row) });

  const result: AppendResult = { stored, duplicates, lastSeq: row.last_seq };
  if (!sameTaskState(stateBefore, state)) result.taskChanged = toTaskSummary(row);
  return result;
}

/**
 * The task's row, locked until the transaction ends: the writers of one task, on whichever
 * instance, take their seqs one after the other. A new task's row is made first; when two
 * writers make it at once, one insert does nothing and both then queue on the same lock.
 */
async function lockTask(client: PoolClient, taskId: string, now: number): Promise<TaskRow> {
  const locked = await client.query<TaskRow>({ ...LOCK_TASK, values: [taskId] });
  const found = locked.rows[0];
  if (found !== undefined) return found;
  await client.query({ ...CREATE_TASK, values: [taskId, now] });
  const created = (await client.query<TaskRow>({ ...LOCK_TASK, values: [taskId] })).rows[0];
  if (created === undefined) throw new KerutaError('DATABASE_ERROR', "the log store could not create the task's row");
  return created;
}

function hasKeys(object: Record<string, unknown>): boolean {
  for (const _key in object) return true;
  return false;
}

/**
 * The runSeqs the task already holds for each runId in the batch: one range read of the run
 * index per run (an agent's batch is one run and a short run of runSeqs).
 */
async function heldRunSeqs(
  client: PoolClient,
  taskId: string,
  entries: readonly NormalizedLogRequest[],
): Promise<Map<string, Set<number>>> {
  const ranges = new Map<string, { min: number; max: number }>();
  for (const entry of entries) {
    const { runSeq } = entry;
    if (entry.runId === undefined || runSeq === undefined) continue;
    const runId = storableText(entry.runId);
    const range = ranges.get(runId);
    if (range === undefined) ranges.set(runId, { min: runSeq, max: runSeq });
    else if (runSeq < range.min) range.min = runSeq;
    else if (runSeq > range.max) range.max = runSeq;
  }
  const held = new Map<string, Set<number>>();
  for (const [runId, { min, max }] of ranges) {
    const { rows } = await client.query<{ task_id: string; run_seq: number }>({ ...HELD_RUN_SEQS, values: [runId, min, max] });
    const seqs = new Set<number>();
    for (const row of rows) if (row.task_id === taskId) seqs.add(row.run_seq);
    held.set(runId, seqs);
  }
  return held;
}
