// When the WebSocket cannot be opened (a proxy that refuses upgrades, a wrong path), the agent
// sends the same entries with POST to the REST API, and still exactly once.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnServer, type SpawnedServer, type TempDir } from '@keruta/testing';
import { cleanEnv, countLossAndDuplicates, fetchAllLogs, runAgent, writeScript } from './helpers.js';

let server: SpawnedServer;
let temp: TempDir;

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-rest-');
  server = await spawnServer();
});
afterAll(async () => {
  await server.stop();
  await temp.remove();
});

describe('REST fallback', () => {
  it('posts the lines to the REST API when the WebSocket is refused', async () => {
    const script = writeScript(temp.path, 'rest.sh', '#!/bin/sh\nfor i in $(seq 1 5000); do echo "line $i"; done\n');
    const run = await runAgent(['execute', '--task-id', 'over-rest', '--script', script, '--verbose'], cleanEnv({
      // keruta-api answers 404 to an upgrade on a path it does not serve.
      KERUTA_WEBSOCKET_URL: `ws://127.0.0.1:${server.port}/not-a-websocket`,
      KERUTA_API_URL: server.apiUrl,
      KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool'),
      KERUTA_LOG_BATCH_SIZE: '500',
    }));
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`using REST ${server.apiUrl}`);
    const entries = await fetchAllLogs(server.apiUrl, 'over-rest');
    const { lost, duplicated, outOfOrder } = countLossAndDuplicates(entries.filter((e) => e.source === 'stdout').map((e) => e.message), 5000);
    expect({ lost, duplicated, outOfOrder }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(entries.at(-1)?.metadata.event).toBe('exited');
  });
});

describe('a store that cannot write, over REST', () => {
  it('sends a batch refused with DATABASE_ERROR (no Retry-After) again after the retry interval, not at once', async () => {
    await using failing = await spawnServer();
    // As a full disk would: every insert fails inside the database, so each POST answers 500 DATABASE_ERROR.
    const db = new Database(join(failing.dataDir, 'keruta.db'));
    db.exec(`CREATE TRIGGER disk_full BEFORE INSERT ON logs BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    db.close();
    const script = writeScript(temp.path, 'db-error.sh', '#!/bin/sh\necho "one line"\nsleep 6\n');
    const run = await runAgent(['execute', '--task-id', 'db-error-rest', '--script', script, '--verbose'], cleanEnv({
      KERUTA_WEBSOCKET_URL: `ws://127.0.0.1:${failing.port}/not-a-websocket`,
      KERUTA_API_URL: failing.apiUrl,
      KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool-db-error'),
      KERUTA_LOG_RETRY_INTERVAL: '1s',
      KERUTA_LOG_MAX_RETRIES: '2',
      // After the two resends the agent reconnects with backoff, 15–30 s: past the exit timeout.
      KERUTA_WEBSOCKET_RECONNECT_INTERVAL: '30s',
      KERUTA_LOG_EXIT_TIMEOUT: '2s',
    }));
    expect(run.stderr).toMatch(/DATABASE_ERROR: [^\n]*; retrying in 1000 ms/);
    expect(run.stderr).not.toMatch(/DATABASE_ERROR: [^\n]*; retrying in 0 ms/);
    // The server's own record of each refused write. The two batches in flight at first are refused
    // together, so refusals less than 200 ms apart are one round; the resends come a retry interval apart.
    const refusedAt = failing.stderr
      .split('\n')
      .filter((l) => l.includes('could not store entries'))
      .map((l) => (JSON.parse(l) as { time: number }).time);
    const rounds = refusedAt.filter((time, i) => i === 0 || time - (refusedAt[i - 1] as number) >= 200);
    // (The script's exit, 6 s in, cuts the backoff short for one more round: the resends are the rounds before it.)
    expect(rounds.length).toBeGreaterThanOrEqual(3);
    const [first, second, third] = rounds as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(950);
    expect(third - second).toBeGreaterThanOrEqual(950);
  });
});
