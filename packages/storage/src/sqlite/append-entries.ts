// The body of LogStore.append for SQLite; runs inside one IMMEDIATE transaction.
import type { NormalizedLogRequest } from '@keruta/protocol';
import { planAppend, type HeldRunSeqs, type PlannedRow } from '../append-plan.js';
import type { AppendResult } from '../log-store.js';
import { checkRunOwner, runRanges, type RunRanges } from '../run-owners.js';
import { createSpanBuilder, heldOfSpans, seqsWithin, spanWrites, type RunSpan, type SpanLine } from '../run-spans.js';
import { stateOf, type TaskRow } from '../row-mapping.js';
import { UNKNOWN_TASK_STATE } from '../task-status.js';
import type { ErrorIndex } from './error-index.js';
import type { Statements } from './statements.js';

/** Rows per INSERT statement; 10 parameters each, far below SQLite's limit. */
const INSERT_CHUNK = 100;

export interface AppendContext {
  statements: Statements;
  maxMessageLength: number;
  /** The server's clock, for the task's `updatedAt`. */
  now: number;
  /** Who writes; see AppendOptions. */
  writer: string | undefined;
  errorIndex: ErrorIndex;
}

export function appendEntries(
  context: AppendContext,
  taskId: string,
  entries: readonly NormalizedLogRequest[],
): AppendResult {
  const { statements, maxMessageLength } = context;
  const existing = statements.selectTask.get(taskId);
  // An empty batch must not create a task: "a task that has never had a log" stays unknown.
  if (entries.length === 0) return { stored: [], duplicates: 0, conflicts: 0, lastSeq: existing?.last_seq ?? 0 };

  const ranges = runRanges(entries, (runId) => runId);
  const { writer } = context;
  if (writer !== undefined) {
    for (const runId of ranges.keys()) {
      statements.claimRun.run(taskId, runId, writer);
      checkRunOwner(taskId, runId, writer, statements.runWriter.get(taskId, runId));
    }
  }
  const lastSpans = new Map<string, RunSpan | undefined>();
  const plan = planAppend({
    taskId,
    row: existing ?? newTaskRow(taskId, context.now),
    stateBefore: existing === undefined ? UNKNOWN_TASK_STATE : stateOf(existing),
    held: heldRunSeqs(statements, taskId, ranges, lastSpans),
    maxMessageLength,
  });
  const insert = createBulkInsert(statements);
  const spans = createSpanBuilder();
  for (const request of entries) {
    const planned = plan.admit(request);
    if (planned === undefined) continue;
    const [, seq, , , , , , , runId, runSeq] = planned;
    if (runId !== null && runSeq !== null) {
      spans.add(runId, runSeq, seq);
      // The span says the run and runSeq once for the stretch; a read puts them back (attachRuns).
      planned[8] = null;
      planned[9] = null;
    }
    insert.add(...planned);
  }
  insert.flush();
  for (const [runId, runSpans] of spans.spans) {
    const { extend, insert: inserted } = spanWrites(lastSpans.get(runId), runSpans);
    if (extend !== undefined) statements.extendSpan.run(extend.lastRunSeq, taskId, runId, extend.firstRunSeq);
    for (const span of inserted) statements.insertSpan.run(taskId, runId, span.firstRunSeq, span.lastRunSeq, span.firstSeq);
  }
  // In the same transaction as the lines it points to.
  context.errorIndex.indexAppended(taskId, plan.result().stored);
  // Nothing new (a resent batch): the task's activity time stays where it was.
  if (plan.changed) statements.upsertTask.run(plan.finalRow(context.now));
  return plan.result();
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

/**
 * The runSeqs the task already holds for each runId in the batch, with what each said, and each
 * run's last span in `lastSpans`. A batch past the run's high-water mark (the agent's every batch
 * but a resend) costs one look-up of the last span; one at or below it reads the spans it
 * overlaps and the lines they cover, by seq.
 */
function heldRunSeqs(
  statements: Statements,
  taskId: string,
  ranges: RunRanges,
  lastSpans: Map<string, RunSpan | undefined>,
): HeldRunSeqs {
  const held: HeldRunSeqs = new Map();
  for (const [runId, { min, max }] of ranges) {
    const last = statements.lastSpan.get(taskId, runId);
    lastSpans.set(runId, last);
    if (last === undefined || min > last.lastRunSeq) {
      held.set(runId, new Map());
      continue;
    }
    const overlapping: RunSpan[] = [];
    // Disjoint spans, last first: the first one that ends before `min` ends the look-up. (No
    // other statement may run while one iterates: the lines are read after.)
    for (const span of statements.spansBefore.iterate(taskId, runId, max)) {
      if (span.lastRunSeq < min) break;
      overlapping.push(span);
    }
    const lines: SpanLine[] = [];
    for (const span of overlapping) {
      const within = seqsWithin(span, min, max);
      if (within !== undefined) lines.push(...statements.spanLines.all(taskId, within.fromSeq, within.toSeq));
    }
    held.set(runId, heldOfSpans(overlapping, lines, min, max));
  }
  return held;
}

/**
 * Collects rows and writes them INSERT_CHUNK at a time. Measured on 200,000 lines in batches
 * of 1,000: one `INSERT … ON CONFLICT DO NOTHING` per row (duplicates told by `changes`) took
 * ~560 ms, finding duplicates first with one range read and writing 100 rows per INSERT ~400 ms.
 */
function createBulkInsert(statements: Statements) {
  let values: PlannedRow[number][] = [];
  let rows = 0;
  const write = () => {
    if (rows > 0) statements.insertLogs(rows).run(...values);
    values = [];
    rows = 0;
  };
  return {
    add(...row: PlannedRow): void {
      values.push(...row);
      rows += 1;
      if (rows === INSERT_CHUNK) write();
    },
    flush: write,
  };
}
