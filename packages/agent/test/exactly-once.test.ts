// No loss, no duplicate, through the failures a real deployment sees: keruta-api killed and
// restarted mid-run, the agent itself killed, keruta-api down for the whole run. Real processes,
// real SQLite, real signals; every case ends by counting lost and duplicated lines.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeTempDir, spawnServer, type TempDir } from '@keruta/testing';
import { cleanEnv, countLossAndDuplicates, fetchAllLogs, runAgent, startAgent, writeScript } from './helpers.js';
import { sleep, waitUntil } from '@keruta/testing/base';

const LINES = 100_000;
let temp: TempDir;

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-exactly-once-');
});
afterAll(() => temp.remove());

function agentEnv(wsUrl: string, apiUrl: string, spool: string, extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv({
    KERUTA_WEBSOCKET_URL: wsUrl,
    KERUTA_API_URL: apiUrl,
    KERUTA_LOG_SPOOL_DIR: join(temp.path, spool),
    KERUTA_WEBSOCKET_RECONNECT_INTERVAL: '100ms',
    KERUTA_WEBSOCKET_MAX_RECONNECT_ATTEMPTS: '0',
    KERUTA_WEBSOCKET_TIMEOUT: '2s',
    KERUTA_API_RETRY_COUNT: '0',
    ...extra,
  });
}

async function storedCount(apiUrl: string, taskId: string): Promise<number> {
  try {
    const response = await fetch(`${apiUrl}/tasks/${taskId}`);
    if (!response.ok) return 0;
    return ((await response.json()) as { totalLogs: number }).totalLogs;
  } catch {
    // The server is down at this moment.
    return 0;
  }
}

