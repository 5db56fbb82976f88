// What both stores do with a batch once they hold the task's row: skip the (runId, runSeq)
// pairs already held (a resend when the text is the same, a conflict when it is not), give each entry its seq and line number, cut long messages, keep the
// counters and the status, and answer the append. Each dialect only reads and writes.
import { KerutaError, MAX_SAFE_COUNTER, entryId, type LogEntry, type NormalizedLogRequest } from '@keruta/protocol';
import type { AppendResult } from './log-store.js';
import { DELETED_LINE } from './run-spans.js';
import { LEVEL_COUNT_COLUMN, NEXT_LINE_COLUMN, SOURCE_COUNT_COLUMN, toTaskSummary, type TaskRow } from './row-mapping.js';
import { applyStatusEvent, sameTaskState, type TaskState } from './task-status.js';

/** One logs-table row, in the column order of the logs table. */
export type PlannedRow = [
  taskId: string,
  seq: number,
  timeMs: number,
  source: string,
  level: string,
  message: string,
  lineNumber: number,
  metadataJson: string | null,
  runId: string | null,
  runSeq: number | null,
];

/** What a stored (runId, runSeq) said: a resend says the same, another writer does not. */
export interface HeldLine {
  source: string;
  message: string;
}

/** Per runId of the batch, the runSeqs the task already holds (or held: DELETED_LINE) and what each said. */
export type HeldRunSeqs = Map<string, Map<number, HeldLine>>;

export interface AppendPlanInput {
  taskId: string;
  /** The task's row as stored (a copy is changed), or a new one. */
  row: TaskRow;
  stateBefore: TaskState;
  /** The runSeqs the task already holds, per runId of the batch. */
  held: HeldRunSeqs;
  maxMessageLength: number;
  /** Makes text storable (PostgreSQL cannot hold NUL); identity elsewhere. */
  storable?: (text: string) => string;
}

export interface AppendPlan {
  /** The row to write for `request`, or undefined when the task already holds it. */
  admit(request: NormalizedLogRequest): PlannedRow | undefined;
  /** True once any entry was admitted: only then are rows and the task row written. */
  readonly changed: boolean;
  /** The task row to write, with status and activity time set. */
  finalRow(now: number): TaskRow;
  result(): AppendResult;
}

export function planAppend(input: AppendPlanInput): AppendPlan {
  const { taskId, held, maxMessageLength } = input;
  const storable = input.storable ?? ((text: string) => text);
  const row: TaskRow = { ...input.row };
  let state = input.stateBefore;
  const stored: LogEntry[] = [];
  let duplicates = 0;
  let conflicts = 0;

  return {
    admit(request) {
      const runId = request.runId === undefined ? null : storable(request.runId);
      let message = storable(request.message);
      const cut = message.length > maxMessageLength;
      if (cut) message = message.slice(0, maxMessageLength);
      if (runId !== null && request.runSeq !== undefined) {
        const seen = held.get(runId);
        const before = seen?.get(request.runSeq);
        if (before !== undefined) {
          // A deleted line was stored once: its resend is a duplicate, whatever it says.
          if (before === DELETED_LINE || (before.source === request.source && before.message === message)) duplicates += 1;
          else conflicts += 1;
          return undefined;
        }
        // Remembered, so that the same pair repeated later in this batch is told apart too.
        seen?.set(request.runSeq, { source: request.source, message });
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
      // The length before any cut: the agent's, when it cut the line first.
      const metadata = cut ? { originalLength: request.message.length, ...request.metadata, truncated: true } : request.metadata;

      row.last_seq = seq;
      row.total_logs += 1;
      row[sourceCount] += 1;
      row[levelCount] += 1;
      // A caller-given number moves the counter past it, so an assigned one never repeats it;
      // past the largest safe integer it stays there, as two larger doubles may be one number.
      if (lineNumber >= row[nextLine]) row[nextLine] = Math.min(lineNumber + 1, MAX_SAFE_COUNTER);
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
      const metadataJson = hasKeys(metadata) ? JSON.stringify(metadata) : null;
      return [taskId, seq, request.timeMs, request.source, request.level, message, lineNumber, metadataJson, runId, request.runSeq ?? null];
    },
    get changed() {
      return stored.length > 0;
    },
    finalRow(now) {
      row.status = state.status;
      row.exit_code = state.exitCode ?? null;
      row.started_at = state.startedAtMs ?? null;
      row.finished_at = state.finishedAtMs ?? null;
      row.updated_at = now;
      return row;
    },
    result() {
      const result: AppendResult = { stored, duplicates, conflicts, lastSeq: row.last_seq };
      if (stored.length > 0 && !sameTaskState(input.stateBefore, state)) result.taskChanged = toTaskSummary(row);
      return result;
    },
  };
}

function hasKeys(object: Record<string, unknown>): boolean {
  for (const _key in object) return true;
  return false;
}
