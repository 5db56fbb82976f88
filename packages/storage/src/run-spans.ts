// How both stores tell a resend from a new line without an index entry per line: a run's stored
// lines are kept as spans, each a stretch where runSeq and seq both step by one (an agent's batch
// is one span, and the next batch of the run extends it). The last span's end is the run's
// high-water mark, as Kafka's idempotent producer keeps a sequence per producer: a batch past it
// needs no look-up at all; only runSeqs at or below it are looked for, through the spans, in the
// few stored lines they cover. The SQLite store also writes a run's lines without their runId and
// runSeq: the span says them once for the whole stretch, and a read puts them back (attachRuns).
import type { LogEntry } from '@keruta/protocol';
import type { HeldLine } from './append-plan.js';

/** runSeqs firstRunSeq..lastRunSeq of one run, stored at seqs firstSeq.. in the same order. */
export interface RunSpan {
  firstRunSeq: number;
  lastRunSeq: number;
  firstSeq: number;
}

/**
 * What a runSeq that a span covers said when its line has since been deleted: it was stored once,
 * so a resend is a duplicate (the spans stay disjoint, and retention does not bring lines back).
 */
export const DELETED_LINE: HeldLine = Object.freeze({ source: '', message: '' });

/** The seqs at which the span holds the runSeqs of [min, max], or undefined when it holds none. */
export function seqsWithin(span: RunSpan, min: number, max: number): { fromRunSeq: number; toRunSeq: number; fromSeq: number; toSeq: number } | undefined {
  const fromRunSeq = Math.max(min, span.firstRunSeq);
  const toRunSeq = Math.min(max, span.lastRunSeq);
  if (fromRunSeq > toRunSeq) return undefined;
  return {
    fromRunSeq,
    toRunSeq,
    fromSeq: span.firstSeq + (fromRunSeq - span.firstRunSeq),
    toSeq: span.firstSeq + (toRunSeq - span.firstRunSeq),
  };
}

/** A stored line of the task, as the look-up reads it by seq. */
export interface SpanLine {
  seq: number;
  source: string;
  message: string;
}

/**
 * The runSeqs of [min, max] that `spans` (of one run) cover, with what each said: from `lines`
 * (the task's lines at the spans' seqs; a span says which runSeq each seq holds), or
 * DELETED_LINE for a covered runSeq whose line is gone.
 */
export function heldOfSpans(spans: readonly RunSpan[], lines: readonly SpanLine[], min: number, max: number): Map<number, HeldLine> {
  const bySeq = new Map<number, SpanLine>();
  for (const line of lines) bySeq.set(line.seq, line);
  const held = new Map<number, HeldLine>();
  for (const span of spans) {
    const within = seqsWithin(span, min, max);
    if (within === undefined) continue;
    for (let runSeq = within.fromRunSeq; runSeq <= within.toRunSeq; runSeq++) {
      const line = bySeq.get(within.fromSeq + (runSeq - within.fromRunSeq));
      held.set(runSeq, line === undefined ? DELETED_LINE : { source: line.source, message: line.message });
    }
  }
  return held;
}

/** A span with its run, as a read finds the runs of the lines it returns. */
export interface SeqSpan extends RunSpan {
  runId: string;
}

/**
 * Gives each entry that has no run of its own (its row has run_id NULL: a store writes a run's
 * lines without it, the span says it once) the runId and runSeq of the span that holds its seq.
 * `entries` in seq order; `spans` the task's spans that hold any of their seqs, in seq order
 * (disjoint in seq).
 */
export function attachRuns(entries: readonly LogEntry[], spans: readonly SeqSpan[]): void {
  if (spans.length === 0) return;
  let at = 0;
  for (const entry of entries) {
    if (entry.runId !== undefined) continue;
    while (at < spans.length && lastSeqOf(spans[at]!) < entry.seq) at++;
    const span = spans[at];
    if (span === undefined) return;
    if (span.firstSeq <= entry.seq) {
      entry.runId = span.runId;
      entry.runSeq = span.firstRunSeq + (entry.seq - span.firstSeq);
    }
  }
}

export function lastSeqOf(span: RunSpan): number {
  return span.firstSeq + (span.lastRunSeq - span.firstRunSeq);
}

/** Collects the spans of the rows a batch stores, per run, in seq order. */
export function createSpanBuilder() {
  const byRun = new Map<string, RunSpan[]>();
  return {
    add(runId: string, runSeq: number, seq: number): void {
      let spans = byRun.get(runId);
      if (spans === undefined) {
        spans = [];
        byRun.set(runId, spans);
      }
      const last = spans[spans.length - 1];
      if (last !== undefined && runSeq === last.lastRunSeq + 1 && seq === last.firstSeq + (runSeq - last.firstRunSeq)) {
        last.lastRunSeq = runSeq;
      } else {
        spans.push({ firstRunSeq: runSeq, lastRunSeq: runSeq, firstSeq: seq });
      }
    },
    get spans(): ReadonlyMap<string, RunSpan[]> {
      return byRun;
    },
  };
}

export type SpanBuilder = ReturnType<typeof createSpanBuilder>;

/**
 * How a run's new spans are written: the first one extends the run's last stored span when it
 * goes on from it (the common case: one UPDATE per batch), every other one is a new row.
 */
export function spanWrites(last: RunSpan | undefined, spans: readonly RunSpan[]): { extend?: RunSpan; insert: RunSpan[] } {
  const [first, ...rest] = spans;
  if (
    first !== undefined &&
    last !== undefined &&
    first.firstRunSeq === last.lastRunSeq + 1 &&
    first.firstSeq === last.firstSeq + (first.firstRunSeq - last.firstRunSeq)
  ) {
    return { extend: { ...last, lastRunSeq: first.lastRunSeq }, insert: rest };
  }
  return { insert: [...spans] };
}

/**
 * The migration's SQL (both dialects) that builds the spans of the lines already stored: a new
 * span starts wherever runSeq or seq does not step by one from the run's previous line.
 */
export const SPANS_OF_STORED_LINES = `
  INSERT INTO run_spans (task_id, run_id, first_run_seq, last_run_seq, first_seq)
  SELECT task_id, run_id, MIN(run_seq), MAX(run_seq), MIN(seq)
    FROM (
      SELECT task_id, run_id, run_seq, seq,
             SUM(starts) OVER (PARTITION BY task_id, run_id ORDER BY run_seq ROWS UNBOUNDED PRECEDING) AS span
        FROM (
          SELECT task_id, run_id, run_seq, seq,
                 CASE WHEN run_seq = LAG(run_seq) OVER w + 1 AND seq = LAG(seq) OVER w + 1 THEN 0 ELSE 1 END AS starts
            FROM logs
           WHERE run_id IS NOT NULL AND run_seq IS NOT NULL
          WINDOW w AS (PARTITION BY task_id, run_id ORDER BY run_seq)
        ) AS marked
    ) AS numbered
   GROUP BY task_id, run_id, span`;
