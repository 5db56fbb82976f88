// The PostgreSQL store on the machine's server: ingest through append, and history pages from a
// ten-million-line task. Run alone: node bench/scenarios/store-postgres.mjs [--quick]
// (needs `npm run build` first, and PostgreSQL on 127.0.0.1:5432; without it, one row says so).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { createPostgresLogStore } from '@keruta/storage';
import { cpuMsOf, createLatencyRecorder, round, row, seededRandom } from '../lib/measure.mjs';

const SCENARIO = 'store-postgres';
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const INGEST_LINES = 200_000;
const BATCH = 1_000;
const PAGE_SIZE = 1_000;
const SAMPLES = 1_000;
const BASELINE_SAMPLES = 20;
/** Rows per generate_series INSERT while filling the history task. */
const FILL_CHUNK = 1_000_000;
const INGEST_TARGET_LINES_PER_S = 150_000;
const PAGE_P99_TARGET_MS = 20;
const T0 = Date.parse('2024-05-01T00:00:00.000Z');

export async function run({ quick = false } = {}) {
  const historyLines = quick ? 1_000_000 : 10_000_000;
  const loadAtStart = loadavg()[0];
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    await admin.end().catch(() => undefined);
    return [row(SCENARIO, `skipped: PostgreSQL not reachable at 127.0.0.1:5432 (${error.message})`, 0, '')];
  }
  const database = `keruta_bench_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const url = ADMIN_URL.replace(/\/postgres$/, `/${database}`);
  const store = await createPostgresLogStore({ url });
  const direct = new pg.Client({ connectionString: url });
  await direct.connect();
  try {
    const { server } = (await direct.query("SELECT current_setting('server_version') AS server")).rows[0];

    const backends = await backendCpu(direct, database);
    const ingested = await ingest(store, 'ingest', INGEST_LINES);
    const ingestNs = ingested.spent;
    const linesPerSecond = Math.round(INGEST_LINES / (Number(ingestNs) / 1e9));
    // On a shared machine the wall clock measures the neighbours too; the CPU both processes
    // spent tells what the same work costs on idle cores (the two take turns, batch by batch).
    const serverCpuMs = await backends.spentMs();
    const kerutaCpuMs = ingested.cpuMs;
    const cpuBoundLinesPerSecond = Math.round(INGEST_LINES / ((kerutaCpuMs + serverCpuMs) / 1000));
    // The baseline: the same lines through one bare INSERT … unnest per batch, with none of
    // append's work (task lock, duplicate check, counters), into a copy of the logs table.
    const unnestNs = await ingestByUnnest(direct, INGEST_LINES);
    const unnestPerSecond = Math.round(INGEST_LINES / (Number(unnestNs) / 1e9));

    const fillStarted = performance.now();
    await fillHistory(direct, 'history', historyLines);
    const fillSeconds = (performance.now() - fillStarted) / 1000;

    const pages = Math.ceil(historyLines / PAGE_SIZE);
    const byPage = await timeQueries(store, direct, database, (random) => ({ page: Math.floor(random() * pages), size: PAGE_SIZE }));
    const byAfterSeq = await timeQueries(store, direct, database, (random) => ({
      page: 0,
      size: PAGE_SIZE,
      afterSeq: Math.floor(random() * (historyLines - PAGE_SIZE)),
    }));
    const byOffset = await timeOffsetBaseline(direct, pages);

    return [
      row(SCENARIO, 'server', `PostgreSQL ${server}`, ''),
      row(SCENARIO, 'load average of the machine when the scenario began (1 min)', round(loadAtStart), ''),
      row(SCENARIO, `append of ${INGEST_LINES} lines in batches of ${BATCH} (COPY), stored and committed`, linesPerSecond, 'lines/s', {
        target: `>= ${INGEST_TARGET_LINES_PER_S}`,
        pass: linesPerSecond >= INGEST_TARGET_LINES_PER_S,
      }),
      row(SCENARIO, 'append, total time in the store', round(Number(ingestNs) / 1e6), 'ms'),
      row(SCENARIO, 'append, CPU of this process inside append', round(kerutaCpuMs), 'ms'),
      row(SCENARIO, "append, CPU of the store's PostgreSQL backends", serverCpuMs, 'ms'),
      row(SCENARIO, 'append, lines/s that CPU allows (both CPU times back to back)', cpuBoundLinesPerSecond, 'lines/s'),
      row(SCENARIO, `bare INSERT … unnest per batch (baseline)`, unnestPerSecond, 'lines/s'),
      row(SCENARIO, 'append / bare unnest', round(linesPerSecond / unnestPerSecond), 'x'),
      row(SCENARIO, `fill of a ${historyLines}-line task (server-side generate_series)`, round(fillSeconds, 1), 's'),
      ...latencyRows(`page of ${PAGE_SIZE} of ${historyLines} by number`, byPage, true),
      ...latencyRows(`page of ${PAGE_SIZE} of ${historyLines} by afterSeq`, byAfterSeq, true),
      ...latencyRows(`page of ${PAGE_SIZE} by OFFSET (baseline, ${BASELINE_SAMPLES} samples)`, byOffset, false),
      row(SCENARIO, 'OFFSET p50 / page-by-number p50', round(byOffset.percentile(50) / byPage.percentile(50)), 'x'),
    ];
  } finally {
    await direct.end();
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

function lineOf(n, runId) {
  const timeMs = T0 + n;
  return {
    source: n % 10 === 0 ? 'stderr' : 'stdout',
    level: n % 50 === 0 ? 'WARN' : 'INFO',
    message: messageOf(n),
    metadata: {},
    timeMs,
    timestamp: new Date(timeMs).toISOString(),
    runId,
    runSeq: n,
  };
}

function messageOf(n) {
  const head = `step ${n} compiled module-${n % 997} in ${n % 89} ms `;
  return head.padEnd(100, 'x');
}

/** Appends `total` lines of 100 bytes, as an agent sends them; returns the time and CPU inside append. */
async function ingest(store, taskId, total) {
  const runId = randomBytes(16).toString('hex');
  let spent = 0n;
  let cpuUs = 0;
  for (let n = 0; n < total; ) {
    const batch = [];
    for (let i = 0; i < BATCH && n < total; i++) batch.push(lineOf(++n, runId));
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await store.append(taskId, batch);
    spent += process.hrtime.bigint() - start;
    const used = process.cpuUsage(cpu);
    cpuUs += used.user + used.system;
  }
  return { spent, cpuMs: cpuUs / 1000 };
}

/**
 * CPU time of the store's backend processes (PostgreSQL runs here, on 127.0.0.1), from /proc.
 * The store's pool is warm (ping and migrations), so the backends that serve it already exist.
 */
async function backendCpu(client, database) {
  const pidsOf = async () =>
    (await client.query("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'keruta'", [database])).rows.map((r) => r.pid);
  // A backend that has ended took its CPU time with it.
  const ticksOf = (pid) => (cpuMsOf(pid) ?? 0) / 10;
  const before = new Map((await pidsOf()).map((pid) => [pid, ticksOf(pid)]));
  return {
    async spentMs() {
      let ticks = 0;
      for (const pid of await pidsOf()) ticks += ticksOf(pid) - (before.get(pid) ?? 0);
      return ticks * 10;
    },
  };
}

async function ingestByUnnest(client, total) {
  await client.query('CREATE TABLE baseline_logs (LIKE logs INCLUDING ALL)');
  const runId = randomBytes(16).toString('hex');
  let spent = 0n;
  try {
    for (let n = 0; n < total; ) {
      const batch = [];
      for (let i = 0; i < BATCH && n < total; i++) batch.push(lineOf(++n, runId));
      const start = process.hrtime.bigint();
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO baseline_logs (task_id, seq, time_ms, source, level, message, line_number, metadata, run_id, run_seq)
         SELECT 'baseline', * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::json[], $8::text[], $9::bigint[])`,
        [
          batch.map((l) => l.runSeq),
          batch.map((l) => l.timeMs),
          batch.map((l) => l.source),
          batch.map((l) => l.level),
          batch.map((l) => l.message),
          batch.map((l) => l.runSeq),
          batch.map(() => null),
          batch.map((l) => l.runId),
          batch.map((l) => l.runSeq),
        ],
      );
      await client.query('COMMIT');
      spent += process.hrtime.bigint() - start;
    }
  } finally {
    await client.query('DROP TABLE baseline_logs');
  }
  return spent;
}

