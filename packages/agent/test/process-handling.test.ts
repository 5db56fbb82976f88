// The script's processes as a terminal would handle them: a signal the agent receives reaches
// everything the script started, output cut off after the script ended is said to be, and a
// file's #! line is obeyed even when the file is not executable.
import { copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnServer, type SpawnedServer, type TempDir } from '@keruta/testing';
import { cleanEnv, fetchAllLogs, runAgent, startAgent, writeScript } from './helpers.js';
import { waitUntil } from '@keruta/testing/base';

let server: SpawnedServer;
let temp: TempDir;
let env: Record<string, string>;
/** Process groups the scripts left behind, ended after the tests whatever happened. */
const leftovers: number[] = [];

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-processes-');
  server = await spawnServer();
  env = cleanEnv({ KERUTA_WEBSOCKET_URL: server.wsUrl, KERUTA_API_URL: server.apiUrl, KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool') });
});

afterAll(async () => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
  await server.stop();
  await temp.remove();
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('signals reach all the script started', () => {
  for (const [signal, status] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`passes ${signal} to the script's process group: \`sleep 30 & wait\` leaves nothing running`, async () => {
      const script = writeScript(temp.path, `background-${signal}.sh`, '#!/bin/bash\nsleep 30 &\necho "background $!"\nwait\n');
      const agent = startAgent(['execute', '--task-id', `group-${signal}`, '--script', script, '--disable-log-streaming'], env);
      let said = '';
      agent.child.stdout?.on('data', (chunk: Buffer) => (said += chunk.toString()));
      await waitUntil(() => /background \d+\n/.test(said), 'the background pid', 20_000);
      const sleeper = Number(/background (\d+)/.exec(said)?.[1]);
      leftovers.push(sleeper);
      agent.child.kill(signal);
      const run = await agent.done;
      expect(run.status).toBe(status);
      await waitUntil(() => !alive(sleeper), `the background sleep ${sleeper} to end`, 5000);
    });
  }

  it('passes SIGINT to the script\'s foreground child too: the agent ends at once, with 130', async () => {
    const script = writeScript(temp.path, 'foreground.sh', '#!/bin/bash\necho ready\nsleep 30\necho "not reached"\n');
    const agent = startAgent(['execute', '--task-id', 'group-int', '--script', script, '--disable-log-streaming'], env);
    await new Promise<void>((resolve) => agent.child.stdout?.once('data', () => resolve()));
    agent.child.kill('SIGINT');
    const run = await agent.done;
    expect(run.status).toBe(130);
    // A bash that waited for its sleep would take the whole 30 s.
    expect(run.durationMs).toBeLessThan(20_000);
    expect(run.stdout.toString()).toBe('ready\n');
  });
});

describe('output after the script ended', () => {
  it('records that output was cut 1 s after the script ended, and what came in that second', async () => {
    const script = writeScript(temp.path, 'cut.sh', '#!/bin/sh\n(sleep 0.2; echo late; sleep 30; echo never) &\necho parent done\n');
    const run = await runAgent(['execute', '--task-id', 'cut', '--script', script], env);
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toBe('parent done\nlate\n');
    expect(run.stderr).toContain('output after the script ended was cut after 1 s');
    const entries = await fetchAllLogs(server.apiUrl, 'cut');
    const started = entries.find((e) => e.metadata.event === 'started');
    leftovers.push(-Number(started?.metadata.processId));
    expect(entries.filter((e) => e.source === 'stdout').map((e) => e.message)).toEqual(['parent done', 'late']);
    expect(entries.at(-2)).toMatchObject({ source: 'agent', level: 'WARN', metadata: { event: 'cut', afterMs: 1000, bytesAfterExit: 5 } });
    expect(entries.at(-2)?.message).toMatch(/^output after the script ended was cut after 1 s: .*5 bytes read after the script ended are kept/);
    expect(entries.at(-1)?.metadata).toMatchObject({ event: 'exited', exitCode: 0 });
  });

  it('says nothing of the kind when the background child is done within the second', async () => {
    const script = writeScript(temp.path, 'no-cut.sh', '#!/bin/sh\n(sleep 0.2; echo late) &\necho parent done\n');
    const run = await runAgent(['execute', '--task-id', 'no-cut', '--script', script], env);
    expect(run.status).toBe(0);
    expect((await fetchAllLogs(server.apiUrl, 'no-cut')).some((e) => e.metadata.event === 'cut')).toBe(false);
  });
});

describe('a file that is not executable', () => {
  it('runs by its #! line, never silently with sh', async () => {
    const script = writeScript(temp.path, 'bashism.sh', '#!/bin/bash\nif [[ "$BASH_VERSION" == *.* ]]; then echo "run by bash"; fi\n', { executable: false });
    const run = await runAgent(['execute', '--task-id', 'shebang', '--script', script, '--verbose'], env);
    expect(run.stdout.toString()).toBe('run by bash\n');
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('by its #! line; it is not executable');
    const started = (await fetchAllLogs(server.apiUrl, 'shebang')).find((e) => e.metadata.event === 'started');
    expect(started?.metadata.runner).toBe('shebang');
  });

  it('passes the #! line\'s argument on, as the kernel does (`#!/usr/bin/env bash`)', async () => {
    const script = writeScript(temp.path, 'env-bash.sh', '#!/usr/bin/env bash\necho "${BASH_VERSION:+bash} $((6 * 7))" "$0"\n', { executable: false });
    const run = await runAgent(['execute', '--task-id', 'shebang-env', '--script', script, '--disable-log-streaming'], env);
    expect(run.stdout.toString()).toBe(`bash 42 ${script}\n`);
  });

  it('refuses a program without the execute bit with 126, naming the missing bit', async () => {
    const program = join(temp.path, 'true-copy');
    copyFileSync('/bin/true', program);
    chmodSync(program, 0o644);
    const run = await runAgent(['execute', '--task-id', 'not-executable', '--script', program, '--disable-log-streaming'], env);
    expect(run.status).toBe(126);
    expect(run.stderr).toContain('execute bit');
  });
});
