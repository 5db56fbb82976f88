// A writer who has learnt a run's runId (every reader sees it) tries to fill that run's coming
// runSeqs before the agent does, so that the agent's own lines would be dropped as duplicates.
// With credentials, the run belongs to the credential that started it and the forger is refused;
// with none (one loopback writer for all), the agent's lines that collide are reported and counted.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, writeApiKeysFile } from 'keruta-api';
import { makeTempDir, spawnServer, type SpawnedServer, type TempDir } from '@keruta/testing';
import { cleanEnv, fetchAllLogs, startAgent, writeScript } from './helpers.js';
import { waitUntil } from '@keruta/testing/base';

const LINES = 30;
let temp: TempDir;
let script: string;

beforeAll(async () => {
  temp = await makeTempDir('keruta-run-owner-');
  // The script waits for the forger to have tried before it prints, so the race is the forger's to
// win, and runs on a moment after its last line, so that what the server answers can be logged.
  script = writeScript(
    temp.path,
    'script.sh',
    `#!/bin/sh\nwhile [ ! -e "$1" ]; do sleep 0.05; done\nfor i in $(seq 1 ${LINES}); do echo "line $i"; done\nsleep 1\n`,
  );
});
afterAll(async () => {
  await temp.remove();
});

interface Forgery {
  status: number;
  body: { code?: string; message?: string; accepted?: number };
}

/** Waits for the run's `started` entry, then posts `count` forged lines for the runSeqs after it. */
async function forge(apiUrl: string, taskId: string, headers: Record<string, string>, count: number): Promise<Forgery> {
  let runId: string | undefined;
  let startedRunSeq = 0;
  await waitUntil(
    async () => {
      const response = await fetch(`${apiUrl}/tasks/${taskId}/logs?size=10`, { headers });
      if (response.status !== 200) return false;
      const page = (await response.json()) as { content: { runId?: string; runSeq?: number }[] };
      const started = page.content.find((e) => e.runId !== undefined);
      runId = started?.runId;
      startedRunSeq = started?.runSeq ?? 0;
      return runId !== undefined;
    },
    'the agent to start its run',
    20_000,
  );
  const entries = Array.from({ length: count }, (_, i) => ({
    source: 'stdout',
    level: 'INFO',
    message: `forged ${i + 1}`,
    runId,
    runSeq: startedRunSeq + 1 + i,
  }));
  const response = await fetch(`${apiUrl}/tasks/${taskId}/logs`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ entries }),
  });
  const body = (await response.json()) as Forgery['body'];
  writeScript(temp.path, `${taskId}.forged`, '');
  return { status: response.status, body };
}

describe('with API keys', () => {
  let server: SpawnedServer;
  const agentKey = createApiKey({ scopes: ['logs:read', 'logs:write'], name: 'agent' });
  const forgerKey = createApiKey({ scopes: ['logs:read', 'logs:write'], name: 'forger' });
  beforeAll(async () => {
    const keysFile = join(temp.path, 'keys.yaml');
    writeApiKeysFile(keysFile, [agentKey.stored, forgerKey.stored]);
    server = await spawnServer({ env: { KERUTA_AUTH_MODE: 'apikey', KERUTA_API_KEYS_FILE: keysFile } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("refuses another credential's lines for a run the agent started, with FORBIDDEN, and stores every agent line once", async () => {
    const taskId = 'owned-run';
    const agent = startAgent(
      ['execute', '--task-id', taskId, '--script', script, '--', join(temp.path, `${taskId}.forged`)],
      cleanEnv({
        KERUTA_WEBSOCKET_URL: server.wsUrl,
        KERUTA_API_URL: server.apiUrl,
        KERUTA_API_KEY: agentKey.key,
        KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool-keys'),
      }),
    );
    // Past the script's last line: the agent's `exited` entry too.
    const forgery = await forge(server.apiUrl, taskId, { 'x-api-key': forgerKey.key }, LINES + 10);
    const run = await agent.done;

    expect(forgery.status).toBe(403);
    expect(forgery.body.code).toBe('FORBIDDEN');
    expect(forgery.body.message).toMatch(/another credential/);
    expect(run.status).toBe(0);
    const entries = await fetchAllLogs(server.apiUrl, taskId, { 'x-api-key': agentKey.key });
    const stdout = entries.filter((e) => e.source === 'stdout').map((e) => e.message);
    expect(stdout).toEqual(Array.from({ length: LINES }, (_, i) => `line ${i + 1}`));
    expect(entries.some((e) => e.metadata.event === 'exited')).toBe(true);
    const task = (await (await fetch(`${server.apiUrl}/tasks/${taskId}`, { headers: { 'x-api-key': agentKey.key } })).json()) as {
      status: string;
    };
    expect(task.status).toBe('succeeded');
  });
});

describe('in auth mode none', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("reports the agent's lines whose runSeq someone else filled first as a conflict, in its log and in /metrics", async () => {
    const taskId = 'forged-run';
    const agent = startAgent(
      ['execute', '--task-id', taskId, '--script', script, '--', join(temp.path, `${taskId}.forged`)],
      cleanEnv({
        KERUTA_WEBSOCKET_URL: server.wsUrl,
        KERUTA_API_URL: server.apiUrl,
        KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool-none'),
      }),
    );
    // Short of the script's last lines, so that the agent's report of the conflict is stored after them.
    const forgery = await forge(server.apiUrl, taskId, {}, LINES - 5);
    const run = await agent.done;

    // One writer on loopback: nothing tells the forger from the agent, but nothing is silent either.
    expect(forgery.status).toBe(201);
    expect(run.status).toBe(0);
    // The agent's lines may have gone in one batch or several: each ack reports its own conflicts.
    const printed = [...run.stderr.matchAll(/keruta-agent: error: (\d+) lines of run \S+ were not stored/g)];
    expect(printed.reduce((sum, m) => sum + Number(m[1]), 0)).toBe(LINES - 5);
    const entries = await fetchAllLogs(server.apiUrl, taskId);
    const conflicts = entries.filter((e) => e.metadata.event === 'conflict');
    expect(conflicts.length).toBeGreaterThan(0);
    for (const conflict of conflicts) {
      expect(conflict).toMatchObject({ source: 'agent', level: 'ERROR' });
      expect(conflict.message).toMatch(/^\d+ lines of run .* were not stored/);
    }
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    const counted = /keruta_run_conflicts_total\{kind="line"\} (\d+)/.exec(metrics);
    expect(Number(counted?.[1])).toBe(LINES - 5);
    expect(conflicts.reduce((sum, e) => sum + Number(e.metadata.count), 0)).toBe(LINES - 5);
    expect(entries.filter((e) => e.source === 'stdout').map((e) => e.message).slice(-5)).toEqual(['line 26', 'line 27', 'line 28', 'line 29', 'line 30']);
  });
});
