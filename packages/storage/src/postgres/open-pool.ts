// Opens the connection pool of the PostgreSQL store: settings, type parsers, schema.
import pg from 'pg';
import { migrate } from './schema.js';

export interface OpenPoolOptions {
  /** postgres://user:password@host:port/database?… */
  url: string;
  /** Most connections held open (default 10). */
  maxConnections?: number;
  /** How long a query waits for a connection, new or free, before failing, in ms (default 5000). */
  connectTimeoutMs?: number;
  /** How long an unused connection stays open, in ms (default 30000). */
  idleTimeoutMs?: number;
}

const INT8_OID = 20;

/**
 * int8 columns (seq, counters, epoch ms, COUNT(*)) as numbers: every one of them stays far below
 * 2^53. Set on this pool only, not on pg's global table, which other code in the process may use.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export async function openPool(options: OpenPoolOptions): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    // Shown in pg_stat_activity, so an operator can tell keruta's connections apart.
    application_name: 'keruta',
    // A server or network that vanishes without closing the connection is noticed, not waited on.
    keepAlive: true,
    types,
  });
  // An idle connection that the server ends (a restart, pg_terminate_backend, a network cut) is
  // dropped by the pool, which reports it here; the next query opens a new connection. Without a
  // listener that report would crash the process, and there is nothing else to do with it.
  pool.on('error', () => {});
  // pg-pool takes its own listener off a connection as it hands it out, and a new connection is
  // handed out from inside the socket read that brought its ReadyForQuery: when the server ended
  // it in the same read, the error is emitted before the borrower can listen, and would crash the
  // process. A listener for the connection's whole life closes that gap; the query in flight or
  // the next one still fails, and the borrower then destroys the connection.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  try {
    await migrate(pool);
    return pool;
  } catch (error) {
    await pool.end();
    throw error;
  }
}
