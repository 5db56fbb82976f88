// Query strings of the REST reads: the filter of GET /tasks/{id}/logs and its export, with the
// parameter names of PROTOCOL.md §2 (`source`, `level`, `from`, `to`, `q`, `page`, `size`, `afterSeq`).
import type { ExportFormat, LogQuery } from '@keruta/protocol';
import { KerutaClientError } from './client-error.js';

/** An instant: an ISO 8601 string (sent as given), epoch milliseconds, or a Date. */
export type TimeBound = string | number | Date;

/** What a read can be narrowed to; `sources`/`levels`/`q` as in protocol's LogQuery, bounds inclusive. */
export type LogFilter = Pick<LogQuery, 'sources' | 'levels' | 'q'> & { from?: TimeBound; to?: TimeBound };

/** GET /tasks/{taskId}/logs: the filter plus paging (`page`/`size`) or the keyset cursor `afterSeq`. */
export type GetLogsParams = LogFilter & Partial<Pick<LogQuery, 'page' | 'size' | 'afterSeq'>>;

export interface ExportOptions {
  format?: ExportFormat;
  from?: TimeBound;
  to?: TimeBound;
}

export function timeParam(value: TimeBound, name: string): string {
  if (typeof value === 'string') return value;
  const date = typeof value === 'number' ? new Date(value) : value;
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new KerutaClientError('INVALID_LOG_FORMAT', `${name}: must be an ISO 8601 string, epoch milliseconds or a valid Date`);
  }
  return date.toISOString();
}

function setTime(search: URLSearchParams, name: string, value: TimeBound | undefined): void {
  if (value !== undefined) search.set(name, timeParam(value, name));
}

function setNumber(search: URLSearchParams, name: string, value: number | undefined): void {
  if (value !== undefined) search.set(name, String(value));
}

export function logQueryParams(params: GetLogsParams): URLSearchParams {
  const search = new URLSearchParams();
  if (params.sources !== undefined && params.sources.length > 0) search.set('source', params.sources.join(','));
  if (params.levels !== undefined && params.levels.length > 0) search.set('level', params.levels.join(','));
  setNumber(search, 'page', params.page);
  setNumber(search, 'size', params.size);
  setTime(search, 'from', params.from);
  setTime(search, 'to', params.to);
  if (params.q !== undefined && params.q !== '') search.set('q', params.q);
  setNumber(search, 'afterSeq', params.afterSeq);
  return search;
}

export function exportQueryParams(options: ExportOptions): URLSearchParams {
  const search = new URLSearchParams();
  search.set('format', options.format ?? 'json');
  setTime(search, 'from', options.from);
  setTime(search, 'to', options.to);
  return search;
}

export function withQuery(path: string, search: URLSearchParams): string {
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
}
