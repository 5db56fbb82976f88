// The PostgreSQL schema as numbered migrations, applied at start under an advisory lock and
// tracked in the keruta_schema table.
import type { Pool } from 'pg';
import { KerutaError } from '@keruta/protocol';
import { backfillSql } from '../error-index-plan.js';
import { SPANS_OF_STORED_LINES } from '../run-spans.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/**
 * Tables go into the first schema of the connection's search_path ("public" unless the URL says
 * otherwise, e.g. `?options=-c%20search_path%3Dkeruta`), so a shared database can hold keruta in
 * a schema of its own.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'tasks with maintained counters, logs keyed by (task_id, seq)',
    sql: `
      -- One row per task. The counters are kept by append and deleteLogs so that stats, page
      -- totals and the contiguity check never need a COUNT(*) over the task's logs. Its row
      -- lock is what serialises the writers of one task, on every keruta-api instance.
      CREATE TABLE tasks (
        task_id          text COLLATE "C" PRIMARY KEY,
        last_seq         bigint NOT NULL DEFAULT 0,
        total_logs       bigint NOT NULL DEFAULT 0,
        count_stdout     bigint NOT NULL DEFAULT 0,
        count_stderr     bigint NOT NULL DEFAULT 0,
        count_agent      bigint NOT NULL DEFAULT 0,
        count_debug      bigint NOT NULL DEFAULT 0,
        count_info       bigint NOT NULL DEFAULT 0,
        count_warn       bigint NOT NULL DEFAULT 0,
        count_error      bigint NOT NULL DEFAULT 0,
        min_time_ms      bigint,
        max_time_ms      bigint,
        -- Never lowered, not even by a delete: a line number is not handed out twice.
        next_line_stdout bigint NOT NULL DEFAULT 1,
        next_line_stderr bigint NOT NULL DEFAULT 1,
        next_line_agent  bigint NOT NULL DEFAULT 1,
        status           text NOT NULL DEFAULT 'unknown'
                         CHECK (status IN ('running', 'succeeded', 'failed', 'unknown')),
        exit_code        integer,
        started_at       bigint,
        finished_at      bigint,
        updated_at       bigint NOT NULL
      );
      CREATE INDEX tasks_by_activity ON tasks (updated_at DESC, task_id);

      -- Times are epoch milliseconds in a bigint, not timestamptz: both are one int8 compared
      -- the same way, so a from/to filter costs the same, but a bigint needs no conversion on
      -- either side (the store speaks epoch ms; node-postgres builds a Date from text for every
      -- timestamptz it reads), and it holds the protocol's millisecond exactly.
      --
      -- The ids are COLLATE "C": they are identifiers, compared byte for byte, and every index
      -- insert compares them. Under the database's default collation (a locale's strcoll)
      -- PostgreSQL spent 940 ms of CPU per 200,000 appended lines; under "C", 570-650 ms.
      --
      -- No foreign key to tasks: append holds the task's row lock already, and a key check per
      -- row would cost every insert an index probe. No CHECK on source and level either, as in
      -- SQLite: append() rejects values outside the protocol's lists before it writes.
      CREATE TABLE logs (
        task_id     text COLLATE "C" NOT NULL,
        seq         bigint NOT NULL,
        time_ms     bigint NOT NULL,
        source      text NOT NULL,
        level       text NOT NULL,
        message     text NOT NULL,
        line_number bigint NOT NULL,
        -- json (kept as text, checked on the way in), NULL for the common empty object;
        -- nothing queries inside it, so jsonb's binary form would cost inserts for nothing.
        metadata    json,
        run_id      text COLLATE "C",
        run_seq     bigint,
        PRIMARY KEY (task_id, seq)
      );
      -- The last guard of idempotency: append finds duplicates first, under the task's lock,
      -- and this refuses (failing the whole batch) any that slipped through. run_id leads, so
      -- that append's look-up by run (which names no task_id, see HELD_RUN_SEQS) can only be a
      -- range of this index, never a walk of the task's rows through the primary key.
      CREATE UNIQUE INDEX logs_run_once ON logs (run_id, run_seq, task_id) WHERE run_id IS NOT NULL;
    `,
  },
  {
    version: 2,
    description: 'runs with the credential that writes them',
    sql: `
      -- The first writer of a run owns it (run-owners.ts). Runs stored before this table get the
      -- writer of their next batch. Written under the task's row lock, as the logs are.
      CREATE TABLE runs (
        task_id text COLLATE "C" NOT NULL,
        run_id  text COLLATE "C" NOT NULL,
        writer  text NOT NULL,
        PRIMARY KEY (task_id, run_id)
      );
    `,
  },
  {
    version: 3,
    description: "runs' stored lines as spans of runSeqs instead of a unique index entry per line",
    sql: `
      -- run-spans.ts: one row per stretch of a run's lines whose runSeq and seq both step by one
      -- (one per agent batch, extended by the next), in place of logs_run_once, which cost every
      -- stored line an index insert. Written under the task's row lock, as the logs are.
      CREATE TABLE run_spans (
        task_id       text COLLATE "C" NOT NULL,
        run_id        text COLLATE "C" NOT NULL,
        first_run_seq bigint NOT NULL,
        last_run_seq  bigint NOT NULL,
        first_seq     bigint NOT NULL,
        PRIMARY KEY (task_id, run_id, first_run_seq)
      );
      ${SPANS_OF_STORED_LINES};
      DROP INDEX logs_run_once;
    `,
  },
  {
    version: 4,
    description: 'the error index: error lines and ::group:: sections per task, filled from the stored lines',
    sql: `
      -- Kept by append (error-index.ts) in the same transaction as the lines, under the task's
      -- row lock, so that a summary never scans the log. Rows of lines deleted since are left
      -- out by the reads (seq before the task's first stored line).
      CREATE TABLE task_errors (
        task_id   text COLLATE "C" NOT NULL,
        seq       bigint NOT NULL,
        kind      text NOT NULL,
        group_seq bigint NOT NULL,
        PRIMARY KEY (task_id, seq)
      );
      CREATE TABLE task_groups (
        task_id     text COLLATE "C" NOT NULL,
        start_seq   bigint NOT NULL,
        end_seq     bigint,
        name        text NOT NULL,
        start_ms    bigint NOT NULL,
        end_ms      bigint,
        error_count bigint NOT NULL,
        PRIMARY KEY (task_id, start_seq)
      );
      ${backfillSql("rtrim(message, E' \\t\\r\\n')")}
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** 'keruta' in ASCII: the key of the session-level advisory lock that migrations run under. */
export const MIGRATION_LOCK_KEY = 0x6b_65_72_75_74_61;

/**
 * Brings the database to SCHEMA_VERSION. Every starting instance takes the same advisory lock
 * first, so when two start at once the second waits, then finds the schema up to date. Each
 * migration commits with its version row, so one that fails leaves the previous version whole.
 */
export async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`
        CREATE TABLE IF NOT EXISTS keruta_schema (
          version     integer PRIMARY KEY,
          description text NOT NULL,
          applied_at  timestamptz NOT NULL DEFAULT now()
        )`);
      const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM keruta_schema');
      const current = rows[0]?.version ?? 0;
      if (current > SCHEMA_VERSION) {
        throw new KerutaError(
          'DATABASE_ERROR',
          `the database has schema version ${current}, newer than this keruta knows (${SCHEMA_VERSION})`,
        );
      }
      for (const migration of MIGRATIONS) {
        if (migration.version <= current) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO keruta_schema (version, description) VALUES ($1, $2)', [
            migration.version,
            migration.description,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } catch (error) {
    // The connection may be the reason (the lock goes with it): it must not go back to the pool.
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(broken);
  }
}
