// Every statement the SQLite store runs, prepared once per connection.
import type Database from 'better-sqlite3';
import { TASK_COLUMNS, type TaskRow } from '../row-mapping.js';
import type { RunSpan, SeqSpan, SpanLine } from '../run-spans.js';

/** A run_spans row, named as RunSpan. */
export type SpanRow = RunSpan;
const SPAN_COLUMNS = 'first_run_seq AS firstRunSeq, last_run_seq AS lastRunSeq, first_seq AS firstSeq';

type SqlValue = string | number | null;

export interface Statements {
  selectTask: Database.Statement<[string], TaskRow>;
  /** Writes a whole TaskRow, bound by column name. */
  upsertTask: Database.Statement<[TaskRow], unknown>;
  /** INSERT of `rows` log rows, 10 parameters each in the column order of the logs table. */
  insertLogs(rows: number): Database.Statement<SqlValue[]>;
  /** The last span of run ?2 (run-spans.ts): its end is the run's high-water mark. */
  lastSpan: Database.Statement<[string, string], SpanRow>;
  /** The spans of run ?2 that begin at or before runSeq ?3, last first. */
  spansBefore: Database.Statement<[string, string, number], SpanRow>;
  /** The task's lines of seqs [?2, ?3], as the span look-up compares them. */
  spanLines: Database.Statement<[string, number, number], SpanLine>;
  /** The task's spans that begin at or before seq ?2, last first. */
  spansUpToSeq: Database.Statement<[string, number], SeqSpan>;
  insertSpan: Database.Statement<[string, string, number, number, number]>;
  /** Sets the end of the span of run ?3 of task ?2 that begins at ?4 to ?1. */
  extendSpan: Database.Statement<[number, string, string, number]>;
  /** Records ?3 as the writer of run ?2 unless the run has one. */
  claimRun: Database.Statement<[string, string, string]>;
  runWriter: Database.Statement<[string, string], string>;
  firstSeq: Database.Statement<[string], number>;
  /** The seq that ends a delete's chunk after seq ?2 (?4 + 1 entries on, none past ?3). */
  chunkEnd: Database.Statement<[string, number, number, number], number>;
  /** Per (source, level), the entries of seqs (?2, ?3] older than ?4. */
  countChunk: Database.Statement<[string, number, number, number], { source: string; level: string; n: number }>;
  deleteChunk: Database.Statement<[string, number, number, number]>;
  /** The time range of the entries of seqs (?2, ?3]. */
  timeRangeBetween: Database.Statement<[string, number, number], { min: number | null; max: number | null }>;
  /** The time range of every entry after seq ?2. */
  timeRangeAfter: Database.Statement<[string, number], { min: number | null; max: number | null }>;
  listTasks: Database.Statement<[number, number], TaskRow>;
  countTasks: Database.Statement<[], number>;
  /** listTasks and countTasks for the tasks whose id matches one of the GLOB patterns of the JSON array ?1. */
  listMatchingTasks: Database.Statement<[string, number, number], TaskRow>;
  countMatchingTasks: Database.Statement<[string], number>;
  ping: Database.Statement<[], number>;
  /** A statement whose SQL depends on the filter, prepared on first use and kept. */
  cached<Result>(sql: string): Database.Statement<SqlValue[], Result>;
  /** The same, answering raw rows (arrays in the SELECT's column order); kept apart from `cached`. */
  cachedRaw<Row extends unknown[]>(sql: string): Database.Statement<SqlValue[], Row>;
}

