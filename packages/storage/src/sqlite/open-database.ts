// Opens (creating when missing) a SQLite file for the log store: pragmas, functions, schema.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CONTAINS_IGNORING_CASE } from './filters.js';
import { migrate } from './schema.js';

export const MEMORY_PATH = ':memory:';

export interface OpenDatabaseOptions {
  path: string;
  /** How long a write waits for another connection's lock before failing, in ms. */
  busyTimeoutMs?: number;
}

export function openDatabase(options: OpenDatabaseOptions): Database.Database {
  const { path } = options;
  if (path !== MEMORY_PATH && path !== '') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // WAL: readers never block the writer, and a commit is one sequential append to the log.
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode syncs at checkpoints, not at every commit: a committed batch survives
    // a crash of the process (the WAL is in the OS's page cache), and only a power loss or a
    // kernel crash can take back the last commits. That is the durability an ack promises.
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    // A page of history touches few pages, but a search or a count reads the whole task.
    db.pragma('cache_size = -65536');
    db.function(CONTAINS_IGNORING_CASE, { deterministic: true }, (message: unknown, needle: unknown) =>
      typeof message === 'string' && typeof needle === 'string' && message.toLowerCase().includes(needle) ? 1 : 0,
    );
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
