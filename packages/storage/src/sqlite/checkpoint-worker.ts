// The checkpointer's thread: its own connection to the store's file, copying the WAL's committed
// pages into the database file every few milliseconds, so that the connection that commits never does.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { unwritableFile } from './writable-files.js';

export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
}

function open(path: string): Database.Database | undefined {
  try {
    const db = new Database(path, { fileMustExist: true });
    // As the writer's: the WAL is synced before a checkpoint and the database file after it.
    db.pragma('synchronous = NORMAL');
    // Never wait for a lock: a checkpoint that cannot run now runs at the next tick.
    db.pragma('busy_timeout = 0');
    return db;
  } catch {
    // The file went away before the thread started: the store reports that on its next use,
    // and its own connection checkpoints meanwhile.
    return undefined;
  }
}

const { path, intervalMs } = workerData as CheckpointWorkerData;
const db = open(path);
if (db === undefined) {
  parentPort?.close();
} else {
  const timer = setInterval(() => {
    // A checkpoint writes the -shm through its mapping: never while a file cannot be written
    // (the kernel would end the process with SIGBUS). The store's writes say why meanwhile.
    if (unwritableFile(path) !== undefined) return;
    try {
      // PASSIVE copies what no reader still needs and never blocks the writer or a reader.
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy, or the file went away (the store notices that itself): try again at the next tick.
    }
  }, intervalMs);
  parentPort?.once('message', () => {
    clearInterval(timer);
    db.close();
    parentPort?.close();
  });
}
