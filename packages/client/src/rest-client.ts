// createRestClient: one typed method per endpoint of PROTOCOL.md §2. Answers are checked against
// protocol's schemas; failures are KerutaClientError with the server's code, HTTP status and
// Retry-After. Uses the global fetch (browsers, Node 20) unless given another.
import {
  AppendBatchResultSchema,
  AppendOneResultSchema,
  DeleteResultSchema,
  HealthSchema,
  LogPageSchema,
  LogStatsSchema,
  MAX_PAGE_SIZE,
  SearchPageSchema,
  TaskPageSchema,
  TaskSummarySchema,
  createValidator,
  type AppendBatchResult,
  type AppendOneResult,
  type DeleteResult,
  type Health,
  type LogEntry,
  type LogLevel,
  type LogPage,
  type LogRequest,
  type LogStats,
  type SearchPage,
  type TaskPage,
  type TaskSummary,
} from '@keruta/protocol';
import { createRequests } from './http-requests.js';
import {
  exportQueryParams,
  logQueryParams,
  timeParam,
  withQuery,
  type ExportOptions,
  type GetLogsParams,
  type LogFilter,
  type TimeBound,
} from './log-query.js';

export type FetchFunction = (input: string, init?: RequestInit) => Promise<Response>;

export interface RestClientOptions {
  /** keruta-api's `/api/v1`, e.g. `http://keruta-api:8080/api/v1`. Default: `/api/v1` of the page in a browser, `http://127.0.0.1:8080/api/v1` elsewhere. */
  baseUrl?: string;
  /** A JWT, sent as `Authorization: Bearer …`. */
  token?: string;
  /** An API key, sent as `X-API-Key`. */
  apiKey?: string;
  /** The fetch to use; the global one by default. */
  fetch?: FetchFunction;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
}

export interface IterateLogsOptions extends LogFilter {
  /** Start after this seq (default 0: from the first entry). */
  afterSeq?: number;
  /** Stop after this seq (default: at the end of what is stored). */
  upToSeq?: number;
  /** Entries per request, 1–1000 (default 1000). */
  pageSize?: number;
}

export interface DeleteLogsOptions {
  /** Only entries older than this; without it, all of the task's entries. */
  before?: TimeBound;
}

export interface ListTasksParams {
  page?: number;
  size?: number;
}

export interface SearchParams {
  /** The text: a case-insensitive substring, or with `regex` a regular expression. */
  q: string;
  regex?: boolean;
  /** Task-id patterns (`*` any run of characters), within what the credential may read. */
  tasks?: readonly string[];
  levels?: readonly LogLevel[];
  from?: TimeBound;
  to?: TimeBound;
  /** Results per page, 1–1000 (server default 100). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface RestClient {
  /** The `/api/v1` base every path is relative to. */
  readonly baseUrl: string;
  /** GET /tasks/{taskId}/logs: one page, ordered by seq. */
  getLogs(taskId: string, params?: GetLogsParams): Promise<LogPage>;
  /** Every matching entry after `afterSeq`, in seq order, fetched a page at a time with the `afterSeq` cursor. */
  iterateLogs(taskId: string, options?: IterateLogsOptions): AsyncGenerator<LogEntry, void, undefined>;
  /** GET /tasks/{taskId}/logs/stats */
  getStats(taskId: string): Promise<LogStats>;
  /** DELETE /tasks/{taskId}/logs */
  deleteLogs(taskId: string, options?: DeleteLogsOptions): Promise<DeleteResult>;
  /** The URL of GET /tasks/{taskId}/logs/export, e.g. for a download link (a link cannot carry the token). */
  exportUrl(taskId: string, options?: ExportOptions): string;
  /** GET /tasks/{taskId}/logs/export: the Response, to stream its body (`response.body`). */
  exportLogs(taskId: string, options?: ExportOptions): Promise<Response>;
  /** POST /tasks/{taskId}/logs with one entry. */
  postLogs(taskId: string, entry: LogRequest): Promise<AppendOneResult>;
  /** POST /tasks/{taskId}/logs with a batch. */
  postLogs(taskId: string, entries: readonly LogRequest[]): Promise<AppendBatchResult>;
  /** GET /tasks: the tasks the server knows, newest activity first. */
  listTasks(params?: ListTasksParams): Promise<TaskPage>;
  /** GET /tasks/{taskId}: status, exit code, lines and last seq. */
  getTask(taskId: string): Promise<TaskSummary>;
  /** GET /search: one page of matching lines of every task the credential may read, newest first. */
  search(params: SearchParams): Promise<SearchPage>;
  /** GET /health (outside /api/v1); an unhealthy server's 503 answer is returned, not thrown. */
  health(): Promise<Health>;
}

