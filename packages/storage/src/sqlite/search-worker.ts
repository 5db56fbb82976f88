// The search indexer's thread for a store file: its own connections to the store's file (reading
// as the store's reads do) and to the index file. On start it catches up with every task the
// store holds beyond what the index has (lines stored while keruta-api was down, or before the
// index existed); then it takes the lines the main thread says are stored.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { readRange } from './read-logs.js';
import { createSearchWriter, openSearchDatabase } from './search-database.js';
import { createIndexer, INDEX_BATCH } from '../search/indexer.js';
import { prepareStatements } from './statements.js';

export interface SearchWorkerData {
  storePath: string;
  indexPath: string;
}

/** To the main thread after each step: lines stored and not yet indexed, and how many `advanced` messages it has had. */
export interface SearchWorkerReport {
  pending: number;
  seen: number;
}

/** After a failed step (the store busy, or its file gone for a moment), the wait before the next. */
const RETRY_MS = 1000;

/**
 * Indexing yields to everything else keruta-api does (appends, live lines, /health): this thread
 * runs at the lowest priority, and a search sees lines a little later on a busy machine. On Linux
 * a thread's nice value is its own (setpriority of its thread id).
 */
function lowerThisThread(): void {
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').at(-1)), 19);
  } catch {
    // No /proc (not Linux), or not allowed: the thread runs at the process's priority.
  }
}
lowerThisThread();

const { storePath, indexPath } = workerData as SearchWorkerData;
const port = parentPort;
if (port === null) throw new Error('search-worker runs as a worker thread');
const storeDb = new Database(storePath, { fileMustExist: true });
storeDb.pragma('busy_timeout = 5000');
const statements = prepareStatements(storeDb);
const indexDb = openSearchDatabase(indexPath);
const writer = createSearchWriter(indexDb);
const indexer = createIndexer(
  writer,
  (taskId, afterSeq, upToSeq) => {
    const range = readRange(statements, { taskId, afterSeq, upToSeq, limit: INDEX_BATCH });
    return { entries: range.entries, through: range.done ? upToSeq : range.scannedTo };
  },
  writer.all(),
);
for (const row of storeDb.prepare<[], { task_id: string; last_seq: number }>('SELECT task_id, last_seq FROM tasks').all()) {
  indexer.advanced(row.task_id, row.last_seq);
}

let stopping = false;
let seen = 0;
const report = (): void => port?.postMessage({ pending: indexer.pending(), seen } satisfies SearchWorkerReport);
let scheduled = false;

function schedule(delayMs = 0): void {
  if (scheduled || stopping) return;
  scheduled = true;
  const run = (): void => void step();
  if (delayMs > 0) setTimeout(run, delayMs);
  else setImmediate(run);
}

async function step(): Promise<void> {
  scheduled = false;
  if (stopping) return;
  let worked: boolean;
  try {
    worked = await indexer.step();
  } catch {
    report();
    return schedule(RETRY_MS);
  }
  report();
  if (worked) schedule();
}

/** From the main thread: lines stored up to `lastSeq`; lines deleted before `beforeMs` (`forget`); or stop. */
export type SearchWorkerMessage = { taskId: string; lastSeq: number } | { forget: string; beforeMs?: number } | 'stop';

port.on('message', (message: SearchWorkerMessage) => {
  if (message === 'stop') {
    stopping = true;
    storeDb.close();
    indexDb.close();
    port.close();
    return;
  }
  if ('forget' in message) {
    try {
      writer.forget(message.forget, message.beforeMs);
    } catch {
      // Left in the index, a deleted line is skipped when read back from the store.
    }
    return;
  }
  seen += 1;
  if (message.taskId !== '') indexer.advanced(message.taskId, message.lastSeq);
  if (!scheduled) schedule();
  // Asked how far it is, with nothing to do: says so at once.
  if (indexer.pending() === 0) report();
});
schedule();
