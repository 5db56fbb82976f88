// The REST shapes of PROTOCOL.md §2: pages, stats, results and task summaries.
import { Type, type Static } from '@sinclair/typebox';
import { LogEntrySchema, type LogLevel, type LogSource } from './log-entry.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** The Spring-style page every list answers with. */
export const LogPageSchema = Type.Object({
  content: Type.Array(LogEntrySchema),
  totalElements: Type.Integer(),
  totalPages: Type.Integer(),
  size: Type.Integer(),
  number: Type.Integer(),
  /**
   * A search (or another read that scans) answers within a time budget, with how far it got:
   * every seq through `scannedThrough` was looked at; `complete` false means the budget ran out
   * (`totalElements` then counts the matches found so far); `nextAfterSeq`, when present, is
   * the `afterSeq` that reads on past `content`.
   */
  scannedThrough: Type.Optional(Type.Integer()),
  nextAfterSeq: Type.Optional(Type.Integer()),
  complete: Type.Optional(Type.Boolean()),
});
export type LogPage = Static<typeof LogPageSchema>;

/** GET /tasks/{taskId}/logs, parsed. */
export interface LogQuery {
  sources?: LogSource[];
  levels?: LogLevel[];
  page: number;
  size: number;
  /** Inclusive bounds on `timestamp`, epoch milliseconds. */
  from?: number;
  to?: number;
  /** Case-insensitive text the message must contain. */
  q?: string;
  /** Keyset cursor: only entries with a larger `seq`; `page` is then ignored. */
  afterSeq?: number;
}

export const LogStatsSchema = Type.Object({
  taskId: Type.String(),
  totalLogs: Type.Integer(),
  logCounts: Type.Object({ stdout: Type.Integer(), stderr: Type.Integer(), agent: Type.Integer() }),
  levelCounts: Type.Object({
    DEBUG: Type.Integer(),
    INFO: Type.Integer(),
    WARN: Type.Integer(),
    ERROR: Type.Integer(),
  }),
  timeRange: Type.Object({
    start: Type.Union([Type.String(), Type.Null()]),
    end: Type.Union([Type.String(), Type.Null()]),
  }),
});
export type LogStats = Static<typeof LogStatsSchema>;

export const DeleteResultSchema = Type.Object({ deletedCount: Type.Integer(), message: Type.String() });
export type DeleteResult = Static<typeof DeleteResultSchema>;

export const AppendOneResultSchema = Type.Object({
  id: Type.String(),
  taskId: Type.String(),
  timestamp: Type.String(),
  success: Type.Boolean(),
  seq: Type.Integer(),
  duplicate: Type.Boolean(),
});
export type AppendOneResult = Static<typeof AppendOneResultSchema>;

export const AppendBatchResultSchema = Type.Object({
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  lastSeq: Type.Integer(),
  /** Entries whose (runId, runSeq) the task held with other text: not stored; only sent when > 0. */
  conflicts: Type.Optional(Type.Integer()),
});
export type AppendBatchResult = Static<typeof AppendBatchResultSchema>;

export const TASK_STATUSES = ['running', 'succeeded', 'failed', 'unknown'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TaskSummarySchema = Type.Object({
  taskId: Type.String(),
  status: Type.Union(TASK_STATUSES.map((s) => Type.Literal(s))),
  exitCode: Type.Optional(Type.Integer()),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.String()),
  totalLogs: Type.Integer(),
  lastSeq: Type.Integer(),
  updatedAt: Type.String(),
});
export type TaskSummary = Static<typeof TaskSummarySchema>;

export const TaskPageSchema = Type.Object({
  content: Type.Array(TaskSummarySchema),
  totalElements: Type.Integer(),
  totalPages: Type.Integer(),
  size: Type.Integer(),
  number: Type.Integer(),
});
export type TaskPage = Static<typeof TaskPageSchema>;

/** GET /search: matching lines of every task the credential may read, newest first. */
export const SearchPageSchema = Type.Object({
  results: Type.Array(LogEntrySchema),
  /** Present when more may match: the `cursor` of the next page. */
  nextCursor: Type.Optional(Type.String()),
  /** Lines stored and not yet in the search index. */
  pending: Type.Integer(),
});
export type SearchPage = Static<typeof SearchPageSchema>;

export const EXPORT_FORMATS = ['json', 'csv', 'txt'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('unhealthy')]),
  checks: Type.Record(Type.String(), Type.Object({ status: Type.String(), message: Type.Optional(Type.String()) })),
});
export type Health = Static<typeof HealthSchema>;
