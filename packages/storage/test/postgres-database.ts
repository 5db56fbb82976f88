// A PostgreSQL database of a test file's own, on the machine's server: created at load, dropped
// in afterAll. When no server answers, tests that need it are skipped with a loud warning.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's PostgreSQL: CI has version 15 there, with trust auth. */
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  /** The database's URL, for a store. */
  url: string;
  /** The URL of a store whose tables live in `schema` (created when missing) of this database. */
  urlInSchema(schema: string): Promise<string>;
  /** Lets new connections to this database in, or refuses them, as a server that is down would. */
  allowConnections(allowed: boolean): Promise<void>;
  /** A statement run by an administrator connection to this database. */
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<Row[]>;
  drop(): Promise<void>;
}

/** Undefined (after a console.warn) when no PostgreSQL server can be reached. */
export async function createTestDatabase(purpose: string): Promise<TestDatabase | undefined> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    console.warn(
      `\n!!! PostgreSQL is not reachable at ${new URL(ADMIN_URL).host} (${(error as Error).message}): ` +
        `the PostgreSQL tests of ${purpose} are SKIPPED. Start it with ` +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.\n',
    );
    await admin.end().catch(() => undefined);
    return undefined;
  }
  const name = `keruta_test_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();

  let inside: Promise<pg.Client> | undefined;
  const connection = (): Promise<pg.Client> => {
    inside ??= (async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      // Tests terminate backends on purpose; this one is never among them, but must not crash the run.
      client.on('error', () => {});
      await client.connect();
      return client;
    })();
    return inside;
  };
  // One statement at a time on that connection: node-postgres is deprecating queued queries.
  let queue: Promise<unknown> = Promise.resolve();
  const run = <Row extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<Row[]> => {
    const result = queue.then(async () => (await (await connection()).query<Row>(sql, values)).rows);
    queue = result.catch(() => undefined);
    return result;
  };

  return {
    name,
    url: databaseUrl,
    async urlInSchema(schema) {
      await run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      const inSchema = new URL(databaseUrl);
      inSchema.searchParams.set('options', `-c search_path=${schema}`);
      return inSchema.toString();
    },
    query: run,
    async allowConnections(allowed) {
      // Not from inside the database: PostgreSQL refuses to lock out the connection that asks.
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        await client.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS ${allowed ? 'true' : 'false'}`);
      } finally {
        await client.end();
      }
    },
    async drop() {
      await (await inside)?.end().catch(() => undefined);
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        // FORCE ends the connections a failed test may have left open.
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A schema name of its own for each test directory: the same directory, the same data. */
export function schemaOfDir(dir: string): string {
  return `t_${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`;
}
