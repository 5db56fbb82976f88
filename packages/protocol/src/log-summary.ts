// What a task's log says about where it broke: the error index kept by the store (errors,
// `::error::` annotations, `::group::` sections) as GET /tasks/{taskId}/summary answers it, and
// the line markers it is built from, read the same way by the store and the page.
import { Type, type Static } from '@sinclair/typebox';
import { LogEntrySchema } from './log-entry.js';

export const GROUP_START_MARKER = '::group::';
export const GROUP_END_MARKER = '::endgroup::';

/** `::group::Name` opens a section; a second one before `::endgroup::` closes the first. */
export function isGroupStart(message: string): boolean {
  return message.startsWith(GROUP_START_MARKER);
}

export function isGroupEnd(message: string): boolean {
  return message.charCodeAt(0) === 58 /* ':' */ && message.trimEnd() === GROUP_END_MARKER;
}

/** A GitHub Actions-style annotation: `::error::text` or `::error file=…,line=…::text`. */
export function isErrorAnnotation(message: string): boolean {
  return message.startsWith('::error::') || message.startsWith('::error ');
}

/** The name a `::group::Name` line gives its section ("" when it gives none). */
export function groupNameOf(message: string): string {
  return message.slice(GROUP_START_MARKER.length).trim();
}

/** Why a line is in the error index: its level is ERROR, or it is an `::error::` annotation. */
export const INDEXED_ERROR_KINDS = ['error', 'annotation'] as const;
export type IndexedErrorKind = (typeof INDEXED_ERROR_KINDS)[number];

export const IndexedErrorSchema = Type.Object({
  seq: Type.Integer(),
  kind: Type.Union(INDEXED_ERROR_KINDS.map((k) => Type.Literal(k))),
  /** The `seq` of the `::group::` line of the section holding it; absent outside sections. */
  groupSeq: Type.Optional(Type.Integer()),
});
export type IndexedError = Static<typeof IndexedErrorSchema>;

/** `open`: no `::endgroup::` yet; `failed`: it holds an indexed error; `succeeded`: closed without one. */
export const GROUP_STATUSES = ['open', 'failed', 'succeeded'] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];

export const LogGroupSchema = Type.Object({
  name: Type.String(),
  startSeq: Type.Integer(),
  /** The `::endgroup::` line (or the line before the next `::group::`); absent while open. */
  endSeq: Type.Optional(Type.Integer()),
  status: Type.Union(GROUP_STATUSES.map((s) => Type.Literal(s))),
  startedAt: Type.String(),
  endedAt: Type.Optional(Type.String()),
  /** From the header's timestamp to the end's; while open, to the task's latest line. */
  durationMs: Type.Integer(),
  errorCount: Type.Integer(),
});
export type LogGroup = Static<typeof LogGroupSchema>;

export const DEFAULT_SUMMARY_CONTEXT = 5;
export const MAX_SUMMARY_CONTEXT = 200;

export const TaskLogSummarySchema = Type.Object({
  taskId: Type.String(),
  lastSeq: Type.Integer(),
  counts: Type.Object({
    errors: Type.Integer(),
    annotations: Type.Integer(),
    groups: Type.Integer(),
    failedGroups: Type.Integer(),
  }),
  /** The first indexed error with `context` lines either side; null when the log has none. */
  firstFailure: Type.Union([
    Type.Object({
      seq: Type.Integer(),
      kind: Type.Union(INDEXED_ERROR_KINDS.map((k) => Type.Literal(k))),
      groupSeq: Type.Optional(Type.Integer()),
      lines: Type.Array(LogEntrySchema),
    }),
    Type.Null(),
  ]),
  /** Indexed errors by `seq`, one page; read on with `errorsAfter` = `nextErrorsAfter`. */
  errors: Type.Array(IndexedErrorSchema),
  nextErrorsAfter: Type.Union([Type.Integer(), Type.Null()]),
  /** Sections by header `seq`, one page; read on with `groupsAfter` = `nextGroupsAfter`. */
  groups: Type.Array(LogGroupSchema),
  nextGroupsAfter: Type.Union([Type.Integer(), Type.Null()]),
});
export type TaskLogSummary = Static<typeof TaskLogSummarySchema>;

/** Most lines one page of GET /tasks/{taskId}/errors holds: its error count shrinks to fit. */
export const MAX_ERROR_CONTEXT_LINES = 10_000;

/** Errors whose context overlaps or touches share one window. */
export const ErrorWindowSchema = Type.Object({
  fromSeq: Type.Integer(),
  toSeq: Type.Integer(),
  errors: Type.Array(IndexedErrorSchema),
  lines: Type.Array(LogEntrySchema),
});
export type ErrorWindow = Static<typeof ErrorWindowSchema>;

/** GET /tasks/{taskId}/errors: only the failures, each with `context` lines either side. */
export const ErrorContextPageSchema = Type.Object({
  taskId: Type.String(),
  context: Type.Integer(),
  totalErrors: Type.Integer(),
  windows: Type.Array(ErrorWindowSchema),
  nextErrorsAfter: Type.Union([Type.Integer(), Type.Null()]),
});
export type ErrorContextPage = Static<typeof ErrorContextPageSchema>;

/** One line of a comparison: `added` is in the task, `removed` only in the run compared with. */
export const CompareLineSchema = Type.Object({
  op: Type.Union([Type.Literal('same'), Type.Literal('added'), Type.Literal('removed')]),
  text: Type.String(),
  /** The line's seq in the task (same, added). */
  seq: Type.Optional(Type.Integer()),
  /** The line's seq in the other task (same, removed). */
  withSeq: Type.Optional(Type.Integer()),
  /** Unchanged lines are left out before this one. */
  gapBefore: Type.Optional(Type.Boolean()),
});
export type CompareLine = Static<typeof CompareLineSchema>;

export const CompareSectionSchema = Type.Object({
  /** The `::group::` name; null for the lines outside sections. */
  name: Type.Union([Type.String(), Type.Null()]),
  inTask: Type.Boolean(),
  inWith: Type.Boolean(),
  taskLines: Type.Integer(),
  withLines: Type.Integer(),
  added: Type.Integer(),
  removed: Type.Integer(),
  /** The changed lines with up to 3 unchanged ones around each change; empty when none changed. */
  lines: Type.Array(CompareLineSchema),
  truncated: Type.Optional(Type.Boolean()),
});
export type CompareSection = Static<typeof CompareSectionSchema>;

/** GET /tasks/{taskId}/compare */
export const TaskCompareSchema = Type.Object({
  taskId: Type.String(),
  withTaskId: Type.String(),
  /** What was replaced by a placeholder before lines were compared. */
  normalised: Type.Array(Type.String()),
  sections: Type.Array(CompareSectionSchema),
  totals: Type.Object({ added: Type.Integer(), removed: Type.Integer(), taskLines: Type.Integer(), withLines: Type.Integer() }),
  /** More changed lines than one answer holds: some sections are cut. */
  truncated: Type.Boolean(),
});
export type TaskCompare = Static<typeof TaskCompareSchema>;
