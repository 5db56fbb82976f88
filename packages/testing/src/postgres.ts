// A PostgreSQL database of a test file's own on the machine's server (127.0.0.1:5432, trust
// auth, as here and in CI): created on demand, dropped by the test file when it is done.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase extends AsyncDisposable {
  readonly name: string;
  /** The database's URL, for KERUTA_DATABASE_URL. */
  readonly url: string;
  /** Runs `sql` as the administrator, connected to the `postgres` database (not this one). */
  admin<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<Row[]>;
  /** Ends every session connected to this database (as a restarted or failed-over server would); returns how many. */
  terminateConnections(): Promise<number>;
  /** Refuses (false) or allows (true) new connections to this database: an outage of the store alone. */
  allowConnections(allow: boolean): Promise<void>;
  drop(): Promise<void>;
}

/** Undefined, after a loud warning naming `purpose`, when no PostgreSQL server answers. */
export async function createTestDatabase(purpose: string): Promise<TestDatabase | undefined> {
  const admin = async <Row extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<Row[]> => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      return (await client.query<Row>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };
  const name = `keruta_test_${randomBytes(6).toString('hex')}`;
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch (error) {
    process.stderr.write(
      `\n${'!'.repeat(78)}\n!! ${purpose}: PostgreSQL at ${new URL(TEST_POSTGRES_ADMIN_URL).host} cannot be used ` +
        `(${(error as Error).message}); its PostgreSQL tests are SKIPPED.\n${'!'.repeat(78)}\n\n`,
    );
    return undefined;
  }
  const url = new URL(TEST_POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const drop = async (): Promise<void> => {
    // FORCE ends whatever sessions a failed test left open.
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  return {
    name,
    url: url.toString(),
    admin,
    async terminateConnections() {
      const rows = await admin<{ ended: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      return rows.filter((row) => row.ended).length;
    },
    async allowConnections(allow) {
      await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS ${allow ? 'true' : 'false'}`);
    },
    drop,
    [Symbol.asyncDispose]: drop,
  };
}