/**
 * The history task is written by the server itself, FILL_CHUNK rows per INSERT … SELECT FROM
 * generate_series, not through append: ten million lines through append would take minutes and
 * only measure ingest again. The rows come out as append lays them down (one task, in seq order,
 * the same columns and indexes), and the task's row gets the counters append would have kept.
 */
async function fillHistory(client, taskId, total) {
  for (let from = 1; from <= total; from += FILL_CHUNK) {
    const to = Math.min(total, from + FILL_CHUNK - 1);
    await client.query(
      `INSERT INTO logs (task_id, seq, time_ms, source, level, message, line_number, metadata, run_id, run_seq)
       SELECT $1, n, $2::bigint + n,
              CASE WHEN n % 10 = 0 THEN 'stderr' ELSE 'stdout' END,
              CASE WHEN n % 50 = 0 THEN 'WARN' ELSE 'INFO' END,
              rpad(format('step %s compiled module-%s in %s ms ', n, n % 997, n % 89), 100, 'x'),
              n, NULL, 'bench-run', n
         FROM generate_series($3::bigint, $4::bigint) AS n`,
      [taskId, T0, from, to],
    );
  }
  const stderr = Math.floor(total / 10);
  const warn = Math.floor(total / 50);
  await client.query(
    `INSERT INTO tasks (task_id, last_seq, total_logs, count_stdout, count_stderr, count_info, count_warn,
                        min_time_ms, max_time_ms, next_line_stdout, next_line_stderr, updated_at)
     VALUES ($1, $2::bigint, $2::bigint, $3, $4, $5, $6, $7, $8, $2::bigint + 1, $2::bigint + 1, $9)`,
    [taskId, total, total - stderr, stderr, total - warn, warn, T0 + 1, T0 + total, Date.now()],
  );
  // What autovacuum would do soon after such a load: planner statistics and the visibility map.
  await client.query('VACUUM (ANALYZE) logs');
  // The fill wrote gigabytes of WAL: flushed now, not by a checkpoint in the middle of the timings.
  await client.query('CHECKPOINT');
}

