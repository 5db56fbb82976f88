// Turns the query strings of the REST routes into typed values, naming the parameter at fault.
import {
  DEFAULT_PAGE_SIZE,
  EXPORT_FORMATS,
  KerutaError,
  LOG_LEVELS,
  LOG_SOURCES,
  MAX_PAGE_SIZE,
  TASK_GLOB_PATTERN,
  isLogLevel,
  isLogSource,
  parseTimestamp,
  type ExportFormat,
  type LogLevel,
  type LogQuery,
  type LogSource,
} from '@keruta/protocol';
import type { EntryFilter } from '@keruta/storage';

export type RawQuery = Record<string, string | string[] | undefined>;

/** Longest `q`: a search is a substring, and a bounded one. */
export const MAX_SEARCH_LENGTH = 256;

function invalid(message: string): KerutaError {
  return new KerutaError('INVALID_LOG_FORMAT', message);
}

function single(query: RawQuery, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) {
    if (value.length > 1) throw invalid(`${name}: give it once`);
    return value[0];
  }
  return value;
}

/** `level=ERROR`, `level=WARN,ERROR` and `level=WARN&level=ERROR` alike. */
function list<T extends string>(query: RawQuery, name: string, allowed: readonly T[], is: (v: unknown) => v is T): T[] | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim());
  const chosen: T[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const normalized = name === 'level' ? part.toUpperCase() : part.toLowerCase();
    if (!is(normalized)) throw invalid(`${name}: must be one of ${allowed.join(', ')}, got ${JSON.stringify(part)}`);
    if (!chosen.includes(normalized)) chosen.push(normalized);
  }
  if (chosen.length === 0) throw invalid(`${name}: must name at least one of ${allowed.join(', ')}`);
  return chosen;
}

export function integer(query: RawQuery, name: string, fallback: number, min: number, max: number): number {
  const value = single(query, name);
  if (value === undefined || value === '') return fallback;
  const n = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw invalid(`${name}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function time(query: RawQuery, name: string): number | undefined {
  const value = single(query, name);
  if (value === undefined || value === '') return undefined;
  return parseTimestamp(value, name);
}

function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

export function parseFilter(query: RawQuery): EntryFilter {
  const filter: EntryFilter = {};
  put(filter, 'sources', list<LogSource>(query, 'source', LOG_SOURCES, isLogSource));
  put(filter, 'levels', list<LogLevel>(query, 'level', LOG_LEVELS, isLogLevel));
  const from = time(query, 'from');
  const to = time(query, 'to');
  if (from !== undefined && to !== undefined && from > to) throw invalid('from: must not be after to');
  put(filter, 'fromMs', from);
  put(filter, 'toMs', to);
  const q = single(query, 'q');
  if (q !== undefined && q !== '') {
    if (q.length > MAX_SEARCH_LENGTH) throw invalid(`q: at most ${MAX_SEARCH_LENGTH} characters`);
    filter.text = q;
  }
  return filter;
}

export function parseLogQuery(query: RawQuery): LogQuery {
  const filter = parseFilter(query);
  const result: LogQuery = {
    page: integer(query, 'page', 0, 0, 1_000_000_000),
    size: integer(query, 'size', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
  };
  put(result, 'sources', filter.sources?.slice());
  put(result, 'levels', filter.levels?.slice());
  put(result, 'from', filter.fromMs);
  put(result, 'to', filter.toMs);
  put(result, 'q', filter.text);
  const afterSeq = single(query, 'afterSeq');
  if (afterSeq !== undefined && afterSeq !== '') result.afterSeq = integer(query, 'afterSeq', 0, 0, Number.MAX_SAFE_INTEGER);
  return result;
}

export function parseBefore(query: RawQuery): number | undefined {
  return time(query, 'before');
}

export function parseExportFormat(query: RawQuery): ExportFormat {
  const value = (single(query, 'format') ?? 'json').toLowerCase();
  if (!(EXPORT_FORMATS as readonly string[]).includes(value)) {
    throw invalid(`format: must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as ExportFormat;
}

export function parsePaging(query: RawQuery): { page: number; size: number } {
  return {
    page: integer(query, 'page', 0, 0, 1_000_000_000),
    size: integer(query, 'size', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
  };
}

/** Most results one search page returns. */
export const MAX_SEARCH_RESULTS = 1000;
const DEFAULT_SEARCH_RESULTS = 100;

export interface SearchParams {
  text: string;
  regex: boolean;
  taskPatterns?: string[];
  levels?: LogLevel[];
  fromMs?: number;
  toMs?: number;
  limit: number;
  cursor?: string;
}

/** GET /api/v1/search: `q` (required), `regex`, `tasks`, `level`, `from`, `to`, `limit`, `cursor`. */
export function parseSearch(query: RawQuery): SearchParams {
  const text = single(query, 'q');
  if (text === undefined || text === '') throw invalid('q: is required (the text to look for)');
  const regexValue = (single(query, 'regex') ?? 'false').toLowerCase();
  if (regexValue !== 'true' && regexValue !== 'false') throw invalid(`regex: must be true or false, got ${JSON.stringify(regexValue)}`);
  const filter = parseFilter({ ...query, q: undefined, source: undefined });
  const result: SearchParams = { text, regex: regexValue === 'true', limit: integer(query, 'limit', DEFAULT_SEARCH_RESULTS, 1, MAX_SEARCH_RESULTS) };
  const tasks = query.tasks;
  if (tasks !== undefined) {
    const patterns = (Array.isArray(tasks) ? tasks : [tasks]).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '');
    const bad = patterns.find((p) => !TASK_GLOB_PATTERN.test(p));
    if (bad !== undefined) throw invalid(`tasks: each pattern is 1-128 characters of A-Z, a-z, 0-9, ".", "_", "-" and "*", got ${JSON.stringify(bad)}`);
    if (patterns.length > 0) result.taskPatterns = patterns;
  }
  put(result, 'levels', filter.levels?.slice());
  put(result, 'fromMs', filter.fromMs);
  put(result, 'toMs', filter.toMs);
  const cursor = single(query, 'cursor');
  if (cursor !== undefined && cursor !== '') {
    if (!/^\d{1,16}$/.test(cursor)) throw invalid('cursor: must be the nextCursor of an earlier page');
    result.cursor = cursor;
  }
  return result;
}
