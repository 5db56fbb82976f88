// The SQLite schema as numbered migrations, applied in order and tracked in PRAGMA user_version.
import type { Database } from 'better-sqlite3';
import { KerutaError } from '@keruta/protocol';
import { backfillSql } from '../error-index-plan.js';
import { SPANS_OF_STORED_LINES } from '../run-spans.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'tasks with maintained counters, logs keyed by (task_id, seq)',
    sql: `
      -- One row per task. The counters are kept by append and deleteLogs so that stats, page
      -- totals and the contiguity check never need a COUNT(*) over the task's logs.
      CREATE TABLE tasks (
        task_id          TEXT PRIMARY KEY,
        last_seq         INTEGER NOT NULL DEFAULT 0,
        total_logs       INTEGER NOT NULL DEFAULT 0,
        count_stdout     INTEGER NOT NULL DEFAULT 0,
        count_stderr     INTEGER NOT NULL DEFAULT 0,
        count_agent      INTEGER NOT NULL DEFAULT 0,
        count_debug      INTEGER NOT NULL DEFAULT 0,
        count_info       INTEGER NOT NULL DEFAULT 0,
        count_warn       INTEGER NOT NULL DEFAULT 0,
        count_error      INTEGER NOT NULL DEFAULT 0,
        min_time_ms      INTEGER,
        max_time_ms      INTEGER,
        -- Never lowered, not even by a delete: a line number is not handed out twice.
        next_line_stdout INTEGER NOT NULL DEFAULT 1,
        next_line_stderr INTEGER NOT NULL DEFAULT 1,
        next_line_agent  INTEGER NOT NULL DEFAULT 1,
        status           TEXT NOT NULL DEFAULT 'unknown'
                         CHECK (status IN ('running', 'succeeded', 'failed', 'unknown')),
        exit_code        INTEGER,
        started_at       INTEGER,
        finished_at      INTEGER,
        updated_at       INTEGER NOT NULL
      );
      CREATE INDEX tasks_by_activity ON tasks (updated_at DESC, task_id);

      -- WITHOUT ROWID: the primary key is the clustering key, so a page by seq is one range
      -- read of adjacent rows. The id is derived from (task_id, seq) and not stored.
      CREATE TABLE logs (
        task_id     TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        time_ms     INTEGER NOT NULL,
        -- No CHECK on source and level: it doubled the cost of an insert. append() rejects
        -- a source or level outside the protocol's lists before it writes.
        source      TEXT NOT NULL,
        level       TEXT NOT NULL,
        message     TEXT NOT NULL,
        line_number INTEGER NOT NULL,
        -- JSON text; NULL for the common empty object, to save the parse on every read.
        metadata    TEXT,
        run_id      TEXT,
        run_seq     INTEGER,
        PRIMARY KEY (task_id, seq)
      ) WITHOUT ROWID;
      -- An agent's resend after a reconnect carries the same (run_id, run_seq): stored once.
      CREATE UNIQUE INDEX logs_run_once ON logs (task_id, run_id, run_seq) WHERE run_id IS NOT NULL;
    `,
  },
  {
    version: 2,
    description: 'runs with the credential that writes them',
    sql: `
      -- The first writer of a run owns it (run-owners.ts). Runs stored before this table get the
      -- writer of their next batch.
      CREATE TABLE runs (
        task_id TEXT NOT NULL,
        run_id  TEXT NOT NULL,
        writer  TEXT NOT NULL,
        PRIMARY KEY (task_id, run_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    description: "runs' stored lines as spans of runSeqs instead of a unique index entry per line",
    sql: `
      -- run-spans.ts: one row per stretch of a run's lines whose runSeq and seq both step by one
      -- (one per agent batch, extended by the next), in place of logs_run_once, which cost every
      -- stored line an index insert. New lines of a run are stored with run_id and run_seq NULL
      -- (a UUID and a number less in every row): a read finds them here by seq.
      CREATE TABLE run_spans (
        task_id       TEXT NOT NULL,
        run_id        TEXT NOT NULL,
        first_run_seq INTEGER NOT NULL,
        last_run_seq  INTEGER NOT NULL,
        first_seq     INTEGER NOT NULL,
        PRIMARY KEY (task_id, run_id, first_run_seq)
      ) WITHOUT ROWID;
      CREATE INDEX run_spans_by_seq ON run_spans (task_id, first_seq);
      ${SPANS_OF_STORED_LINES};
      DROP INDEX logs_run_once;
    `,
  },
  {
    version: 4,
    description: 'the error index: error lines and ::group:: sections per task, filled from the stored lines',
    sql: `
      -- Kept by append (error-index.ts) in the same transaction as the lines, so that a summary
      -- never scans the log. Rows of lines deleted since are left out by the reads (seq before
      -- the task's first stored line).
      CREATE TABLE task_errors (
        task_id   TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        kind      TEXT NOT NULL,
        group_seq INTEGER NOT NULL,
        PRIMARY KEY (task_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE task_groups (
        task_id     TEXT NOT NULL,
        start_seq   INTEGER NOT NULL,
        end_seq     INTEGER,
        name        TEXT NOT NULL,
        start_ms    INTEGER NOT NULL,
        end_ms      INTEGER,
        error_count INTEGER NOT NULL,
        PRIMARY KEY (task_id, start_seq)
      ) WITHOUT ROWID;
      ${backfillSql("rtrim(message, ' ' || char(9) || char(10) || char(13))")}
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Brings the database to SCHEMA_VERSION. Each migration runs in its own IMMEDIATE transaction
 * and re-reads the version inside it, so two processes opening a new file at once migrate it once.
 */
export function migrate(db: Database): void {
  for (const migration of MIGRATIONS) {
    const apply = db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > SCHEMA_VERSION) {
        throw new KerutaError(
          'DATABASE_ERROR',
          `the database has schema version ${current}, newer than this keruta knows (${SCHEMA_VERSION})`,
        );
      }
      if (current >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    });
    apply.immediate();
  }
}
