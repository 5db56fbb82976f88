// The search loop both stores share: candidates newest first from the index, narrowed by task,
// level and time, each checked on its own text, until the page is full, the index has no more,
// or the time budget is spent (then a cursor says where to go on). Each chunk of candidates is
// its own turn of the event loop.
import { LOG_LEVELS, matchesTaskGlob, type LogEntry, type LogLevel } from '@keruta/protocol';
import type { LogStore } from '../log-store.js';
import { toDatabaseError } from '../database-error.js';
import { compileMatcher, type Matcher } from './matcher.js';
import type { SearchPage, SearchQuery } from './search-index.js';

/** A line the index holds: where it is, and what the index knows of it without the store. */
export interface Candidate {
  /** The index's own order: higher is newer. */
  id: number;
  taskId: string;
  seq: number;
  timeMs: number;
  level: LogLevel;
  /** The line's text, when the index holds it: checked before the line is read from the store. */
  message?: string;
}

/** One look into the index: what it found, and how far down it looked. */
export interface CandidateChunk {
  found: Candidate[];
  /** How many lines the index gave: fewer than asked means it has no more. */
  count: number;
  /** The lowest id looked at (found or not): the next look starts below it. */
  lowestId: number | undefined;
}

export interface CandidateSource {
  /**
   * What the index looks up for a search whose every match contains each of `required`
   * (case-insensitively), chosen once per page: the texts themselves, or some of their trigrams.
   */
  terms(required: readonly string[], beforeId: number): readonly string[];
  /**
   * Up to `limit` lines below `beforeId`, newest first, of `taskIds` (all tasks when undefined),
   * that hold every one of `terms`: a superset of the matches, each checked on its line.
   */
  candidates(terms: readonly string[], beforeId: number, limit: number, taskIds: readonly string[] | undefined): Promise<CandidateChunk>;
  /** The stored line (undefined when it has been deleted since). */
  entry(candidate: Candidate): Promise<LogEntry | undefined>;
  /** Task ids the index knows. */
  taskIds(): Promise<string[]>;
  pending(): number;
}

const CHUNK = 500;

export function cursorOf(value: string | undefined): number {
  if (value === undefined) return Number.MAX_SAFE_INTEGER;
  const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

export async function runSearch(source: CandidateSource, query: SearchQuery): Promise<SearchPage> {
  // Bad input says so as it is; whatever the database throws becomes DATABASE_ERROR.
  const matcher = compileMatcher(query.text, query.regex);
  try {
    return await searchWith(source, query, matcher);
  } catch (error) {
    throw toDatabaseError('search the logs', error);
  }
}

async function searchWith(source: CandidateSource, query: SearchQuery, matcher: Matcher): Promise<SearchPage> {
  const within = (globs: readonly string[] | undefined) => (taskId: string): boolean => globs === undefined || matchesTaskGlob(globs, taskId);
  const allowed = within(query.allowedTasks);
  const wanted = within(query.taskPatterns);
  const narrowed = query.allowedTasks !== undefined || query.taskPatterns !== undefined;
  const taskIds = narrowed ? (await source.taskIds()).filter((t) => allowed(t) && wanted(t)) : undefined;
  const results: LogEntry[] = [];
  const page = (nextCursor?: number): SearchPage => ({ results, ...(nextCursor === undefined ? {} : { nextCursor: String(nextCursor) }), pending: source.pending() });
  if (taskIds !== undefined && taskIds.length === 0) return page();
  const deadline = performance.now() + query.budgetMs;
  let before = cursorOf(query.cursor);
  const terms = source.terms(matcher.required, before);
  for (;;) {
    const chunk = await source.candidates(terms, before, CHUNK, taskIds);
    for (const candidate of chunk.found) {
      before = candidate.id;
      if (taskIds !== undefined && !(allowed(candidate.taskId) && wanted(candidate.taskId))) continue;
      if (query.levels !== undefined && !query.levels.includes(candidate.level)) continue;
      if ((query.fromMs !== undefined && candidate.timeMs < query.fromMs) || (query.toMs !== undefined && candidate.timeMs > query.toMs)) continue;
      if (candidate.message !== undefined && !matcher.test(candidate.message)) continue;
      const entry = await source.entry(candidate);
      if (entry === undefined || !matcher.test(entry.message)) continue;
      results.push(entry);
      if (results.length >= query.limit) return page(before > 1 ? before : undefined);
    }
    if (chunk.lowestId !== undefined) before = chunk.lowestId;
    if (chunk.count < CHUNK || before <= 1) return page();
    if (performance.now() >= deadline) return page(before);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The stored line a candidate names; undefined when it has been deleted since. */
export async function entryAt(store: LogStore, candidate: Candidate): Promise<LogEntry | undefined> {
  const range = await store.readRange({ taskId: candidate.taskId, afterSeq: candidate.seq - 1, upToSeq: candidate.seq, limit: 1 });
  const entry = range.entries[0];
  return entry?.seq === candidate.seq ? entry : undefined;
}

/** A level as the indexes store it: its place in LOG_LEVELS. */
export const levelNumber = (level: LogLevel): number => LOG_LEVELS.indexOf(level);
export const levelOfNumber = (n: number): LogLevel => LOG_LEVELS[n] ?? 'INFO';
