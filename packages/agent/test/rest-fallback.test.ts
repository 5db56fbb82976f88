// When the WebSocket cannot be opened (a proxy that refuses upgrades, a wrong path), the agent
// sends the same entries with POST to the REST API, and still exactly once.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnServer, type SpawnedServer, type TempDir } from '@keruta/testing';
import { backoffDelay } from '../src/backoff.js';
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

describe('reconnect backoff', () => {
  it('doubles the interval per attempt up to 8x, with up to half of it as jitter', () => {
    expect([1, 2, 3, 4, 5, 9].map((attempt) => backoffDelay(attempt, 100, () => 1))).toEqual([100, 200, 400, 800, 800, 800]);
    expect(backoffDelay(1, 100, () => 0)).toBe(50);
    expect(backoffDelay(3, 100, () => 0.5)).toBe(300);
  });
});
