// Runs a body on one pooled connection, in a transaction or several, and makes sure a connection
// that failed on the way never goes back to the pool.
import type { Pool, PoolClient } from 'pg';

/** Writes: READ COMMITTED, which re-reads a row that it waited on FOR UPDATE. */
export const READ_WRITE = 'BEGIN';
/** Reads of several statements (task row, count, page) that must agree: one snapshot. */
export const SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/**
 * After any error the connection is destroyed rather than reused: it may be the cause (ended by
 * the server, cut mid-COPY), and an error is rare enough that a new connection costs nothing.
 */
export async function onOneConnection<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  // A checked-out connection has no listener of the pool's: one that the server ends between two
  // of our queries would emit an unhandled 'error' and crash the process. The query in flight,
  // or the next one, fails on its own; this only marks the connection as not to be reused.
  const onError = (error: Error) => {
    failure ??= error;
  };
  client.on('error', onError);
  try {
    return await body(client);
  } catch (error) {
    failure ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off('error', onError);
    // A truthy argument makes the pool destroy the connection instead of keeping it.
    client.release(failure);
  }
}

/** One transaction on `client`: committed when `body` resolves, rolled back when it throws. */
export async function transaction<T>(client: PoolClient, begin: string, body: () => Promise<T>): Promise<T> {
  await client.query(begin);
  try {
    const result = await body();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // When the connection is gone the server has rolled back already, and this fails too.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export async function inTransaction<T>(
  pool: Pool,
  begin: string,
  body: (client: PoolClient) => Promise<T>,
): Promise<T> {
  return onOneConnection(pool, (client) => transaction(client, begin, () => body(client)));
}
