// Store-agnostic reasoning about an EntryFilter: which parts narrow anything, and when the
// maintained counters already answer "how many match" without reading the logs.
import { LOG_LEVELS, LOG_SOURCES, type LogLevel, type LogQuery, type LogSource } from '@keruta/protocol';
import type { EntryFilter } from './log-store.js';

/** What a store keeps per task so that counts need no scan. */
export interface TaskCounters {
  total: number;
  sources: Record<LogSource, number>;
  levels: Record<LogLevel, number>;
  /** Null when the task holds no entries. */
  minTimeMs: number | null;
  maxTimeMs: number | null;
}

export function filterOfQuery(query: LogQuery): EntryFilter {
  const filter: EntryFilter = {};
  if (query.sources !== undefined) filter.sources = query.sources;
  if (query.levels !== undefined) filter.levels = query.levels;
  if (query.from !== undefined) filter.fromMs = query.from;
  if (query.to !== undefined) filter.toMs = query.to;
  if (query.q !== undefined) filter.text = query.q;
  return filter;
}

/**
 * The filter without the parts that cannot exclude anything: an empty or complete list of
 * sources or levels, an empty text, time bounds outside the task's time range. An empty list
 * is read like an absent one ("none given means all"), as an empty `source=` parameter would be.
 */
export function narrowingFilter(filter: EntryFilter | undefined, counters: TaskCounters): EntryFilter {
  const narrowed: EntryFilter = {};
  if (filter === undefined) return narrowed;
  const sources = filter.sources === undefined ? [] : [...new Set(filter.sources)];
  if (sources.length > 0 && sources.length < LOG_SOURCES.length) narrowed.sources = sources;
  const levels = filter.levels === undefined ? [] : [...new Set(filter.levels)];
  if (levels.length > 0 && levels.length < LOG_LEVELS.length) narrowed.levels = levels;
  const { minTimeMs, maxTimeMs } = counters;
  if (filter.fromMs !== undefined && (minTimeMs === null || filter.fromMs > minTimeMs)) narrowed.fromMs = filter.fromMs;
  if (filter.toMs !== undefined && (maxTimeMs === null || filter.toMs < maxTimeMs)) narrowed.toMs = filter.toMs;
  if (filter.text !== undefined && filter.text !== '') narrowed.text = filter.text;
  return narrowed;
}

export function isEmptyFilter(filter: EntryFilter): boolean {
  return (
    filter.sources === undefined &&
    filter.levels === undefined &&
    filter.fromMs === undefined &&
    filter.toMs === undefined &&
    filter.text === undefined
  );
}

/**
 * How many entries match a narrowed filter, when the counters can tell: no filter, or only
 * sources, or only levels. Undefined when the store has to count.
 */
export function countFromCounters(filter: EntryFilter, counters: TaskCounters): number | undefined {
  if (filter.fromMs !== undefined || filter.toMs !== undefined || filter.text !== undefined) return undefined;
  if (filter.sources !== undefined && filter.levels !== undefined) return undefined;
  if (filter.sources !== undefined) return filter.sources.reduce((sum, s) => sum + counters.sources[s], 0);
  if (filter.levels !== undefined) return filter.levels.reduce((sum, l) => sum + counters.levels[l], 0);
  return counters.total;
}

export function totalPages(totalElements: number, size: number): number {
  return size > 0 ? Math.ceil(totalElements / size) : 0;
}