async function taskOf(apiUrl: string, taskId: string): Promise<{ status: string; exitCode?: number }> {
  const response = await fetch(`${apiUrl}/tasks/${taskId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { status: string; exitCode?: number };
}

/** A killed agent's run ends with `lost` (sent by the agent that recovered it), and the task is failed with no exit code. */
async function checkLostEnd(apiUrl: string, taskId: string, lines: number): Promise<void> {
  const entries = await fetchAllLogs(apiUrl, taskId);
  const last = entries.at(-1);
  expect(last).toMatchObject({ source: 'agent', level: 'ERROR', metadata: { event: 'lost', lines: { stdout: lines, stderr: 0 } } });
  expect(last?.message).toContain('how the script ended is unknown');
  expect(entries.filter((e) => e.metadata?.['event'] === 'exited')).toEqual([]);
  const task = await taskOf(apiUrl, taskId);
  expect(task.status).toBe('failed');
  expect(task.exitCode).toBeUndefined();
}

async function checkExactlyOnce(apiUrl: string, taskId: string, name: string): Promise<void> {
  const entries = await fetchAllLogs(apiUrl, taskId);
  const lines = entries.filter((e) => e.source === 'stdout').map((e) => e.message);
  const { lost, duplicated, outOfOrder } = countLossAndDuplicates(lines, LINES);
  console.log(`${name}: stored ${lines.length} of ${LINES} lines; lost ${lost}, duplicated ${duplicated}, out of order ${outOfOrder}`);
  expect({ lost, duplicated, outOfOrder }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 });
  expect(lines).toHaveLength(LINES);
  const seqs = entries.map((e) => e.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
}

describe('exactly once through failures', () => {
  it('stores 100,000 numbered lines once each, in order, while keruta-api is SIGKILLed twice and restarted', async () => {
    await using server = await spawnServer();
    const script = writeScript(
      temp.path,
      'paced.sh',
      `#!/bin/bash\nfor ((i = 1; i <= ${LINES}; i++)); do\n  printf 'line %d\\n' "$i"\n  if (( i % 2500 == 0 )); then sleep 0.1; fi\ndone\n`,
    );
    const env = agentEnv(server.wsUrl, server.apiUrl, 'spool-server-killed', { KERUTA_LOG_EXIT_TIMEOUT: '60s' });
    const agent = startAgent(['execute', '--task-id', 'killed-server', '--script', script, '--verbose'], env);

    for (const threshold of [15_000, 50_000]) {
      await waitUntil(async () => (await storedCount(server.apiUrl, 'killed-server')) >= threshold, `${threshold} lines stored`, 30_000);
      await server.kill('SIGKILL');
      await sleep(300);
      await server.restart();
    }
    const run = await agent.done;
    expect(run.status).toBe(0);
    expect(run.stderr).not.toContain('warn');
    await checkExactlyOnce(server.apiUrl, 'killed-server', 'keruta-api SIGKILLed twice');
    expect(Number(/(\d+) reconnects\)/.exec(run.stderr)?.[1])).toBeGreaterThanOrEqual(2);
    // The log shows the outage; a reconnection after the script ended is only printed, so that `exited` stays last.
    const events = (await fetchAllLogs(server.apiUrl, 'killed-server')).filter((e) => e.source === 'agent').map((e) => e.metadata.event);
    expect(events).toContain('spooled');
    expect(events.at(-1)).toBe('exited');
  });

  it('keeps what a SIGKILLed agent had read and `keruta-agent flush` stores it once, in order', async () => {
    await using server = await spawnServer();
    const pidFile = join(temp.path, 'script.pid');
    const doneFile = join(temp.path, 'script.done');
    const script = writeScript(
      temp.path,
      'then-sleep.sh',
      `#!/bin/bash\necho $$ > '${pidFile}'\nfor ((i = 1; i <= ${LINES}; i++)); do\n  printf 'line %d\\n' "$i"\n  if (( i % 5000 == 0 )); then sleep 0.05; fi\ndone\ntouch '${doneFile}'\nsleep 30\n`,
    );
    const env = agentEnv(server.wsUrl, server.apiUrl, 'spool-agent-killed');
    const agent = startAgent(['execute', '--task-id', 'killed-agent', '--script', script], env);

    // Freeze the server mid-delivery so that the agent holds unacknowledged lines when it dies.
    await waitUntil(async () => (await storedCount(server.apiUrl, 'killed-agent')) >= 20_000, '20,000 lines stored', 30_000);
    process.kill(server.pid as number, 'SIGSTOP');
    try {
      await waitUntil(() => existsSync(doneFile), 'the script to print everything', 30_000);
      // The agent reads its pipes at once and spools within milliseconds; leave it a moment.
      await sleep(500);
      agent.child.kill('SIGKILL');
      await agent.done;
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } finally {
      process.kill(server.pid as number, 'SIGCONT');
    }
    expect(await storedCount(server.apiUrl, 'killed-agent')).toBeLessThan(LINES);

    const flush = await runAgent(['flush', '--verbose'], env);
    expect(flush.status).toBe(0);
    expect(flush.stderr).toMatch(/sent \d+ lines of 1 runs/);
    await checkExactlyOnce(server.apiUrl, 'killed-agent', 'agent SIGKILLed, then flush');
    await checkLostEnd(server.apiUrl, 'killed-agent', LINES);
    // Nothing is left behind, and a second flush has nothing to do.
    const again = await runAgent(['flush', '--verbose'], env);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('nothing to send');
  });

  it('replays what a SIGKILLed agent had read but not yet turned into entries; `keruta-agent flush` stores it once, in order', async () => {
    const total = 400_000;
    const port = await freePort();
    const pidFile = join(temp.path, 'burst.pid');
    const doneFile = join(temp.path, 'burst.done');
    // 40 MB as fast as awk prints it: the reading thread journals it at once, the processing follows behind.
    const script = writeScript(
      temp.path,
      'burst-then-sleep.sh',
      `#!/bin/sh\necho $$ > '${pidFile}'\nawk 'BEGIN { for (i = 1; i <= ${total}; i++) printf "line %d %s\\n", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }'\n` +
        `touch '${doneFile}'\nsleep 30\n`,
    );
    const spoolDir = join(temp.path, 'spool-unprocessed');
    const env = agentEnv(`ws://127.0.0.1:${port}/ws/tasks`, `http://127.0.0.1:${port}/api/v1`, 'spool-unprocessed');
    const agent = startAgent(['execute', '--task-id', 'killed-processing', '--script', script], env);
    await waitUntil(() => existsSync(doneFile), 'the script to print everything', 30_000);
    agent.child.kill('SIGKILL');
    await agent.done;
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    // The intake still held output that was read but not processed: the replay is what is tested.
    const [runDir] = readdirSync(spoolDir).filter((name) => name.startsWith('killed-processing~'));
    expect(readdirSync(join(spoolDir, runDir as string)).some((name) => name.startsWith('intake-'))).toBe(true);

    await using server = await spawnServer({ port });
    const flush = await runAgent(['flush', '--verbose'], cleanEnv({ ...env, KERUTA_LOG_EXIT_TIMEOUT: '120s' }));
    expect(flush.status, flush.stderr).toBe(0);
    const entries = await fetchAllLogs(server.apiUrl, 'killed-processing');
    const lines = entries.filter((e) => e.source === 'stdout').map((e) => e.message);
    const { lost, duplicated, outOfOrder } = countLossAndDuplicates(lines, total);
    console.log(`agent SIGKILLed with output unprocessed, then flush: stored ${lines.length} of ${total} lines; lost ${lost}, duplicated ${duplicated}, out of order ${outOfOrder}`);
    expect({ lost, duplicated, outOfOrder }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(lines).toHaveLength(total);
    expect(entries.map((e) => e.runSeq)).toEqual(entries.map((_, i) => i + 1));
    await checkLostEnd(server.apiUrl, 'killed-processing', total);
    // ~12 s alone; 400,000 lines through a flush can take several times that on a busy machine.
  }, 180_000);

  it('keeps every line while keruta-api is down for the whole run; `keruta-agent flush` stores them once, in order', async () => {
    const port = await freePort();
    const wsUrl = `ws://127.0.0.1:${port}/ws/tasks`;
    const apiUrl = `http://127.0.0.1:${port}/api/v1`;
    const script = writeScript(temp.path, 'burst.sh', `#!/bin/bash\nfor ((i = 1; i <= ${LINES}; i++)); do printf 'line %d\\n' "$i"; done\n`);
    const env = agentEnv(wsUrl, apiUrl, 'spool-server-down', { KERUTA_LOG_EXIT_TIMEOUT: '1s' });
    const run = await runAgent(['execute', '--task-id', 'server-down', '--script', script], env);
    expect(run.status).toBe(0);
    const kept = /keruta-agent: warn: (\d+) lines were not delivered to keruta-api \((.+)\); kept in (\S+); the next keruta-agent run or "keruta-agent flush" sends them/.exec(run.stderr);
    expect(kept, run.stderr).not.toBeNull();
    // The script's lines, `started`, `spooled` and `exited`.
    expect(Number(kept?.[1])).toBe(LINES + 3);
    expect(kept?.[3]).toContain(join(temp.path, 'spool-server-down'));

    await using server = await spawnServer({ port });
    const flush = await runAgent(['flush'], env);
    expect(flush.status).toBe(0);
    expect(flush.stderr).toBe('');
    await checkExactlyOnce(server.apiUrl, 'server-down', 'keruta-api down for the whole run, then flush');
    // The agent saw the script end: its `exited` is the last entry, and nothing says `lost`.
    expect(await taskOf(server.apiUrl, 'server-down')).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect((await fetchAllLogs(server.apiUrl, 'server-down')).filter((e) => e.metadata?.['event'] === 'lost')).toEqual([]);
  });

  it('has the next run, of any task, send what an earlier run kept', async () => {
    const port = await freePort();
    const env = agentEnv(`ws://127.0.0.1:${port}/ws/tasks`, `http://127.0.0.1:${port}/api/v1`, 'spool-next-run', { KERUTA_LOG_EXIT_TIMEOUT: '500ms' });
    const first = writeScript(temp.path, 'first.sh', '#!/bin/sh\nfor i in $(seq 1 1000); do echo "line $i"; done\n');
    const kept = await runAgent(['execute', '--task-id', 'earlier-task', '--script', first], env);
    expect(kept.stderr).toMatch(/1003 lines were not delivered/);

    await using server = await spawnServer({ port });
    const second = writeScript(temp.path, 'second.sh', '#!/bin/sh\necho "another task"\n');
    const run = await runAgent(['execute', '--task-id', 'later-task', '--script', second], env);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const earlier = (await fetchAllLogs(server.apiUrl, 'earlier-task')).filter((e) => e.source === 'stdout').map((e) => e.message);
    expect(earlier).toEqual(Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`));
    expect((await fetchAllLogs(server.apiUrl, 'later-task')).map((e) => e.message)).toContain('another task');
  });
});
