// GET /tasks/{id}/logs with a filter the task's counters cannot answer (a text search, a time
// range, sources and levels together): read in windows sized to a few milliseconds each, one
// window per turn of the event loop across all such requests, within a time budget. One
// non-ASCII search of a 1,000,000-line task held the event loop for 2.7 s in a single statement
// (eight at once: /health 4.8 s). A read that runs out of time answers with what it found and
// where to go on from (`nextAfterSeq`), in the same page shape.
import type { LogEntry, LogPage, LogQuery } from '@keruta/protocol';
import { filterOfQuery, type LogStore } from '@keruta/storage';

/** How long one request may scan before it answers with what it has. */
export const QUERY_BUDGET_MS = 1000;
/** What one window should take; the window grows or shrinks to fit it. */
const SLICE_MS = 4;
const MIN_WINDOW = 200;
const MAX_WINDOW = 20_000;
const FIRST_WINDOW = 1000;

/** The page, plus how far the read got: `complete` false means it was cut by the time budget. */
export type SlicedPage = LogPage & {
  /** Every seq up to this one (after `afterSeq` when given) was looked at. */
  scannedThrough?: number;
  /** Present when more matches may follow `content`: give it as `afterSeq` to read on. */
  nextAfterSeq?: number;
  /** True when the whole task was scanned: `totalElements` is then exact, else a lower bound. */
  complete?: false;
};

/** True when the store would have to scan the task's lines to count what matches. */
export function needsScan(query: LogQuery): boolean {
  return query.q !== undefined || query.from !== undefined || query.to !== undefined || (query.sources !== undefined && query.levels !== undefined);
}

let lane: Promise<void> = Promise.resolve();
/**
 * Resolves on a later turn of the event loop than any window already waiting: concurrent reads
 * take turns, one window each, and I/O (a /health probe, an agent's batch) is served in between.
 */
function nextTurn(): Promise<void> {
  const turn = lane.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  lane = turn;
  return turn;
}

export async function slicedQuery(store: LogStore, taskId: string, query: LogQuery): Promise<SlicedPage | undefined> {
  const task = await store.getTask(taskId);
  if (task === undefined) return undefined;
  const upToSeq = task.lastSeq;
  const filter = filterOfQuery(query);
  const { page, size, afterSeq } = query;
  const deadline = performance.now() + QUERY_BUDGET_MS;
  let window = FIRST_WINDOW;
  const content: LogEntry[] = [];
  let matches = 0;

  /** Scans (from, to], handing each match to `take`; returns how far it got before the deadline. */
  const scan = async (from: number, to: number, take: (entry: LogEntry) => void): Promise<number> => {
    let cursor = from;
    while (cursor < to) {
      // At least one window per request, so that following `nextAfterSeq` always gets further.
      if (cursor > from && performance.now() >= deadline) break;
      await nextTurn();
      const started = performance.now();
      const range = await store.readRange({ taskId, afterSeq: cursor, upToSeq: to, limit: window, maxScan: window, filter });
      for (const entry of range.entries) take(entry);
      cursor = range.done ? to : range.scannedTo;
      const took = performance.now() - started;
      window = Math.round(Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, (window * SLICE_MS) / Math.max(took, 0.5))));
    }
    return cursor;
  };

  let scannedThrough: number;
  let complete: boolean;
  /** Matches found after the page's content. */
  let beyond = 0;
  if (afterSeq === undefined) {
    // Page by number: count every match in seq order, keeping those of the page asked for.
    const first = page * size;
    scannedThrough = await scan(0, upToSeq, (entry) => {
      if (matches >= first && matches < first + size) content.push(entry);
      else if (matches >= first + size) beyond += 1;
      matches += 1;
    });
    complete = scannedThrough >= upToSeq;
  } else {
    // Keyset: the entries after `afterSeq` first, so that each request gets further; then the
    // count of those before it, as far as the budget allows.
    const start = Math.min(afterSeq, upToSeq);
    scannedThrough = await scan(start, upToSeq, (entry) => {
      if (content.length < size) content.push(entry);
      else beyond += 1;
      matches += 1;
    });
    const before = scannedThrough >= upToSeq ? await scan(0, start, () => (matches += 1)) : 0;
    complete = scannedThrough >= upToSeq && before >= start;
  }

  const result: SlicedPage = {
    content,
    totalElements: matches,
    totalPages: size > 0 ? Math.ceil(matches / size) : 0,
    size,
    number: page,
  };
  // A read the budget did not cut answers exactly as a page always did (the usage guide's shape);
  // only a cut one says how far it got and where to go on from.
  if (complete) return result;
  const last = content[content.length - 1];
  const pageFull = content.length >= size && last !== undefined;
  result.scannedThrough = scannedThrough;
  result.complete = false;
  if (pageFull && (beyond > 0 || scannedThrough < upToSeq)) result.nextAfterSeq = last.seq;
  else if (!pageFull && scannedThrough < upToSeq) result.nextAfterSeq = Math.max(scannedThrough, afterSeq ?? 0);
  return result;
}
