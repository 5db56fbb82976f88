// One-off measurement for the scale-out section of bench/README.md: keruta-api on PostgreSQL
// (the multi-instance store), the per-line costs that the extrapolation to 10,000 tasks and
// 1 billion lines a day multiplies. On a fresh database of its own, with one subscriber:
//  - a burst of LINES build-log lines in batches of 1,000 (the agent's batches under a burst);
//  - SINGLES lines in batches of one, one batch acknowledged before the next (a task printing a
//    line now and then, as most of 10,000 concurrent tasks do);
// and for each keruta-api's CPU and its PostgreSQL backends' CPU per line (from /proc), and the
// bytes per line the database grew by after a CHECKPOINT (tables + indexes + TOAST), beside the
// raw text's 100. Not part of `npm run bench` (it needs PostgreSQL and says nothing the targets ask).
// Run: npm run build && node bench/scale-postgres.mjs [--lines N] [--singles N]
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createTestDatabase, spawnServer } from '@keruta/testing';
import { writeLines, subscribe } from './lib/agent-writer.mjs';
import { buildLogLine } from './lib/build-log.mjs';
import { cpuMsOf, round } from './lib/measure.mjs';
import { LINE_BYTES } from './lib/script.mjs';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '200000' }, singles: { type: 'string', default: '2000' } } });
const LINES = Number(values.lines);
const SINGLES = Number(values.singles);

const database = await createTestDatabase('bench/scale-postgres.mjs');
if (database === undefined) process.exit(1);
const client = new pg.Client({ connectionString: database.url });
await client.connect();
const server = await spawnServer({ env: { KERUTA_DATABASE_URL: database.url } });
try {
  const messageOf = (n) => buildLogLine(n, process.hrtime.bigint(), LINE_BYTES);
  // Warm-up: the write and fan-out paths compiled before anything is measured.
  await writeLines({ wsUrl: server.wsUrl, taskId: 'warm-up', total: 20_000, messageOf });

  const measure = async (label, taskId, total, options) => {
    const subscriber = await subscribe({ wsUrl: server.wsUrl, taskId });
    await client.query('CHECKPOINT');
    const sizeBefore = await databaseBytes();
    const backends = await backendPids();
    const backendsBefore = backends.map((pid) => cpuMsOf(pid) ?? 0);
    const apiBefore = cpuMsOf(server.pid);
    const commitsBefore = await commits();
    const ms = await writeLines({ wsUrl: server.wsUrl, taskId, total, messageOf, ...options });
    await subscriber.waitFor(total);
    const apiMs = cpuMsOf(server.pid) - apiBefore;
    // pg_stat_database is updated when a backend reports (at most every 500 ms by default).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const commitsMade = (await commits()) - commitsBefore;
    // Backends that appeared meanwhile are counted whole; one that ended took its time with it.
    const after = await backendPids();
    let backendMs = 0;
    for (const pid of after) backendMs += (cpuMsOf(pid) ?? 0) - (backendsBefore[backends.indexOf(pid)] ?? 0);
    await client.query('CHECKPOINT');
    const grown = (await databaseBytes()) - sizeBefore;
    subscriber.close();
    console.log(`${label}: ${total} lines in ${round(ms)} ms (${Math.round(total / (ms / 1000))} lines/s), ${subscriber.disorder} out of order`);
    console.log(`  keruta-api CPU ${round((apiMs * 1000) / total, 2)} µs/line, PostgreSQL backends ${round((backendMs * 1000) / total, 2)} µs/line`);
    console.log(`  ${commitsMade} transactions committed (${round(commitsMade / (total / (options.batchSize ?? 1000)), 1)} per batch, this script's few included)`);
    console.log(`  database grew ${round(grown / 2 ** 20, 1)} MiB: ${round(grown / total, 1)} bytes/line (raw text ${LINE_BYTES})`);
  };

  await measure(`burst, batches of 1000`, 'burst', LINES, { batchSize: 1000 });
  await measure(`lines alone, batches of 1`, 'singles', SINGLES, { batchSize: 1, inFlight: 1 });
  const tables = await client.query(
    `SELECT relname, pg_total_relation_size(oid) AS bytes FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC LIMIT 5`,
  );
  console.log('largest tables (with their indexes):', tables.rows.map((r) => `${r.relname} ${round(Number(r.bytes) / 2 ** 20, 1)} MiB`).join(', '));
} finally {
  await client.end();
  await server.stop();
  await database.drop();
}

async function commits() {
  return Number((await client.query('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()')).rows[0].xact_commit);
}

async function databaseBytes() {
  return Number((await client.query('SELECT pg_database_size(current_database()) AS bytes')).rows[0].bytes);
}

/** keruta-api's backends on this database (not this script's own connection). */
async function backendPids() {
  const result = await client.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return result.rows.map((r) => r.pid);
}
