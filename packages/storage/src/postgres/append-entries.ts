// The body of LogStore.append for PostgreSQL; runs inside one READ COMMITTED transaction.
import { KerutaError, type NormalizedLogRequest } from '@keruta/protocol';
import type { PoolClient } from 'pg';
import { planAppend, type HeldRunSeqs } from '../append-plan.js';
import type { AppendResult } from '../log-store.js';
import { checkRunOwner, runRanges, type RunRanges } from '../run-owners.js';
import { stateOf, type TaskRow } from '../row-mapping.js';
import { createCopyRows, storableText } from './copy-logs.js';
import { indexAppended } from './error-index.js';
import { createSpanBuilder, heldOfSpans, seqsWithin, spanWrites, type RunSpan, type SpanBuilder, type SpanLine } from '../run-spans.js';
import {
  CLAIM_RUN,
  CREATE_TASK,
  EXTEND_SPAN,
  INSERT_SPANS,
  LAST_SPAN,
  LOCK_TASK,
  SPANS_WITHIN,
  SPAN_LINES,
  UPDATE_TASK,
  taskRowValues,
} from './statements.js';

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
  const lastSpans = new Map<string, RunSpan | undefined>();
  const plan = planAppend({
    taskId,
    row: existing,
    stateBefore: stateOf(existing),
    held: await heldRunSeqs(client, taskId, ranges, lastSpans),
    maxMessageLength,
    storable: storableText,
  });
  const rows = createCopyRows();
  const spans = createSpanBuilder();
  for (const request of entries) {
    const planned = plan.admit(request);
    if (planned === undefined) continue;
    rows.add(...planned);
    const [, seq, , , , , , , runId, runSeq] = planned;
    if (runId !== null && runSeq !== null) spans.add(runId, runSeq, seq);
  }
  // Nothing new (a resent batch): the task's activity time stays where it was.
  if (!plan.changed) return plan.result();
  await rows.write(client);
  await writeSpans(client, taskId, spans, lastSpans);
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
 * The runSeqs the task already holds for each runId in the batch, with what each said, and each
 * run's last span in `lastSpans`. A batch past the run's high-water mark (the agent's every batch
 * but a resend) costs one look-up of the last span; one at or below it reads the spans it
 * overlaps and the lines they cover, by seq.
 */
async function heldRunSeqs(
  client: PoolClient,
  taskId: string,
  ranges: RunRanges,
  lastSpans: Map<string, RunSpan | undefined>,
): Promise<HeldRunSeqs> {
  const held: HeldRunSeqs = new Map();
  for (const [runId, { min, max }] of ranges) {
    const last = (await client.query<RunSpan>({ ...LAST_SPAN, values: [taskId, runId] })).rows[0];
    lastSpans.set(runId, last);
    if (last === undefined || min > last.lastRunSeq) {
      held.set(runId, new Map());
      continue;
    }
    const { rows: overlapping } = await client.query<RunSpan>({ ...SPANS_WITHIN, values: [taskId, runId, min, max] });
    const lines: SpanLine[] = [];
    for (const span of overlapping) {
      const within = seqsWithin(span, min, max);
      if (within === undefined) continue;
      lines.push(...(await client.query<SpanLine>({ ...SPAN_LINES, values: [taskId, within.fromSeq, within.toSeq] })).rows);
    }
    held.set(runId, heldOfSpans(overlapping, lines, min, max));
  }
  return held;
}

/** The batch's spans: one UPDATE per run that goes on from its last span, an INSERT for the rest. */
async function writeSpans(client: PoolClient, taskId: string, spans: SpanBuilder, lastSpans: Map<string, RunSpan | undefined>): Promise<void> {
  for (const [runId, runSpans] of spans.spans) {
    const { extend, insert } = spanWrites(lastSpans.get(runId), runSpans);
    if (extend !== undefined) {
      await client.query({ ...EXTEND_SPAN, values: [taskId, runId, extend.firstRunSeq, extend.lastRunSeq] });
    }
    if (insert.length > 0) {
      await client.query({
        ...INSERT_SPANS,
        values: [taskId, runId, insert.map((s) => s.firstRunSeq), insert.map((s) => s.lastRunSeq), insert.map((s) => s.firstSeq)],
      });
    }
  }
}
