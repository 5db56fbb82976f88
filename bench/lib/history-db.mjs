// A SQLite file holding one task of many stored lines, for the history and export scenarios.
// The store itself creates the schema and the task's first lines (so the task row and its
// counters are the store's own); the rest is bulk-inserted straight into the same tables with
// better-sqlite3 — minutes faster than sending ten million lines through the server — and the
// task's counters are brought up to date. keruta-api then opens and reads the file as usual.
// One file per size is built once per bench process and removed when the process exits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteLogStore } from '@keruta/storage';

export const HISTORY_TASK = 'history';
const RUN_ID = 'bench-history';
const T0 = Date.parse('2024-05-01T00:00:00.000Z');
/** Lines the store appends itself before the bulk insert takes over. */
const SEED_LINES = 1000;
const ROWS_PER_INSERT = 100;
const ROWS_PER_TRANSACTION = 200_000;

/** Line n's text: 100 characters that differ from line to line, as a build log's do. */
export function historyMessage(n) {
  return `step ${n} compiled module-${n % 997} in ${n % 89} ms `.padEnd(100, 'x');
}

const built = new Map();
/** Data dirs built by this process, removed when it exits. */
const dirs = [];
let cleanupRegistered = false;

/** `{ dataDir, total, buildMs }`: a data dir whose keruta.db holds HISTORY_TASK with `total` lines. */
export async function historyDataDir(total) {
  let pending = built.get(total);
  if (pending === undefined) {
    pending = build(total);
    built.set(total, pending);
  }
  return pending;
}

async function build(total) {
  const dataDir = mkdtempSync(join(tmpdir(), `keruta-bench-history-${total}-`));
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    process.once('exit', () => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
  }
  dirs.push(dataDir);
  const path = join(dataDir, 'keruta.db');
  const started = performance.now();
  const seed = Math.min(SEED_LINES, total);
  const store = createSqliteLogStore({ path });
  try {
    const batch = [];
    for (let n = 1; n <= seed; n++) {
      batch.push({
        source: 'stdout',
        level: 'INFO',
        message: historyMessage(n),
        metadata: {},
        timeMs: T0 + n,
        timestamp: new Date(T0 + n).toISOString(),
        lineNumber: n,
        runId: RUN_ID,
        runSeq: n,
      });
    }
    await store.append(HISTORY_TASK, batch);
  } finally {
    await store.close();
  }

  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const insert = db.prepare(
      `INSERT INTO logs (task_id, seq, time_ms, source, level, message, line_number, metadata, run_id, run_seq) VALUES ${Array.from(
        { length: ROWS_PER_INSERT },
        () => "(?, ?, ?, 'stdout', 'INFO', ?, ?, NULL, ?, ?)",
      ).join(', ')}`,
    );
    const values = new Array(ROWS_PER_INSERT * 7);
    const insertRange = db.transaction((from, to) => {
      for (let first = from; first <= to; first += ROWS_PER_INSERT) {
        for (let i = 0; i < ROWS_PER_INSERT; i++) {
          const n = first + i;
          const at = i * 7;
          values[at] = HISTORY_TASK;
          values[at + 1] = n;
          values[at + 2] = T0 + n;
          values[at + 3] = historyMessage(n);
          values[at + 4] = n;
          values[at + 5] = RUN_ID;
          values[at + 6] = n;
        }
        insert.run(values);
      }
    });
    // The bulk part goes in whole statements; any remainder goes row by row below.
    const bulkEnd = seed + Math.floor((total - seed) / ROWS_PER_INSERT) * ROWS_PER_INSERT;
    for (let from = seed + 1; from <= bulkEnd; from += ROWS_PER_TRANSACTION) {
      insertRange(from, Math.min(bulkEnd, from + ROWS_PER_TRANSACTION - 1));
    }
    const one = db.prepare("INSERT INTO logs (task_id, seq, time_ms, source, level, message, line_number, metadata, run_id, run_seq) VALUES (?, ?, ?, 'stdout', 'INFO', ?, ?, NULL, ?, ?)");
    for (let n = bulkEnd + 1; n <= total; n++) one.run(HISTORY_TASK, n, T0 + n, historyMessage(n), n, RUN_ID, n);
    db.prepare(
      `UPDATE tasks SET last_seq = @total, total_logs = @total, count_stdout = @total, count_info = @total,
         max_time_ms = @maxTime, next_line_stdout = @total + 1 WHERE task_id = @task`,
    ).run({ total, maxTime: T0 + total, task: HISTORY_TASK });
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return { dataDir, total, buildMs: performance.now() - started };
}

