// What only the PostgreSQL store promises: several instances on one database (seqs, migrations),
// recovery from connections the server ends, chunked deletes, bounded scans.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from '@keruta/testing/base';
import { isKerutaError, type NormalizedLogRequest } from '@keruta/protocol';
import { createPostgresLogStore, type LogStore } from '../src/index.js';
import { DELETE_CHUNK_SIZE } from '../src/delete-chunks.js';
import { MAX_FILTERED_SCAN } from '../src/postgres/read-logs.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/postgres/schema.js';
import { LAST_SPAN } from '../src/postgres/statements.js';
import { createTestDatabase } from './postgres-database.js';

const postgres = await createTestDatabase('the PostgreSQL store');
afterAll(async () => {
  await postgres?.drop();
});

const T0 = Date.parse('2024-05-01T10:00:00.000Z');

function lines(count: number, shape: (i: number) => Partial<NormalizedLogRequest> = () => ({})): NormalizedLogRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    source: 'stdout',
    level: 'INFO',
    message: `line ${i + 1}`,
    metadata: {},
    timeMs: T0 + i,
    timestamp: new Date(T0 + i).toISOString(),
    ...shape(i),
  }));
}

function run(runId: string, firstRunSeq: number, count: number): NormalizedLogRequest[] {
  return lines(count, (i) => ({ runId, runSeq: firstRunSeq + i, message: `${runId} ${firstRunSeq + i}` }));
}

/** Calls `body` until it resolves; every failure must be a DATABASE_ERROR. Returns how many failed. */
async function retried(body: () => Promise<unknown>, attempts = 50): Promise<number> {
  for (let failures = 0; ; failures++) {
    try {
      await body();
      return failures;
    } catch (error) {
      if (!isKerutaError(error) || error.code !== 'DATABASE_ERROR' || failures + 1 >= attempts) throw error;
      expect(error.message).not.toMatch(/SELECT|INSERT|COPY|UPDATE|DELETE/);
      await sleep(10);
    }
  }
}