const validators = {
  page: createValidator(LogPageSchema),
  stats: createValidator(LogStatsSchema),
  deleted: createValidator(DeleteResultSchema),
  appendOne: createValidator(AppendOneResultSchema),
  appendBatch: createValidator(AppendBatchResultSchema),
  tasks: createValidator(TaskPageSchema),
  task: createValidator(TaskSummarySchema),
  health: createValidator(HealthSchema),
  search: createValidator(SearchPageSchema),
};


export function createRestClient(options: RestClientOptions = {}): RestClient {
  const { baseUrl, rootUrl, taskPath, send, request } = createRequests(options);

  const getLogs = async (taskId: string, params: GetLogsParams = {}): Promise<LogPage> => {
    const url = withQuery(taskPath(taskId, '/logs'), logQueryParams(params));
    return request({ method: 'GET', url, what: `GET logs of ${taskId}`, validator: validators.page });
  };

  function postLogs(taskId: string, entry: LogRequest): Promise<AppendOneResult>;
  function postLogs(taskId: string, entries: readonly LogRequest[]): Promise<AppendBatchResult>;
  async function postLogs(taskId: string, body: LogRequest | readonly LogRequest[]): Promise<AppendOneResult | AppendBatchResult> {
    const url = taskPath(taskId, '/logs');
    const what = `POST logs of ${taskId}`;
    if (isBatch(body)) return request({ method: 'POST', url, what, body, validator: validators.appendBatch });
    return request({ method: 'POST', url, what, body, validator: validators.appendOne });
  }

  const exportUrl = (taskId: string, exportOptions: ExportOptions = {}): string =>
    withQuery(taskPath(taskId, '/logs/export'), exportQueryParams(exportOptions));

  return {
    baseUrl,
    getLogs,
    async *iterateLogs(taskId, iterateOptions = {}) {
      const { afterSeq = 0, upToSeq, pageSize = MAX_PAGE_SIZE, ...filter } = iterateOptions;
      let cursor = afterSeq;
      for (;;) {
        const page = await getLogs(taskId, { ...filter, afterSeq: cursor, size: pageSize });
        for (const entry of page.content) {
          if (upToSeq !== undefined && entry.seq > upToSeq) return;
          yield entry;
        }
        // A search cut by the server's time budget answers short, with where to read on from.
        const next = page.nextAfterSeq ?? (page.content.length < pageSize ? undefined : page.content[page.content.length - 1]?.seq);
        if (next === undefined || next <= cursor) return;
        if (upToSeq !== undefined && next >= upToSeq) return;
        cursor = next;
      }
    },
    getStats: async (taskId) =>
      request({ method: 'GET', url: taskPath(taskId, '/logs/stats'), what: `GET stats of ${taskId}`, validator: validators.stats }),
    deleteLogs: async (taskId, deleteOptions = {}) => {
      const search = new URLSearchParams();
      if (deleteOptions.before !== undefined) search.set('before', timeParam(deleteOptions.before, 'before'));
      const url = withQuery(taskPath(taskId, '/logs'), search);
      return request({ method: 'DELETE', url, what: `DELETE logs of ${taskId}`, validator: validators.deleted });
    },
    exportUrl,
    exportLogs: async (taskId, exportOptions = {}) =>
      send({ method: 'GET', url: exportUrl(taskId, exportOptions), what: `export logs of ${taskId}` }),
    postLogs,
    listTasks: async (params = {}) => {
      const search = new URLSearchParams();
      if (params.page !== undefined) search.set('page', String(params.page));
      if (params.size !== undefined) search.set('size', String(params.size));
      return request({ method: 'GET', url: withQuery(`${baseUrl}/tasks`, search), what: 'GET tasks', validator: validators.tasks });
    },
    getTask: async (taskId) => request({ method: 'GET', url: taskPath(taskId), what: `GET task ${taskId}`, validator: validators.task }),
    search: async (params) => {
      const search = new URLSearchParams({ q: params.q });
      if (params.regex === true) search.set('regex', 'true');
      if (params.tasks !== undefined && params.tasks.length > 0) search.set('tasks', params.tasks.join(','));
      if (params.levels !== undefined && params.levels.length > 0) search.set('level', params.levels.join(','));
      if (params.from !== undefined) search.set('from', timeParam(params.from, 'from'));
      if (params.to !== undefined) search.set('to', timeParam(params.to, 'to'));
      if (params.limit !== undefined) search.set('limit', String(params.limit));
      if (params.cursor !== undefined) search.set('cursor', params.cursor);
      return request({ method: 'GET', url: withQuery(`${baseUrl}/search`, search), what: 'GET search', validator: validators.search });
    },
    health: async () => request({ method: 'GET', url: `${rootUrl}/health`, what: 'GET health', validator: validators.health, acceptStatus: 503 }),
  };
}

function isBatch(body: LogRequest | readonly LogRequest[]): body is readonly LogRequest[] {
  return Array.isArray(body);
}
