// The LogStore on PostgreSQL, through a node-postgres pool: several keruta-api instances may
// share one database.
import { DEFAULT_MAX_MESSAGE_LENGTH, KerutaError } from '@keruta/protocol';
import type { Pool, PoolClient } from 'pg';
import { toDatabaseError } from '../database-error.js';
import type { LogStore } from '../log-store.js';
import { appendEntries } from './append-entries.js';
import { deleteLogs } from './delete-logs.js';
import { readErrorIndex } from './error-index.js';
import { listTasks } from './list-tasks.js';
import { openPool, type OpenPoolOptions } from './open-pool.js';
import { queryLogs, readRange, tailStart } from './read-logs.js';
import { toLogStats, toTaskSummary, type TaskRow } from '../row-mapping.js';
import { PING, SELECT_TASK } from './statements.js';
import { READ_WRITE, SNAPSHOT, inTransaction, onOneConnection } from './transactions.js';
import { openPostgresSearchIndex } from './search-index.js';

export interface PostgresLogStoreOptions extends OpenPoolOptions {
  /** Longest message stored; a longer one is cut and marked `metadata.truncated`. */
  maxMessageLength?: number;
}

/**
 * Connects, brings the schema up to date (safely when several instances start at once) and
 * returns the store. Rejects with DATABASE_ERROR when the database cannot be reached.
 */
export async function createPostgresLogStore(options: PostgresLogStoreOptions): Promise<LogStore> {
  const pool = await guard('open the database', () => openPool(options));
  const maxMessageLength = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
  let closed = false;

  /** Every call goes through here: a closed store and every driver error become DATABASE_ERROR. */
  const run = <T>(operation: string, body: (pool: Pool) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new KerutaError('DATABASE_ERROR', `the log store could not ${operation} (it is closed)`));
    return guard(operation, () => body(pool));
  };
  /** A read of several statements on one connection; read-logs.ts says why not in a transaction. */
  const read = <T>(operation: string, body: (client: PoolClient) => Promise<T>): Promise<T> =>
    run(operation, (p) => onOneConnection(p, body));
  const taskRow = async (p: Pool, taskId: string): Promise<TaskRow | undefined> =>
    (await p.query<TaskRow>({ ...SELECT_TASK, values: [taskId] })).rows[0];

  const store: LogStore = {
    kind: 'postgres',
    append: (taskId, entries, options) =>
      run('store the entries', async (p) => {
        // An empty batch must not create a task: "a task that has never had a log" stays unknown.
        if (entries.length === 0) return { stored: [], duplicates: 0, conflicts: 0, lastSeq: (await taskRow(p, taskId))?.last_seq ?? 0 };
        return inTransaction(p, READ_WRITE, (client) =>
          appendEntries({ client, maxMessageLength, now: Date.now(), writer: options?.writer }, taskId, entries),
        );
      }),
    queryLogs: (taskId, query) => read('read the logs', (client) => queryLogs(client, taskId, query)),
    readRange: (query) => read('read the logs', (client) => readRange(client, query)),
    tailStart: (taskId, count, upToSeq, filter) => read('read the logs', (client) => tailStart(client, taskId, count, upToSeq, filter)),
    stats: (taskId) =>
      run('read the task', async (p) => {
        const task = await taskRow(p, taskId);
        return task === undefined ? undefined : toLogStats(task);
      }),
    errorIndex: (query) => run('read the error index', (p) => inTransaction(p, SNAPSHOT, (client) => readErrorIndex(client, query))),
    deleteLogs: (taskId, beforeMs) =>
      run('delete the logs', (p) => onOneConnection(p, (client) => deleteLogs(client, taskId, beforeMs))),
    getTask: (taskId) =>
      run('read the task', async (p) => {
        const task = await taskRow(p, taskId);
        return task === undefined ? undefined : toTaskSummary(task);
      }),
    // Count and page in one snapshot, so that a task made meanwhile cannot show on a page uncounted.
    listTasks: (page, size, taskPatterns) =>
      run('list the tasks', (p) => inTransaction(p, SNAPSHOT, (client) => listTasks(client, page, size, taskPatterns))),
    lastSeq: (taskId) => run('read the task', async (p) => (await taskRow(p, taskId))?.last_seq ?? 0),
    openSearchIndex: () => openPostgresSearchIndex(pool, store),
    ping: () =>
      run('answer a ping', async (p) => {
        await p.query(PING);
      }),
    close: async () => {
      // Closing twice is harmless: shutdown paths may race.
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return store;
}

async function guard<T>(operation: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toDatabaseError(operation, error);
  }
}
