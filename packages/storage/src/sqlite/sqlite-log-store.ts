// The LogStore on one SQLite file (or :memory:), through better-sqlite3.
import { DEFAULT_MAX_MESSAGE_LENGTH, type NormalizedLogRequest } from '@keruta/protocol';
import { toDatabaseError } from '../database-error.js';
import type { EntryFilter, LogStore, RangeQuery } from '../log-store.js';
import { appendEntries } from './append-entries.js';
import { FALLBACK_AUTOCHECKPOINT_PAGES, startCheckpointer, type Checkpointer } from './checkpointer.js';
import { deleteChunk, deleteLogs, type DeleteProgress } from './delete-logs.js';
import { prepareErrorIndex } from './error-index.js';
import { captureFileIdentity } from './file-identity.js';
import { listTasks } from './list-tasks.js';
import { MEMORY_PATH, openDatabase } from './open-database.js';
import { queryLogs, readRange, tailStart } from './read-logs.js';
import { toLogStats, toTaskSummary } from '../row-mapping.js';
import { prepareStatements } from './statements.js';
import { openSqliteSearchIndex } from './search-index.js';

export interface SqliteLogStoreOptions {
  /** A file path (its directory is created when missing) or ":memory:". */
  path: string;
  /** Longest message stored; a longer one is cut and marked `metadata.truncated`. */
  maxMessageLength?: number;
  /** How long a write waits for another connection's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
}

export function createSqliteLogStore(options: SqliteLogStoreOptions): LogStore {
  const db = guard('open the database', () =>
    openDatabase(
      options.busyTimeoutMs === undefined ? { path: options.path } : { path: options.path, busyTimeoutMs: options.busyTimeoutMs },
    ),
  );
  const statements = guard('prepare its statements', () => prepareStatements(db));
  const errorIndex = guard('prepare its statements', () => prepareErrorIndex(db));
  const file = guard('open the database', () => captureFileIdentity(options.path));
  const maxMessageLength = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
  let checkpointer: Checkpointer | undefined;
  if (options.path !== MEMORY_PATH && options.path !== '') {
    checkpointer = startCheckpointer(options.path);
    db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  }

  // IMMEDIATE takes the write lock at BEGIN, so a second process waits (busy_timeout) there
  // instead of failing when it upgrades a read lock halfway through.
  const appendTransaction = db.transaction((taskId: string, entries: readonly NormalizedLogRequest[], writer: string | undefined) =>
    appendEntries({ statements, maxMessageLength, now: Date.now(), writer, errorIndex }, taskId, entries),
  );
  const deleteChunkTransaction = db.transaction((progress: DeleteProgress) => deleteChunk(statements, progress));
  // Reads of several statements (task row, count, page) see one snapshot.
  const readTransaction = db.transaction((body: () => unknown) => body());
  // A read takes a read mark in the -shm, a write through its mapping: checked first, as for writes.
  const read = <T>(body: () => T): T => {
    file.assertUnchanged();
    return readTransaction(body) as T;
  };

  const store: LogStore = {
    kind: 'sqlite',
    append: async (taskId, entries, options) =>
      guard('store the entries', () => {
        file.assertUnchanged();
        return appendTransaction.immediate(taskId, entries, options?.writer);
      }),
    queryLogs: async (taskId, query) => guard('read the logs', () => read(() => queryLogs(statements, taskId, query))),
    readRange: async (query: RangeQuery) => guard('read the logs', () => read(() => readRange(statements, query))),
    tailStart: async (taskId: string, count: number, upToSeq: number, filter?: EntryFilter) =>
      guard('read the logs', () => read(() => tailStart(statements, taskId, count, upToSeq, filter))),
    errorIndex: async (query) => guard('read the error index', () => read(() => errorIndex.read(query))),
    stats: async (taskId) =>
      guard('read the task', () => {
        file.assertUnchanged();
        const task = statements.selectTask.get(taskId);
        return task === undefined ? undefined : toLogStats(task);
      }),
    deleteLogs: async (taskId, beforeMs) => {
      try {
        file.assertUnchanged();
        return await deleteLogs(statements, taskId, beforeMs, (progress) => deleteChunkTransaction.immediate(progress));
      } catch (error) {
        throw toDatabaseError('delete the logs', error);
      }
    },
    getTask: async (taskId) =>
      guard('read the task', () => {
        file.assertUnchanged();
        const task = statements.selectTask.get(taskId);
        return task === undefined ? undefined : toTaskSummary(task);
      }),
    listTasks: async (page, size, taskPatterns) => guard('list the tasks', () => read(() => listTasks(statements, page, size, taskPatterns))),
    lastSeq: async (taskId) =>
      guard('read the task', () => {
        file.assertUnchanged();
        return statements.selectTask.get(taskId)?.last_seq ?? 0;
      }),
    openSearchIndex: () => guard('open the search index', () => openSqliteSearchIndex(options.path, store)),
    ping: async () => {
      guard('answer a ping', () => {
        file.assertUnchanged();
        statements.ping.get();
      });
    },
    close: async () => {
      // Closing twice is harmless: shutdown paths may race.
      const stopping = checkpointer;
      checkpointer = undefined;
      await stopping?.close();
      if (db.open) db.close();
    },
  };
  return store;
}

function guard<T>(operation: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw toDatabaseError(operation, error);
  }
}
