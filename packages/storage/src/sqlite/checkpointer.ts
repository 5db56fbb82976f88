// WAL checkpoints on their own thread. In WAL mode SQLite runs a checkpoint inside the commit that
// takes the log past wal_autocheckpoint pages: that commit copies ~1,000 pages into the database
// file and syncs both files while keruta-api's event loop waits, which cost a 200,000-line append
// a third of its time and put the commit in every latency's p99. Here a worker does it.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { CheckpointWorkerData } from './checkpoint-worker.js';

/** Most WAL pages the committing connection lets pile up before it checkpoints itself. */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;
const INTERVAL_MS = 50;

export interface Checkpointer {
  /** Stops the thread and closes its connection (before the store's own, which then cleans up the WAL). */
  close(): Promise<void>;
}

export function startCheckpointer(path: string): Checkpointer {
  const workerData: CheckpointWorkerData = { path, intervalMs: INTERVAL_MS };
  // From src/ (the tests) and from dist/ alike, the compiled worker in dist/.
  const worker = new Worker(new URL('../../dist/sqlite/checkpoint-worker.js', import.meta.url), {
    workerData,
    // Not the process's flags: `--input-type` (node -e) would make the thread refuse its file.
    execArgv: [],
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
  });
  // The server's shutdown closes the store; a thread left running must not keep the process up.
  worker.unref();
  // A thread that failed leaves the committing connection to checkpoint past the fallback mark.
  worker.on('error', () => undefined);
  const exited = once(worker, 'exit').then(() => undefined);
  return {
    async close() {
      // Held until the thread has gone: an unref'd worker alone would let a process whose last
      // task is this close exit first, with the close never settled.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