async function timeQueries(store, client, database, queryOf) {
  const random = seededRandom(42);
  for (let i = 0; i < 20; i++) await store.queryLogs('history', queryOf(random)); // JIT, connections, plans
  const latency = createLatencyRecorder();
  const backends = await backendCpu(client, database);
  const cpu = process.cpuUsage();
  for (let i = 0; i < SAMPLES; i++) {
    const query = queryOf(random);
    const start = process.hrtime.bigint();
    const page = await store.queryLogs('history', query);
    latency.record(Number(process.hrtime.bigint() - start) / 1e6);
    if (page === undefined || page.content.length !== PAGE_SIZE) throw new Error(`short page for ${JSON.stringify(query)}`);
  }
  const used = process.cpuUsage(cpu);
  latency.cpuMsPerPage = ((used.user + used.system) / 1000 + (await backends.spentMs())) / SAMPLES;
  return latency;
}

async function timeOffsetBaseline(client, pages) {
  const random = seededRandom(7);
  const latency = createLatencyRecorder();
  for (let i = 0; i < BASELINE_SAMPLES; i++) {
    const offset = Math.floor(random() * pages) * PAGE_SIZE;
    const start = process.hrtime.bigint();
    await client.query("SELECT * FROM logs WHERE task_id = 'history' ORDER BY seq LIMIT $1 OFFSET $2", [PAGE_SIZE, offset]);
    latency.record(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return latency;
}

function latencyRows(name, latency, withTarget) {
  const p99 = round(latency.percentile(99));
  const target = withTarget ? { target: `<= ${PAGE_P99_TARGET_MS} ms`, pass: p99 <= PAGE_P99_TARGET_MS } : {};
  const rows = [
    row(SCENARIO, `${name}, p50`, round(latency.percentile(50)), 'ms'),
    row(SCENARIO, `${name}, p99`, p99, 'ms', target),
    row(SCENARIO, `${name}, max`, round(latency.max), 'ms'),
  ];
  // The latencies include waiting for the CPU on a shared machine; this is the work itself.
  if (latency.cpuMsPerPage !== undefined) rows.push(row(SCENARIO, `${name}, CPU per page (this process + backends)`, round(latency.cpuMsPerPage), 'ms'));
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await run({ quick: process.argv.includes('--quick') });
  console.table(rows);
  if (rows.some((r) => r.pass === false)) process.exitCode = 1;
}