export function prepareStatements(db: Database.Database): Statements {
  const cache = new Map<string, Database.Statement<SqlValue[], unknown>>();
  const cached = <Result>(sql: string): Database.Statement<SqlValue[], Result> => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = db.prepare<SqlValue[], unknown>(sql);
      cache.set(sql, statement);
    }
    return statement as Database.Statement<SqlValue[], Result>;
  };
  const rawCache = new Map<string, Database.Statement<SqlValue[], unknown>>();
  const cachedRaw = <Row extends unknown[]>(sql: string): Database.Statement<SqlValue[], Row> => {
    let statement = rawCache.get(sql);
    if (statement === undefined) {
      statement = db.prepare<SqlValue[], unknown>(sql).raw(true);
      rawCache.set(sql, statement);
    }
    return statement as Database.Statement<SqlValue[], Row>;
  };
  return {
    selectTask: db.prepare('SELECT * FROM tasks WHERE task_id = ?'),
    upsertTask: db.prepare(
      `INSERT INTO tasks (${TASK_COLUMNS.join(', ')}) VALUES (${TASK_COLUMNS.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (task_id) DO UPDATE SET ${TASK_COLUMNS.slice(1)
         .map((c) => `${c} = excluded.${c}`)
         .join(', ')}`,
    ),
    insertLogs: (rows) =>
      cached(
        `INSERT INTO logs (task_id, seq, time_ms, source, level, message, line_number, metadata, run_id, run_seq)
         VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      ),
    lastSpan: db.prepare(`SELECT ${SPAN_COLUMNS} FROM run_spans WHERE task_id = ? AND run_id = ? ORDER BY first_run_seq DESC LIMIT 1`),
    spansBefore: db.prepare(`SELECT ${SPAN_COLUMNS} FROM run_spans WHERE task_id = ? AND run_id = ? AND first_run_seq <= ? ORDER BY first_run_seq DESC`),
    spanLines: db.prepare('SELECT seq, source, message FROM logs WHERE task_id = ? AND seq BETWEEN ? AND ?'),
    spansUpToSeq: db.prepare(`SELECT run_id AS runId, ${SPAN_COLUMNS} FROM run_spans WHERE task_id = ? AND first_seq <= ? ORDER BY first_seq DESC`),
    insertSpan: db.prepare('INSERT INTO run_spans (task_id, run_id, first_run_seq, last_run_seq, first_seq) VALUES (?, ?, ?, ?, ?)'),
    extendSpan: db.prepare('UPDATE run_spans SET last_run_seq = ? WHERE task_id = ? AND run_id = ? AND first_run_seq = ?'),
    claimRun: db.prepare('INSERT INTO runs (task_id, run_id, writer) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    runWriter: db.prepare<[string, string], string>('SELECT writer FROM runs WHERE task_id = ? AND run_id = ?').pluck(),
    firstSeq: db.prepare<[string], number>('SELECT seq FROM logs WHERE task_id = ? ORDER BY seq LIMIT 1').pluck(),
    chunkEnd: db
      .prepare<[string, number, number, number], number>('SELECT seq FROM logs WHERE task_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT 1 OFFSET ?')
      .pluck(),
    countChunk: db.prepare(
      'SELECT source, level, COUNT(*) AS n FROM logs WHERE task_id = ? AND seq > ? AND seq <= ? AND time_ms < ? GROUP BY source, level',
    ),
    deleteChunk: db.prepare('DELETE FROM logs WHERE task_id = ? AND seq > ? AND seq <= ? AND time_ms < ?'),
    // Two statements, not one with "? IS NULL OR seq <= ?": that form cannot bound the key range,
    // and every chunk of a delete then read the rest of the task (1M lines: 32 s instead of 3).
    timeRangeBetween: db.prepare('SELECT MIN(time_ms) AS min, MAX(time_ms) AS max FROM logs WHERE task_id = ? AND seq > ? AND seq <= ?'),
    timeRangeAfter: db.prepare('SELECT MIN(time_ms) AS min, MAX(time_ms) AS max FROM logs WHERE task_id = ? AND seq > ?'),
    listTasks: db.prepare('SELECT * FROM tasks ORDER BY updated_at DESC, task_id LIMIT ? OFFSET ?'),
    countTasks: db.prepare<[], number>('SELECT COUNT(*) FROM tasks').pluck(),
    listMatchingTasks: db.prepare(
      `SELECT * FROM tasks WHERE EXISTS (SELECT 1 FROM json_each(?) AS p WHERE tasks.task_id GLOB p.value)
       ORDER BY updated_at DESC, task_id LIMIT ? OFFSET ?`,
    ),
    countMatchingTasks: db
      .prepare<[string], number>('SELECT COUNT(*) FROM tasks WHERE EXISTS (SELECT 1 FROM json_each(?) AS p WHERE tasks.task_id GLOB p.value)')
      .pluck(),
    ping: db.prepare<[], number>('SELECT 1').pluck(),
    cached,
    cachedRaw,
  };
}
