// What only the SQLite store promises: its file, its pragmas, its migrations, its bounded scans.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, waitUntil, type TempDir } from '@keruta/testing/base';
import type { NormalizedLogRequest } from '@keruta/protocol';
import { createSqliteLogStore, type LogStore } from '../src/index.js';
import { MAX_FILTERED_SCAN } from '../src/sqlite/read-logs.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/sqlite/schema.js';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');

function lines(count: number, firstRunSeq?: number): NormalizedLogRequest[] {
  return Array.from({ length: count }, (_, i) => {
    const entry: NormalizedLogRequest = {
      source: 'stdout',
      level: 'INFO',
      message: `line ${i + 1}`,
      metadata: {},
      timeMs: T0 + i,
      timestamp: new Date(T0 + i).toISOString(),
    };
    if (firstRunSeq !== undefined) Object.assign(entry, { runId: 'run-a', runSeq: firstRunSeq + i });
    return entry;
  });
}

function inspect<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

describe('SQLite log store', () => {
  let dir: TempDir;
  let path: string;
  let opened: LogStore[];

  function open(at = path): LogStore {
    const store = createSqliteLogStore({ path: at });
    opened.push(store);
    return store;
  }

  beforeEach(async () => {
    dir = await makeTempDir('keruta-sqlite-');
    path = join(dir.path, 'keruta.db');
    opened = [];
  });

  afterEach(async () => {
    for (const store of opened) await store.close();
    await dir.remove();
  });

  it('opens its file in WAL mode', () => {
    open();
    expect(inspect(path, (db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
  });

  it('checkpoints the WAL on a thread of its own, so the database file takes the rows while nobody commits a checkpoint', async () => {
    const store = open();
    await store.append('cp', lines(1));
    const emptySize = statSync(path).size;
    // ~3,000 rows are a few hundred pages: far below the writer's own checkpoint mark.
    for (let i = 0; i < 3; i += 1) await store.append('cp', lines(1000).map((e) => ({ ...e, message: `${e.message} ${'x'.repeat(200)}` })));
    // Waits for the rows the assertion asks for, not the first page a checkpoint copies.
    await waitUntil(() => statSync(path).size > emptySize + 3000 * 200, 'the rows in the database file', 15_000);
    expect(statSync(path).size).toBeGreaterThan(emptySize + 3000 * 200);
    await store.close();
    // The last connection closed (the thread's went first) folded the WAL in and removed it.
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(inspect(path, (db) => db.prepare('SELECT COUNT(*) AS n FROM logs').get())).toEqual({ n: 3001 });
  });

  it('creates the missing directories of its file', async () => {
    const nested = join(dir.path, 'a', 'b', 'keruta.db');
    const store = open(nested);
    await store.append('build-1', lines(1));
    expect(existsSync(nested)).toBe(true);
  });

  it('works in memory', async () => {
    const store = open(':memory:');
    await store.append('build-1', lines(3));
    expect((await store.stats('build-1'))?.totalLogs).toBe(3);
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('migrates a file once: a second store on the same file finds the schema and the data', async () => {
    const first = open();
    await first.append('build-1', lines(2));
    const second = open();
    expect(await second.lastSeq('build-1')).toBe(2);
    expect(inspect(path, (db) => db.pragma('user_version', { simple: true }))).toBe(SCHEMA_VERSION);
    const tables = inspect(path, (db) =>
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all(),
    );
    expect(tables).toEqual(['logs', 'run_spans', 'runs', 'task_errors', 'task_groups', 'tasks']);
    await second.close();
    await first.close();
    const third = open();
    expect(await third.lastSeq('build-1')).toBe(2);
  });

  it("migrates a version 2 file's run index to spans, and still tells its resends apart", async () => {
    const old = new Database(path);
    for (const migration of MIGRATIONS.filter((m) => m.version <= 2)) old.exec(migration.sql);
    old.pragma('user_version = 2');
    const insert = old.prepare(
      "INSERT INTO logs (task_id, seq, time_ms, source, level, message, line_number, metadata, run_id, run_seq) VALUES ('build-1', ?, ?, 'stdout', 'INFO', ?, ?, NULL, ?, ?)",
    );
    // runSeqs 1-3 at seqs 1-3, a line of no run, then runSeqs 4-5 at seqs 5-6.
    for (const [seq, runSeq] of [[1, 1], [2, 2], [3, 3], [4, null], [5, 4], [6, 5]] as const) {
      insert.run(seq, T0 + seq, `line ${seq}`, seq, runSeq === null ? null : 'run-a', runSeq);
    }
    old
      .prepare(
        `INSERT INTO tasks (task_id, last_seq, total_logs, count_stdout, count_info, min_time_ms, max_time_ms, next_line_stdout, updated_at)
         VALUES ('build-1', 6, 6, 6, 6, ?, ?, 7, ?)`,
      )
      .run(T0 + 1, T0 + 6, T0);
    old.close();

    const store = open();
    expect(inspect(path, (db) => db.prepare('SELECT first_run_seq, last_run_seq, first_seq FROM run_spans ORDER BY first_run_seq').raw().all())).toEqual([
      [1, 3, 1],
      [4, 5, 5],
    ]);
    expect(inspect(path, (db) => db.prepare("SELECT name FROM sqlite_master WHERE name = 'logs_run_once'").all())).toEqual([]);
    const resent = await store.append(
      'build-1',
      [1, 2, 3, 4, 5, 6].map((runSeq) => {
        const seq = runSeq <= 3 ? runSeq : runSeq + 1;
        return { ...lines(1)[0]!, message: runSeq === 2 ? 'forged' : `line ${seq}`, runId: 'run-a', runSeq };
      }),
    );
    expect(resent).toMatchObject({ duplicates: 4, conflicts: 1 });
    expect(resent.stored.map((e) => [e.seq, e.runSeq])).toEqual([[7, 6]]);
  });

  it('keeps one span per run while its batches go on from each other, and its lines without the run', async () => {
    const store = open();
    for (let i = 0; i < 5; i++) await store.append('build-1', lines(100, i * 100 + 1));
    expect(inspect(path, (db) => db.prepare('SELECT first_run_seq, last_run_seq, first_seq FROM run_spans').raw().all())).toEqual([[1, 500, 1]]);
    // The span says the run once: its lines are stored without it, and read back with it.
    expect(inspect(path, (db) => db.prepare('SELECT COUNT(*) FROM logs WHERE run_id IS NOT NULL OR run_seq IS NOT NULL').pluck().get())).toBe(0);
    const read = await store.queryLogs('build-1', { page: 4, size: 100 });
    expect(read?.content.map((e) => [e.seq, e.runId, e.runSeq])).toEqual(Array.from({ length: 100 }, (_, i) => [401 + i, 'run-a', 401 + i]));
  });

  it('never hands out one seq twice when two stores write to one file', async () => {
    const first = open();
    const second = open();
    const seqs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const writer = i % 2 === 0 ? first : second;
      seqs.push(...(await writer.append('build-1', lines(3))).stored.map((e) => e.seq));
    }
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect((await first.stats('build-1'))?.totalLogs).toBe(30);
  });

  it('refuses a file written by a newer schema', () => {
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => open()).toThrow(expect.objectContaining({ code: 'DATABASE_ERROR', message: expect.stringMatching(/newer/) }));
  });

  it('fails writes and pings with DATABASE_ERROR once its file is removed', async () => {
    const store = open();
    await store.append('build-1', lines(1));
    await dir.remove();
    await expect(store.append('build-1', lines(1))).rejects.toMatchObject({ code: 'DATABASE_ERROR' });
    await expect(store.deleteLogs('build-1')).rejects.toMatchObject({ code: 'DATABASE_ERROR' });
    await expect(store.ping()).rejects.toMatchObject({ code: 'DATABASE_ERROR' });
  });

  it('keeps an acknowledged batch when the process is killed right after', async () => {
    // A real process, killed with SIGKILL the moment append resolves: nothing gets to close
    // the database or checkpoint the WAL.
    const script = `
      import { createSqliteLogStore } from '@keruta/storage';
      const store = createSqliteLogStore({ path: ${JSON.stringify(path)} });
      const entries = Array.from({ length: 500 }, (_, i) => ({
        source: 'stdout', level: 'INFO', message: 'line ' + (i + 1), metadata: {},
        timeMs: ${T0} + i, timestamp: new Date(${T0} + i).toISOString(), runId: 'run-a', runSeq: i + 1,
      }));
      await store.append('build-1', entries);
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.signal).toBe('SIGKILL');
    const store = open();
    expect(await store.lastSeq('build-1')).toBe(500);
    expect((await store.append('build-1', lines(500, 1))).duplicates).toBe(500);
  });

  it('lets a process whose last task is closing the store finish the close and exit 0', () => {
    const script = `
      import { createSqliteLogStore } from '@keruta/storage';
      const store = createSqliteLogStore({ path: ${JSON.stringify(path)} });
      await store.append('last', [{ source: 'stdout', level: 'INFO', message: 'x', metadata: {}, timeMs: ${T0}, timestamp: new Date(${T0}).toISOString() }]);
      await store.close();
      console.log('closed');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect({ status: child.status, stdout: child.stdout }).toEqual({ status: 0, stdout: 'closed\n' });
  });

  it('deletes a large task in chunks with other work between them, keeping what was appended meanwhile', async () => {
    const store = open();
    for (let i = 0; i < 3; i += 1) await store.append('big', lines(10_000));
    const order: string[] = [];
    const deleting = store.deleteLogs('big', undefined).then((n) => {
      order.push('deleted');
      return n;
    });
    // Runs between two chunks: a delete in one statement would have finished first.
    await store.append('big', lines(5));
    order.push('appended');
    expect(await deleting).toBe(30_000);
    expect(order).toEqual(['appended', 'deleted']);
    expect(await store.stats('big')).toMatchObject({ totalLogs: 5, logCounts: { stdout: 5, stderr: 0, agent: 0 } });
    expect((await store.queryLogs('big', { page: 0, size: 10 }))?.content.map((e) => e.seq)).toEqual([30_001, 30_002, 30_003, 30_004, 30_005]);
  });

  it('searches for a text longer than a LIKE pattern may be, literally and ignoring case', async () => {
    // Over SQLite's 50,000-byte limit on a LIKE pattern.
    const store = createSqliteLogStore({ path, maxMessageLength: 100_000 });
    opened.push(store);
    const long = 'a'.repeat(60_000);
    await store.append('build-1', [
      { ...lines(1)[0]!, message: `x%${long}y` },
      { ...lines(1)[0]!, message: `x_${long}y` },
    ]);
    const found = await store.queryLogs('build-1', { page: 0, size: 10, q: `%${long.toUpperCase()}Y` });
    expect(found?.content.map((e) => e.seq)).toEqual([1]);
  });

  it('scans a filtered range in bounded windows, reporting how far each got', async () => {
    const store = open();
    const total = MAX_FILTERED_SCAN * 2 + 10;
    for (let done = 0; done < total; done += 10_000) await store.append('build-1', lines(Math.min(10_000, total - done)));
    const reads: { scannedTo: number; done: boolean }[] = [];
    let afterSeq = 0;
    for (;;) {
      const { entries, scannedTo, done } = await store.readRange({
        taskId: 'build-1',
        afterSeq,
        limit: 100,
        filter: { levels: ['ERROR'] },
      });
      expect(entries).toEqual([]);
      reads.push({ scannedTo, done });
      afterSeq = scannedTo;
      if (done) break;
    }
    expect(reads).toEqual([
      { scannedTo: MAX_FILTERED_SCAN, done: false },
      { scannedTo: MAX_FILTERED_SCAN * 2, done: false },
      { scannedTo: total, done: true },
    ]);
  });
});
