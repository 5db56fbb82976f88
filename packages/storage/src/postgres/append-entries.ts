// The body of LogStore.append for PostgreSQL; runs inside one READ COMMITTED transaction.
import { KerutaError, type NormalizedLogRequest } from '@keruta/protocol';
import type { PoolClient } from 'pg';
import { planAppend, type HeldRunSeqs } from '../append-plan.js';
import type { AppendResult } from '../log-store.js';
import { checkRunOwner, runRanges, type RunRanges } from '../run-owners.js';
import { stateOf, type TaskRow } from '../row-mapping.js';
import { createCopyRows, storableText } from './copy-logs.js';
import { indexAppended } from './error-index.js';
import { CLAIM_RUN, CREATE_TASK, HELD_RUN_SEQS, LOCK_TASK, UPDATE_TASK, taskRowValues } from './statements.js';

export interface AppendContext {
  client: PoolClient;
  maxMessageLength: number;
  /** The server's clock, for the task's `updatedAt`. */
  now: number;
  /** Who writes; see AppendOptions. */
  writer: string | undefined;
}

/** `entries` is not empty: an empty batch is answered without a transaction. */
export async function appendEntries(
  context: AppendContext,
  taskId: string,
  entries: readonly NormalizedLogRequest[],
): Promise<AppendResult> {
  const { client, maxMessageLength } = context;
  const existing = await lockTask(client, taskId, context.now);
  const ranges = runRanges(entries, storableText);
  const { writer } = context;
  if (writer !== undefined) {
    for (const runId of ranges.keys()) {
      const { rows } = await client.query<{ writer: string }>({ ...CLAIM_RUN, values: [taskId, runId, writer] });
      checkRunOwner(taskId, runId, writer, rows[0]?.writer);
    }
  }
  const plan = planAppend({
    taskId,
    row: existing,
    stateBefore: stateOf(existing),
    held: await heldRunSeqs(client, taskId, ranges),
    maxMessageLength,
    storable: storableText,
  });
  const rows = createCopyRows();
  for (const request of entries) {
    const planned = plan.admit(request);
    if (planned !== undefined) rows.add(...planned);
  }
  // Nothing new (a resent batch): the task's activity time stays where it was.
  if (!plan.changed) return plan.result();
  await rows.write(client);
  // In the same transaction as the lines it points to.
  await indexAppended(client, taskId, plan.result().stored);
  await client.query({ ...UPDATE_TASK, values: taskRowValues(plan.finalRow(context.now)) });
  return plan.result();
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

/**
 * The runSeqs the task already holds for each runId in the batch, with what each said: one
 * range read of the run index per run (an agent's batch is one run and a short run of runSeqs).
 */
async function heldRunSeqs(client: PoolClient, taskId: string, ranges: RunRanges): Promise<HeldRunSeqs> {
  const held: HeldRunSeqs = new Map();
  for (const [runId, { min, max }] of ranges) {
    const { rows } = await client.query<{ task_id: string; run_seq: number; source: string; message: string }>({
      ...HELD_RUN_SEQS,
      values: [runId, min, max],
    });
    const lines = new Map<number, { source: string; message: string }>();
    for (const row of rows) if (row.task_id === taskId) lines.set(row.run_seq, row);
    held.set(runId, lines);
  }
  return held;
}
