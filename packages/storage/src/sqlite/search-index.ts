// The search index of the SQLite store, read here. For a store file it lives in a file beside it
// (`<file>.search`), written by its own thread (search-worker.ts); for a store in memory, in
// memory, written on this thread between other work.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { LogStore } from '../log-store.js';
import { entryAt, levelOfNumber, runSearch, type Candidate, type CandidateSource } from '../search/run-search.js';
import { trigramsOf, type SearchIndex } from '../search/search-index.js';
import { createSearchReader, createSearchWriter, openSearchDatabase } from './search-database.js';
import { createIndexer, indexInBackground, INDEX_BATCH } from '../search/indexer.js';
import type { SearchWorkerData, SearchWorkerMessage, SearchWorkerReport } from './search-worker.js';
import { MEMORY_PATH } from './open-database.js';

/** Trigrams a search looks up: the rarest few of its text's. */
const RAREST = 4;
/** Trigrams probed for their rarity, spread over the text (a 256-character text has 254). */
const PROBED = 24;

export function searchIndexPath(storePath: string): string {
  return `${storePath}.search`;
}

/** How the index is written: by the thread of a file, or here for a store in memory. */
interface IndexWriting {
  advanced(taskId: string, lastSeq: number): void;
  forget(taskId: string, beforeMs: number | undefined): void;
  pending(): number;
  settled(): Promise<void>;
  close(): Promise<void>;
}

export function openSqliteSearchIndex(storePath: string, store: LogStore): SearchIndex {
  const inMemory = storePath === MEMORY_PATH || storePath === '';
  // Created before the thread starts, so that a search at once finds the tables.
  const db = openSearchDatabase(inMemory ? MEMORY_PATH : searchIndexPath(storePath));
  const reader = createSearchReader(db);
  const writing = inMemory ? writeHere(db, store) : writeOnThread(storePath);
  let names = new Map<number, string>();
  const nameOf = (num: number): string | undefined => {
    if (!names.has(num)) names = new Map(reader.tasks().map((t) => [t.num, t.task_id]));
    return names.get(num);
  };

  const source: CandidateSource = {
    // The rarest few of the text's trigrams: all of them cost more than they narrow.
    terms: (required, beforeId) => reader.rarest(trigramsOf(required, PROBED), beforeId, RAREST),
    async candidates(terms, beforeId, limit) {
      const refs = reader.candidates(terms, beforeId, limit);
      const found: Candidate[] = [];
      for (const ref of refs) {
        const taskId = nameOf(ref.task_num);
        if (taskId !== undefined) found.push({ id: ref.id, taskId, seq: ref.seq, timeMs: ref.time_ms, level: levelOfNumber(ref.level) });
      }
      return { found, count: refs.length, lowestId: refs.at(-1)?.id };
    },
    entry: (candidate) => entryAt(store, candidate),
    taskIds: async () => reader.tasks().map((t) => t.task_id),
    pending: () => writing.pending(),
  };

  return {
    advanced: (taskId, lastSeq) => writing.advanced(taskId, lastSeq),
    deleted: (taskId, beforeMs) => writing.forget(taskId, beforeMs),
    search: (query) => runSearch(source, query),
    settled: () => writing.settled(),
    async close() {
      await writing.close();
      if (db.open) db.close();
    },
  };
}

function writeOnThread(storePath: string): IndexWriting {
  const workerData: SearchWorkerData = { storePath, indexPath: searchIndexPath(storePath) };
  // From src/ (the tests) and from dist/ alike, the compiled worker in dist/.
  const worker = new Worker(new URL('../../dist/sqlite/search-worker.js', import.meta.url), {
    workerData,
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: 64 },
  });
  worker.unref();
  let pending = 0;
  /** `advanced` messages sent, and those the thread had taken at its last report. */
  let sent = 0;
  let seen = 0;
  let failed = false;
  const waiting: (() => void)[] = [];
  const wakeAll = (): void => {
    for (const wake of waiting.splice(0)) wake();
  };
  worker.on('message', (report: SearchWorkerReport) => {
    pending = report.pending;
    seen = report.seen;
    if (pending === 0 && seen === sent) wakeAll();
  });
  const tell = (message: SearchWorkerMessage): void => {
    if (typeof message === 'object' && 'lastSeq' in message) sent += 1;
    worker.postMessage(message);
  };
  // A thread that failed leaves the index where it was: searches still answer from it.
  worker.on('error', () => {
    failed = true;
    wakeAll();
  });
  const exited = once(worker, 'exit').then(() => {
    failed = true;
    wakeAll();
  });
  return {
    advanced: (taskId, lastSeq) => tell({ taskId, lastSeq }),
    forget: (taskId, beforeMs) => tell({ forget: taskId, ...(beforeMs === undefined ? {} : { beforeMs }) }),
    // Lines told of and not yet taken count at least one.
    pending: () => (seen < sent ? Math.max(pending, 1) : pending),
    settled: () =>
      new Promise<void>((resolve) => {
        if (failed) return resolve();
        waiting.push(resolve);
        tell({ taskId: '', lastSeq: 0 });
      }),
    async close() {
      if (failed) return;
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}

function writeHere(db: ReturnType<typeof openSearchDatabase>, store: LogStore): IndexWriting {
  const writer = createSearchWriter(db);
  const indexer = createIndexer(writer, async (taskId, afterSeq, upToSeq) => {
    const range = await store.readRange({ taskId, afterSeq, upToSeq, limit: INDEX_BATCH });
    return { entries: range.entries, through: range.done ? upToSeq : range.scannedTo };
  });
  const background = indexInBackground(indexer);
  return {
    advanced(taskId, lastSeq) {
      indexer.advanced(taskId, lastSeq);
      background.kick();
    },
    forget(taskId, beforeMs) {
      try {
        writer.forget(taskId, beforeMs);
      } catch {
        // Left in the index, a deleted line is skipped when read back from the store.
      }
    },
    pending: () => indexer.pending(),
    settled: () => background.settled(),
    close: () => background.close(),
  };
}
