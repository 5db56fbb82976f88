// Search across tasks: an index that the store's lines reach shortly after they are stored (off
// the write path, so that an append costs what it did), and what a search asks and answers.
import type { LogEntry, LogLevel } from '@keruta/protocol';

export interface SearchQuery {
  /** A case-insensitive substring, or (with `regex`) a pattern assertBoundedPattern accepts. */
  text: string;
  regex: boolean;
  /** Only tasks whose id matches one of these (`*` any run of characters): the credential's. */
  allowedTasks?: readonly string[];
  /** And, narrowing further, one of these: the search's own `tasks=`. */
  taskPatterns?: readonly string[];
  levels?: readonly LogLevel[];
  /** Inclusive bounds on the line's timestamp, epoch ms. */
  fromMs?: number;
  toMs?: number;
  limit: number;
  /** From a previous page's `nextCursor`: lines indexed before the last one it looked at. */
  cursor?: string;
  /** Longest a page may take before it answers with what it found and a cursor. */
  budgetMs: number;
}

/** A matching line, as every other read returns it (its `taskId` says whose). */
export type SearchHit = LogEntry;

export interface SearchPage {
  /** Newest first (in the order the index took them, which is the order they were stored). */
  results: SearchHit[];
  /** Present when more may match: pass it as `cursor` to read on. */
  nextCursor?: string;
  /** Lines stored and not yet in the index; a search does not see them yet. */
  pending: number;
}

export interface SearchIndex {
  /** The task's lines up to `lastSeq` are stored: they go into the index soon after. */
  advanced(taskId: string, lastSeq: number): void;
  /** The task's lines older than `beforeMs` (all of them without it) were deleted. */
  deleted(taskId: string, beforeMs?: number): void;
  search(query: SearchQuery): Promise<SearchPage>;
  /** Resolves once every line stored before the call is in the index (for tests and the bench). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** The trigrams to look up for texts a match must contain: spread over each text, at most `most` in all. */
export function trigramsOf(required: readonly string[], most = 12): string[] {
  const all = new Set<string>();
  for (const text of required) {
    const lower = [...text.toLowerCase()];
    const count = lower.length - 2;
    if (count <= 0) continue;
    const step = Math.max(1, Math.ceil(count / Math.max(1, Math.floor(most / required.length))));
    for (let i = 0; i < count; i += step) all.add(lower.slice(i, i + 3).join(''));
    all.add(lower.slice(count - 1, count + 2).join(''));
  }
  return [...all];
}
