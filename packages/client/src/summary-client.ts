// createSummaryClient: the "where did it break" endpoints — GET /tasks/{taskId}/summary (the
// store's error index), GET /tasks/{taskId}/errors (the failures with context) and
// GET /tasks/{taskId}/compare (the lines that differ from another run) — checked
// against protocol's schemas, with the REST client's options and errors (KerutaClientError).
import {
  ErrorContextPageSchema,
  TaskCompareSchema,
  TaskLogSummarySchema,
  createValidator,
  type ErrorContextPage,
  type IndexedError,
  type TaskCompare,
  type TaskLogSummary,
  type Validator,
} from '@keruta/protocol';
import { createRequests } from './http-requests.js';
import { withQuery } from './log-query.js';
import type { RestClientOptions } from './rest-client.js';
import { checkTaskId } from './urls.js';

export interface GetSummaryParams {
  /** Lines before and after the first failure, 0–200 (server default 5). */
  context?: number;
  /** Errors and sections per page, 1–1000 (server default 100). */
  size?: number;
  /** Cursor: errors after this seq (`nextErrorsAfter` of the previous page). */
  errorsAfter?: number;
  /** Cursor: sections whose header is after this seq (`nextGroupsAfter`). */
  groupsAfter?: number;
}

export interface GetErrorContextParams {
  /** Lines before and after each failure, 0–200 (server default 5). */
  context?: number;
  /** Errors per page, 1–1000 (server default 20; fewer when the context is large). */
  size?: number;
  /** Cursor: errors after this seq (`nextErrorsAfter`). */
  errorsAfter?: number;
}

export interface CompareParams {
  /** The task to compare with; default: the last succeeded run of the same job. */
  with?: string;
  /** Where to find that run instead: the task id's start its runs share (default: up to the last `-`). */
  withPrefix?: string;
}

export interface SummaryClient {
  /** GET /tasks/{taskId}/compare: the lines that differ from another run, section by section. */
  compare(taskId: string, params?: CompareParams): Promise<TaskCompare>;
  /** GET /tasks/{taskId}/errors: only the failures, each with `context` lines around it, in merged windows. */
  getErrorContext(taskId: string, params?: GetErrorContextParams): Promise<ErrorContextPage>;
  /** GET /tasks/{taskId}/summary: counts, the first failure with context, one page of errors and sections. */
  getSummary(taskId: string, params?: GetSummaryParams): Promise<TaskLogSummary>;
  /** Every indexed error of the task in seq order, a page (`pageSize`, default 1000) at a time. */
  iterateErrors(taskId: string, options?: { pageSize?: number }): AsyncGenerator<IndexedError, void, undefined>;
}

const summaryValidator = createValidator(TaskLogSummarySchema);
const errorContextValidator = createValidator(ErrorContextPageSchema);
const compareValidator = createValidator(TaskCompareSchema);

export function createSummaryClient(options: RestClientOptions = {}): SummaryClient {
  const { taskPath, request } = createRequests(options);
  const getChecked = async <T>(taskId: string, path: string, params: Record<string, number | string | undefined>, validator: Validator<T>): Promise<T> => {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value));
    return request({ method: 'GET', url: withQuery(taskPath(taskId, path), search), what: `GET ${path.slice(1)} of ${taskId}`, validator });
  };
  const getSummary = (taskId: string, params: GetSummaryParams = {}): Promise<TaskLogSummary> =>
    getChecked(taskId, '/summary', { ...params }, summaryValidator);

  return {
    compare: async (taskId, params = {}) => {
      if (params.with !== undefined) checkTaskId(params.with);
      return getChecked(taskId, '/compare', { with: params.with, withPrefix: params.withPrefix }, compareValidator);
    },
    getSummary,
    getErrorContext: (taskId, params = {}) => getChecked(taskId, '/errors', { ...params }, errorContextValidator),
    async *iterateErrors(taskId, iterateOptions = {}) {
      let after = 0;
      for (;;) {
        const page = await getSummary(taskId, { context: 0, size: iterateOptions.pageSize ?? 1000, errorsAfter: after });
        yield* page.errors;
        if (page.nextErrorsAfter === null || page.nextErrorsAfter <= after) return;
        after = page.nextErrorsAfter;
      }
    },
  };
}
