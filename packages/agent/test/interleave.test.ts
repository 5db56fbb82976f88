// stdout and stderr in the order the script printed them: in keruta-api's store and in the
// agent's own echo. Lines are numbered by the script, across both pipes, so any reordering shows.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnServer, type SpawnedServer, type TempDir } from '@keruta/testing';
import { cleanEnv, fetchAllLogs, runAgent, writeScript } from './helpers.js';

let server: SpawnedServer;
let temp: TempDir;
let env: Record<string, string>;

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-interleave-');
  server = await spawnServer();
  env = cleanEnv({ KERUTA_WEBSOCKET_URL: server.wsUrl, KERUTA_API_URL: server.apiUrl, KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool') });
});

afterAll(async () => {
  await server.stop();
  await temp.remove();
});

/** The script's numbers (`… N`) of a task's stored lines, in the server's order, with their source. */
async function storedOrder(taskId: string): Promise<{ n: number; source: string }[]> {
  const entries = await fetchAllLogs(server.apiUrl, taskId);
  return entries.filter((e) => e.source !== 'agent').map((e) => ({ n: Number(/(\d+)$/.exec(e.message)?.[1]), source: e.source }));
}

/** Lines not at the position they were printed in. */
const outOfPlace = (order: readonly number[]): number => order.filter((n, i) => n !== i + 1).length;
/** The farthest any line is from where it was printed. */
const maxDisplacement = (order: readonly number[]): number => Math.max(0, ...order.map((n, i) => Math.abs(n - (i + 1))));
const ascending = (order: readonly number[]): boolean => order.every((n, i) => i === 0 || n > (order[i - 1] ?? 0));

describe('stdout and stderr interleaved as printed', () => {
  it('stores a paced script\'s lines (stdout, stderr, stdout, then a pause) in the order printed', async () => {
    const script = writeScript(
      temp.path,
      'paced.sh',
      '#!/bin/bash\nn=0\nfor i in $(seq 1 100); do echo "step $((++n))"; echo "warn $((++n))" >&2; echo "done $((++n))"; sleep 0.005; done\n',
    );
    const run = await runAgent(['execute', '--task-id', 'paced', '--script', script], env);
    expect(run.status).toBe(0);
    const order = (await storedOrder('paced')).map((l) => l.n);
    console.log(`paced: ${outOfPlace(order)} of ${order.length} lines out of place`);
    expect(order).toHaveLength(300);
    expect(outOfPlace(order)).toBe(0);
  });

  it('stores a burst with each stream in order and the two merged within what one read of both can tell apart', async () => {
    const script = writeScript(
      temp.path,
      'burst.sh',
      '#!/bin/bash\nn=0\nfor i in $(seq 1 2000); do echo "out $((++n))"; echo "err $((++n))" >&2; done\n',
    );
    const run = await runAgent(['execute', '--task-id', 'burst', '--script', script], env);
    expect(run.status).toBe(0);
    const stored = await storedOrder('burst');
    const order = stored.map((l) => l.n);
    console.log(`burst: max displacement ${maxDisplacement(order)} of ${order.length} lines`);
    expect(order).toHaveLength(4000);
    expect(ascending(stored.filter((l) => l.source === 'stdout').map((l) => l.n))).toBe(true);
    expect(ascending(stored.filter((l) => l.source === 'stderr').map((l) => l.n))).toBe(true);
    expect(maxDisplacement(order)).toBeLessThan(64);
  });
});
