// Takes tasks' new lines into the search index, a bounded batch per step, round robin over the
// tasks that have some, so that a big task does not hold back the others' new lines. Runs on the
// indexer's thread for a store file (search-worker.ts), on the main thread for a store in memory.
import type { LogEntry } from '@keruta/protocol';
import type { SearchWriter } from './search-database.js';

/** Lines per transaction of the index. */
export const INDEX_BATCH = 2000;

/** Reads a task's lines after `afterSeq` (at most INDEX_BATCH): the entries and the seq read through. */
export type ReadNew = (taskId: string, afterSeq: number, upToSeq: number) => { entries: LogEntry[]; through: number } | Promise<{ entries: LogEntry[]; through: number }>;

export function createIndexer(writer: SearchWriter, read: ReadNew) {
  /** Per task with lines to index, the seq the store holds lines up to. */
  const wanted = new Map<string, number>();
  const indexed = writer.all();
  return {
    advanced(taskId: string, lastSeq: number): void {
      if (lastSeq > (wanted.get(taskId) ?? indexed.get(taskId) ?? 0)) wanted.set(taskId, lastSeq);
    },
    /** The store deleted the task's lines older than `beforeMs` (all without it). */
    forget(taskId: string, beforeMs: number | undefined): void {
      writer.forget(taskId, beforeMs);
    },
    /** Lines known to be stored and not yet indexed. */
    pending(): number {
      let n = 0;
      for (const [taskId, upTo] of wanted) n += Math.max(0, upTo - (indexed.get(taskId) ?? 0));
      return n;
    },
    /** Indexes one batch; false when there was nothing to do. */
    async step(): Promise<boolean> {
      const next = wanted.entries().next().value;
      if (next === undefined) return false;
      const [taskId, upTo] = next;
      const { entries, through } = await read(taskId, indexed.get(taskId) ?? 0, upTo);
      writer.store(taskId, entries, through);
      indexed.set(taskId, through);
      wanted.delete(taskId);
      if (through < upTo) wanted.set(taskId, upTo);
      return true;
    },
  };
}
