// Takes tasks' new lines into a search index, a bounded batch per step, round robin over the
// tasks that have some, so that a big task does not hold back the others' new lines. The SQLite
// store runs it on its indexing thread (search-worker.ts), or on the main thread for a store in
// memory; the PostgreSQL store on the main thread (the work is the database's).
import type { LogEntry } from '@keruta/protocol';

/** Lines per transaction of the index. */
export const INDEX_BATCH = 2000;

/** Reads a task's lines after `afterSeq` (at most INDEX_BATCH): the entries and the seq read through. */
export type ReadNew = (taskId: string, afterSeq: number, upToSeq: number) => { entries: LogEntry[]; through: number } | Promise<{ entries: LogEntry[]; through: number }>;

/** Where an index keeps its lines. */
export interface IndexWriter {
  /** The highest seq of the task already in the index. */
  indexedSeq(taskId: string): number | Promise<number>;
  /** Indexes the task's entries and records it indexed through `throughSeq`, in one transaction. */
  store(taskId: string, entries: readonly LogEntry[], throughSeq: number): void | Promise<void>;
}

export interface Indexer {
  advanced(taskId: string, lastSeq: number): void;
  /** Lines known to be stored and not yet indexed. */
  pending(): number;
  /** Indexes one batch; false when there was nothing to do. */
  step(): Promise<boolean>;
}

/** `known`: the index's seq per task, when the writer can tell them all at once. */
export function createIndexer(writer: IndexWriter, read: ReadNew, known: Map<string, number> = new Map()): Indexer {
  /** Per task with lines to index, the seq the store holds lines up to. */
  const wanted = new Map<string, number>();
  const indexed = known;
  return {
    advanced(taskId, lastSeq) {
      if (lastSeq > (wanted.get(taskId) ?? indexed.get(taskId) ?? 0)) wanted.set(taskId, lastSeq);
    },
    pending() {
      let n = 0;
      for (const [taskId, upTo] of wanted) n += Math.max(0, upTo - (indexed.get(taskId) ?? 0));
      return n;
    },
    async step() {
      const next = wanted.entries().next().value;
      if (next === undefined) return false;
      const [taskId, upTo] = next;
      const { entries, through } = await read(taskId, indexed.get(taskId) ?? (await writer.indexedSeq(taskId)), upTo);
      await writer.store(taskId, entries, through);
      indexed.set(taskId, through);
      wanted.delete(taskId);
      if (through < upTo) wanted.set(taskId, upTo);
      return true;
    },
  };
}

export interface BackgroundIndexing {
  /** There are lines to index: runs the indexer unless it is running. */
  kick(): void;
  /** Resolves once nothing is left, or a run got no further (the store failing). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Runs an indexer on this thread, one batch per turn of the event loop, after `ready`. */
export function indexInBackground(indexer: Indexer, ready: Promise<void> = Promise.resolve()): BackgroundIndexing {
  let running: Promise<void> | undefined;
  let closed = false;
  const run = (): Promise<void> =>
    (running ??= (async () => {
      try {
        await ready;
        // One batch per turn: appends and reads go on in between.
        while (!closed && (await indexer.step())) await new Promise((resolve) => setImmediate(resolve));
      } catch {
        // The store failed under the indexer: the next append tries again.
      } finally {
        running = undefined;
      }
    })());
  return {
    kick: () => void run(),
    async settled() {
      await ready.catch(() => undefined);
      for (let left = indexer.pending(); !closed && left > 0; ) {
        await run();
        if (indexer.pending() >= left) return;
        left = indexer.pending();
      }
    },
    async close() {
      closed = true;
      await running;
    },
  };
}