describe.skipIf(postgres === undefined)('PostgreSQL log store', () => {
  const db = postgres!;
  let schema: string;
  let opened: LogStore[];

  async function open(options: { maxConnections?: number } = {}): Promise<LogStore> {
    const store = await createPostgresLogStore({ url: await db.urlInSchema(schema), maxConnections: 4, ...options });
    opened.push(store);
    return store;
  }

  /** Ends every connection the stores of this test hold, as an operator's pg_terminate_backend would. */
  async function terminateStoreConnections(): Promise<number> {
    const rows = await db.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'keruta' AND pid <> pg_backend_pid()`,
    );
    return rows.filter((r) => r.ended).length;
  }

  /** The task as its rows say, beside what its counters say. */
  async function audit(taskId: string) {
    const [rows] = await db.query<{ n: number; distinct_seqs: number; min_seq: number | null; max_seq: number | null; stdout: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT seq)::int AS distinct_seqs, min(seq)::int AS min_seq,
              max(seq)::int AS max_seq, count(*) FILTER (WHERE source = 'stdout')::int AS stdout
         FROM ${schema}.logs WHERE task_id = $1`,
      [taskId],
    );
    const [task] = await db.query<{ total_logs: number; last_seq: number; count_stdout: number }>(
      `SELECT total_logs::int, last_seq::int, count_stdout::int FROM ${schema}.tasks WHERE task_id = $1`,
      [taskId],
    );
    return { rows, task };
  }

  beforeEach(() => {
    schema = `t_${randomBytes(6).toString('hex')}`;
    opened = [];
  });

  afterEach(async () => {
    for (const store of opened) await store.close();
  });

  it('migrates once when several instances start at once', async () => {
    // The migration's CREATE TABLEs have no IF NOT EXISTS: two running at once would fail one start.
    const stores = await Promise.all(Array.from({ length: 5 }, () => open()));
    const versions = await db.query<{ version: number }>(`SELECT version FROM ${schema}.keruta_schema ORDER BY version`);
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await stores[0]!.append('build-1', lines(2));
    expect(await stores[4]!.lastSeq('build-1')).toBe(2);
  });

  it('refuses a database written by a newer schema', async () => {
    const first = await open();
    await first.close();
    await db.query(`INSERT INTO ${schema}.keruta_schema (version, description) VALUES ($1, 'from the future')`, [SCHEMA_VERSION + 1]);
    await expect(open()).rejects.toMatchObject({ code: 'DATABASE_ERROR', message: expect.stringMatching(/newer/) });
  });

  it('gives contiguous seqs, none twice, to writers on two instances appending to one task at once', async () => {
    const instances = [await open(), await open()];
    const WRITERS_PER_INSTANCE = 4;
    const BATCHES = 20;
    const BATCH = 100;
    const seqs: number[] = [];
    await Promise.all(
      instances.flatMap((store, s) =>
        Array.from({ length: WRITERS_PER_INSTANCE }, async (_, w) => {
          const runId = `run-${s}-${w}`;
          let previous = 0;
          for (let b = 0; b < BATCHES; b++) {
            const { stored } = await store.append('shared', run(runId, b * BATCH + 1, BATCH));
            // A writer's own lines keep its order, and each batch takes a contiguous block.
            expect(stored[0]!.seq).toBeGreaterThan(previous);
            expect(stored[BATCH - 1]!.seq - stored[0]!.seq).toBe(BATCH - 1);
            previous = stored[BATCH - 1]!.seq;
            seqs.push(...stored.map((e) => e.seq));
          }
        }),
      ),
    );
    const total = instances.length * WRITERS_PER_INSTANCE * BATCHES * BATCH;
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const { rows, task } = await audit('shared');
    expect(rows).toEqual({ n: total, distinct_seqs: total, min_seq: 1, max_seq: total, stdout: total });
    expect(task).toEqual({ total_logs: total, last_seq: total, count_stdout: total });
  });

  it('recovers on its own after pg_terminate_backend, losing and duplicating nothing', async () => {
    const store = await open();
    await store.append('build-1', lines(1));
    expect(await terminateStoreConnections()).toBeGreaterThan(0);
    // The next call may meet a connection the server has just ended; a later one succeeds.
    await retried(() => store.getTask('build-1'), 3);
    await expect(store.ping()).resolves.toBeUndefined();
    expect(await store.lastSeq('build-1')).toBe(1);
  });

  it('answers DATABASE_ERROR, naming no password, while the database refuses connections, and recovers when it is back', async () => {
    const url = new URL(await db.urlInSchema(schema));
    url.password = 'hunter2'; // trust auth ignores it; it must show up nowhere
    const store = await createPostgresLogStore({ url: url.toString(), maxConnections: 2, connectTimeoutMs: 2000 });
    opened.push(store);
    await store.append('build-1', lines(3));
    await db.allowConnections(false);
    try {
      await terminateStoreConnections();
      const calls = [() => store.append('build-1', lines(1)), () => store.queryLogs('build-1', { page: 0, size: 10 }), () => store.ping()];
      for (const call of calls) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(error).toMatchObject({ name: 'KerutaError', code: 'DATABASE_ERROR' });
        expect(error?.message).not.toMatch(/hunter2|SELECT|INSERT|COPY/);
      }
    } finally {
      await db.allowConnections(true);
    }
    // Nothing of the refused append was written; the next calls simply work.
    expect((await store.append('build-1', lines(1))).lastSeq).toBe(4);
    expect((await store.stats('build-1'))?.totalLogs).toBe(4);
  });

  it('keeps every line exactly once when its connections are terminated mid-stream, with agents retrying', async () => {
    const store = await open();
    const WRITERS = 4;
    const BATCHES = 20;
    const BATCH = 250;
    let writing = true;
    let failedAppends = 0;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let b = 0; b < BATCHES; b++) {
        // An agent resends a batch that was not acknowledged, with the same runId and runSeqs.
        failedAppends += await retried(() => store.append('build-1', run(`run-${w}`, b * BATCH + 1, BATCH)), 500);
      }
    });
    let terminated = 0;
    const killer = (async () => {
      while (writing) {
        terminated += await terminateStoreConnections();
        await sleep(40);
      }
    })();
    await Promise.all(writers).finally(() => {
      writing = false;
    });
    await killer;

    const total = WRITERS * BATCHES * BATCH;
    const pairs = await db.query<{ run_id: string; run_seq: number; copies: number }>(
      `SELECT run_id, run_seq::int, count(*)::int AS copies FROM ${schema}.logs WHERE task_id = 'build-1' AND run_id IS NOT NULL GROUP BY 1, 2`,
    );
    const lost = total - pairs.length;
    const duplicated = pairs.filter((p) => p.copies > 1).length;
    const { rows, task } = await audit('build-1');
    const gaps = (rows?.max_seq ?? 0) - (rows?.min_seq ?? 0) + 1 - (rows?.n ?? 0);
    console.info(
      `pg_terminate_backend mid-stream: ${terminated} connections ended, ${failedAppends} appends failed and were resent; ` +
        `lost ${lost}, duplicated ${duplicated}, seq gaps ${gaps} of ${total} lines`,
    );
    expect(terminated).toBeGreaterThan(0);
    expect({ lost, duplicated, gaps }).toEqual({ lost: 0, duplicated: 0, gaps: 0 });
    // Nothing half-written: the counters say what the rows say.
    expect(rows).toMatchObject({ n: total, distinct_seqs: total, min_seq: 1, max_seq: total });
    expect(task).toEqual({ total_logs: total, last_seq: total, count_stdout: total });
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('deletes in chunks, keeping the counters exact and the lines appended meanwhile', async () => {
    const store = await open();
    const total = DELETE_CHUNK_SIZE * 2 + 500;
    // Every third line is old: a delete by time takes some lines out of every chunk.
    for (let done = 0; done < total; done += 5_000) {
      await store.append(
        'build-1',
        lines(Math.min(5_000, total - done), (i) => ({
          timeMs: (done + i) % 3 === 0 ? T0 - 1_000 : T0 + done + i,
          source: (done + i) % 2 === 0 ? 'stdout' : 'stderr',
        })),
      );
    }
    const old = Math.ceil(total / 3);
    const appendedMeanwhile = T0 + total + 100;
    const [deleted] = await Promise.all([
      store.deleteLogs('build-1', T0),
      // Writers of the task go on between the delete's chunks.
      (async () => {
        for (let i = 0; i < 10; i++) await store.append('build-1', lines(1, () => ({ timeMs: appendedMeanwhile })));
      })(),
    ]);
    expect(deleted).toBe(old);
    const stats = await store.stats('build-1');
    const { rows, task } = await audit('build-1');
    expect(stats?.totalLogs).toBe(total - old + 10);
    expect(task?.total_logs).toBe(rows?.n);
    expect(task?.count_stdout).toBe(rows?.stdout);
    expect(stats?.timeRange).toEqual({
      start: new Date(T0 + 1).toISOString(),
      end: new Date(appendedMeanwhile).toISOString(),
    });

    expect(await store.deleteLogs('build-1')).toBe(total - old + 10);
    expect(await store.stats('build-1')).toMatchObject({ totalLogs: 0, timeRange: { start: null, end: null } });
    expect(await store.lastSeq('build-1')).toBe(total + 10);
  });

  it('keeps one span per run while its batches go on from each other, read through its primary key', async () => {
    const store = await open();
    for (let i = 0; i < 5; i++) await store.append('fresh', run('run-a', i * 1_000 + 1, 1_000));
    const spans = await db.query(`SELECT first_run_seq::int, last_run_seq::int, first_seq::int FROM ${schema}.run_spans`);
    expect(spans).toEqual([{ first_run_seq: 1, last_run_seq: 5_000, first_seq: 1 }]);
    const plan = await db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN ${LAST_SPAN.text.replace(/\$1/, "'fresh'").replace(/\$2/, "'run-a'").replaceAll('run_spans', `${schema}.run_spans`)}`,
    );
    const text = plan.map((line) => line['QUERY PLAN']).join('\n');
    expect(text).toMatch(/run_spans_pkey/);
    expect(text).not.toMatch(/Seq Scan|Sort/);
  });

  it("migrates a version 2 database's run index to spans, and still tells its resends apart", async () => {
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    // The test's one admin connection is shared: the search_path is set for this transaction only.
    const inSchema = (sql: string) => `BEGIN; SET LOCAL search_path TO ${schema}; ${sql}; COMMIT;`;
    await db.query(
      inSchema(`
        CREATE TABLE keruta_schema (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
        ${MIGRATIONS.filter((m) => m.version <= 2).map((m) => m.sql).join(';\n')};
        INSERT INTO keruta_schema (version, description) VALUES (1, 'one'), (2, 'two');
        INSERT INTO logs (task_id, seq, time_ms, source, level, message, line_number, run_id, run_seq)
        SELECT 'build-1', seq, ${T0} + seq, 'stdout', 'INFO', 'line ' || seq, seq,
               CASE WHEN seq = 4 THEN NULL ELSE 'run-a' END,
               CASE WHEN seq = 4 THEN NULL WHEN seq < 4 THEN seq ELSE seq - 1 END
          FROM generate_series(1, 6) AS seq;
        INSERT INTO tasks (task_id, last_seq, total_logs, count_stdout, count_info, min_time_ms, max_time_ms, next_line_stdout, updated_at)
        VALUES ('build-1', 6, 6, 6, 6, ${T0 + 1}, ${T0 + 6}, 7, ${T0});
      `),
    );
    const store = await open();
    const spans = await db.query(`SELECT first_run_seq::int, last_run_seq::int, first_seq::int FROM ${schema}.run_spans ORDER BY 1`);
    expect(spans).toEqual([
      { first_run_seq: 1, last_run_seq: 3, first_seq: 1 },
      { first_run_seq: 4, last_run_seq: 5, first_seq: 5 },
    ]);
    expect(await db.query(`SELECT 1 FROM pg_indexes WHERE schemaname = '${schema}' AND indexname = 'logs_run_once'`)).toEqual([]);
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

  it('stores U+0000, which PostgreSQL text cannot hold, as U+FFFD, and reads back what it returned', async () => {
    const store = await open();
    const { stored } = await store.append('build-1', lines(1, () => ({ message: 'a\0b', metadata: { note: 'c\0d' } })));
    expect(stored[0]).toMatchObject({ message: 'a\uFFFDb', metadata: { note: 'c\0d' } });
    const read = await store.queryLogs('build-1', { page: 0, size: 10 });
    expect(read?.content).toEqual(stored);
  });

  it('keeps tabs, newlines, backslashes and quotes in messages and metadata as they were', async () => {
    const store = await open();
    const message = 'tab\there \\N back\\slash "quoted" \'single\' \r\n end';
    const { stored } = await store.append('build-1', lines(1, () => ({ message, metadata: { path: 'C:\\temp\n', n: 1 } })));
    const read = await store.queryLogs('build-1', { page: 0, size: 10 });
    expect(read?.content[0]).toMatchObject({ message, metadata: { path: 'C:\\temp\n', n: 1 } });
    expect(read?.content).toEqual(stored);
  });

  it('scans a filtered range in bounded windows, reporting how far each got', async () => {
    const store = await open();
    const total = MAX_FILTERED_SCAN * 2 + 10;
    for (let done = 0; done < total; done += 10_000) await store.append('build-1', lines(Math.min(10_000, total - done)));
    const reads: { scannedTo: number; done: boolean }[] = [];
    let afterSeq = 0;
    for (;;) {
      const { entries, scannedTo, done } = await store.readRange({ taskId: 'build-1', afterSeq, limit: 100, filter: { levels: ['ERROR'] } });
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
