// GET /api/v1/tasks/{taskId}/summary: where the task's log broke, from the store's error index
// (never a scan of the log): counts, the first failure with lines around it, errors and sections.
import type { FastifyInstance } from 'fastify';
import {
  DEFAULT_PAGE_SIZE,
  DEFAULT_SUMMARY_CONTEXT,
  KerutaError,
  MAX_PAGE_SIZE,
  MAX_ERROR_CONTEXT_LINES,
  MAX_SUMMARY_CONTEXT,
  assertTaskId,
  type ErrorContextPage,
  type ErrorWindow,
  type LogEntry,
  type TaskLogSummary,
} from '@keruta/protocol';
import type { LogStore } from '@keruta/storage';
import { integer, type RawQuery } from '../query-params.js';

export interface SummaryQuery {
  /** Lines shown before and after the first failure. */
  context: number;
  size: number;
  errorsAfter: number;
  groupsAfter: number;
}

export function parseSummaryQuery(query: RawQuery): SummaryQuery {
  return {
    context: integer(query, 'context', DEFAULT_SUMMARY_CONTEXT, 0, MAX_SUMMARY_CONTEXT),
    size: integer(query, 'size', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
    errorsAfter: integer(query, 'errorsAfter', 0, 0, Number.MAX_SAFE_INTEGER),
    groupsAfter: integer(query, 'groupsAfter', 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

/** The lines from `context` before `seq` to `context` after it, as stored. */
export async function linesAround(store: LogStore, taskId: string, seq: number, context: number): Promise<LogEntry[]> {
  const { entries } = await store.readRange({ taskId, afterSeq: Math.max(0, seq - context - 1), upToSeq: seq + context, limit: 2 * context + 1 });
  return entries;
}

export async function taskLogSummary(store: LogStore, taskId: string, query: SummaryQuery): Promise<TaskLogSummary> {
  const index = await store.errorIndex({ taskId, errorsAfter: query.errorsAfter, groupsAfter: query.groupsAfter, limit: query.size });
  if (index === undefined) throw new KerutaError('TASK_NOT_FOUND', `task ${taskId} has no logs`);
  const { first } = index;
  return {
    taskId,
    lastSeq: index.lastSeq,
    counts: index.counts,
    firstFailure: first === undefined ? null : { ...first, lines: await linesAround(store, taskId, first.seq, query.context) },
    errors: index.errors,
    nextErrorsAfter: index.nextErrorsAfter,
    groups: index.groups,
    nextGroupsAfter: index.nextGroupsAfter,
  };
}

/** Errors per page of GET /errors by default: a screenful of failures. */
const DEFAULT_ERRORS_PER_PAGE = 20;

/**
 * One page of the failures with their context, overlapping windows merged. The page's error count
 * shrinks so that it never holds more than MAX_ERROR_CONTEXT_LINES lines, whatever the log's length.
 */
export async function errorContextPage(store: LogStore, taskId: string, query: SummaryQuery): Promise<ErrorContextPage> {
  const { context } = query;
  const size = Math.max(1, Math.min(query.size, Math.floor(MAX_ERROR_CONTEXT_LINES / (2 * context + 1))));
  const index = await store.errorIndex({ taskId, errorsAfter: query.errorsAfter, groupsAfter: Number.MAX_SAFE_INTEGER, limit: size });
  if (index === undefined) throw new KerutaError('TASK_NOT_FOUND', `task ${taskId} has no logs`);
  const windows: ErrorWindow[] = [];
  for (const error of index.errors) {
    const last = windows.at(-1);
    const fromSeq = Math.max(1, error.seq - context);
    const toSeq = error.seq + context;
    if (last !== undefined && fromSeq <= last.toSeq + 1) {
      last.toSeq = toSeq;
      last.errors.push(error);
    } else {
      windows.push({ fromSeq, toSeq, errors: [error], lines: [] });
    }
  }
  for (const window of windows) {
    window.toSeq = Math.min(window.toSeq, index.lastSeq);
    const { entries } = await store.readRange({ taskId, afterSeq: window.fromSeq - 1, upToSeq: window.toSeq, limit: window.toSeq - window.fromSeq + 1 });
    window.lines = entries;
  }
  return {
    taskId,
    context,
    totalErrors: index.counts.errors + index.counts.annotations,
    windows,
    nextErrorsAfter: index.nextErrorsAfter,
  };
}

export function registerSummaryRoutes(app: FastifyInstance, { store }: { store: LogStore }): void {
  app.get<{ Params: { taskId: string }; Querystring: RawQuery }>(
    '/api/v1/tasks/:taskId/summary',
    { config: { scope: 'logs:read' } },
    async (request) => {
      const taskId = assertTaskId(request.params.taskId);
      return taskLogSummary(store, taskId, parseSummaryQuery(request.query));
    },
  );

  app.get<{ Params: { taskId: string }; Querystring: RawQuery }>(
    '/api/v1/tasks/:taskId/errors',
    { config: { scope: 'logs:read' } },
    async (request) => {
      const taskId = assertTaskId(request.params.taskId);
      const query = parseSummaryQuery(request.query);
      if (request.query['size'] === undefined) query.size = DEFAULT_ERRORS_PER_PAGE;
      return errorContextPage(store, taskId, query);
    },
  );
}
