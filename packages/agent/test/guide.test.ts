// The usage guide's first section, verbatim, against a live keruta-api: the five commands, its
// environment variables and its config.yaml. What is stored must match what the script printed.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnServer, type SpawnedServer, type TempDir } from '@keruta/testing';
import type { LogEntry } from '@keruta/protocol';
import { cleanEnv, fetchAllLogs, runAgent, writeScript } from './helpers.js';

/** What the script prints, in order: [source, text, level the agent should detect]. */
const PRINTED = [
  ['stdout', 'DEBUG connecting to the database', 'DEBUG'],
  ['stdout', 'starting the build', 'INFO'],
  ['stdout', '{"level":"warn","msg":"cache miss"}', 'WARN'],
  ['stderr', 'ERROR: compilation failed', 'ERROR'],
  ['stderr', '[DEBUG] retrying with -v', 'DEBUG'],
  ['stdout', '2026-05-01 12:00:00 WARN slow step', 'WARN'],
  ['stdout', 'done', 'INFO'],
] as const;

let server: SpawnedServer;
let temp: TempDir;
let script: string;
let env: Record<string, string>;

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-guide-');
  server = await spawnServer();
  // A pause before each switch of source, so that the order across stdout and stderr is the one printed.
  const body = PRINTED.map(([source, text]) => `printf '%s\\n' '${text}'${source === 'stderr' ? ' >&2' : ''}\nsleep 0.1`).join('\n');
  script = writeScript(temp.path, 'script.sh', `#!/bin/sh\n${body}\nexit 0\n`);
  env = cleanEnv({
    KERUTA_WEBSOCKET_URL: server.wsUrl,
    KERUTA_API_URL: server.apiUrl,
    KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool'),
  });
});

afterAll(async () => {
  await server.stop();
  await temp.remove();
});

const expectedStdout = PRINTED.filter(([s]) => s === 'stdout').map(([, t]) => `${t}\n`).join('');

/** The entries of the latest run of `taskId`, i.e. those sharing the last runId. */
async function latestRun(taskId: string): Promise<LogEntry[]> {
  const all = await fetchAllLogs(server.apiUrl, taskId);
  const runId = all.at(-1)?.runId;
  return all.filter((e) => e.runId === runId);
}

/** The script's lines that a stream at `minLevel` keeps, with the line numbers they had when printed. */
function expectedLines(levels: readonly string[]) {
  const numbers = { stdout: 0, stderr: 0 };
  return PRINTED.map(([source, message, level]) => ({ source, message, level, lineNumber: ++numbers[source] })).filter((l) =>
    levels.includes(l.level),
  );
}

function checkRun(entries: LogEntry[], levels: readonly string[], minLevel: string): void {
  const lines = entries.filter((e) => e.source !== 'agent').map(({ source, message, level, lineNumber }) => ({ source, message, level, lineNumber }));
  expect(lines).toEqual(expectedLines(levels));
  // The lines below the level are not sent, and the run says how many there were.
  const belowLevel = PRINTED.length - lines.length;
  const filtered = entries.filter((e) => e.metadata.event === 'filtered');
  expect(filtered.map((e) => e.message)).toEqual(belowLevel === 0 ? [] : [`${belowLevel} lines below --log-level ${minLevel} were not sent`]);
  const first = entries[0];
  const last = entries.at(-1);
  expect(first?.metadata.event).toBe('started');
  expect(first?.message).toBe(`started ${script}`);
  expect(last?.metadata.event).toBe('exited');
  expect(last?.metadata.exitCode).toBe(0);
  expect(last?.message).toBe('exited with code 0');
  // runSeq counts every entry of the run, in order; seq is the server's order.
  expect(entries.map((e) => e.runSeq)).toEqual(entries.map((_, i) => i + 1));
  expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
}

describe('keruta-agent as the usage guide shows it', () => {
  it('keruta-agent execute --task-id task123 --script /path/to/script.sh', async () => {
    const run = await runAgent(['execute', '--task-id', 'task123', '--script', script], env);
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toBe(expectedStdout);
    expect(run.stderr).toBe('ERROR: compilation failed\n[DEBUG] retrying with -v\n');
    checkRun(await latestRun('task123'), ['INFO', 'WARN', 'ERROR'], 'INFO');
    const status = (await (await fetch(`${server.apiUrl}/tasks/task123`)).json()) as { status: string; exitCode: number };
    expect(status).toMatchObject({ status: 'succeeded', exitCode: 0 });
  });

  it('… --verbose prints the agent\'s own messages on stderr, the script\'s output unchanged', async () => {
    const run = await runAgent(['execute', '--task-id', 'task123', '--script', script, '--verbose'], env);
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toBe(expectedStdout);
    expect(run.stderr).toContain('ERROR: compilation failed\n');
    expect(run.stderr).toContain(`keruta-agent: started ${script}`);
    expect(run.stderr).toContain(`keruta-agent: connected to keruta-api over ${server.wsUrl}`);
    expect(run.stderr).toMatch(/keruta-agent: delivered 8 entries/);
    checkRun(await latestRun('task123'), ['INFO', 'WARN', 'ERROR'], 'INFO');
  });

  it('… --log-level DEBUG streams the debug lines too', async () => {
    const run = await runAgent(['execute', '--task-id', 'task123', '--script', script, '--log-level', 'DEBUG'], env);
    expect(run.status).toBe(0);
    checkRun(await latestRun('task123'), ['DEBUG', 'INFO', 'WARN', 'ERROR'], 'DEBUG');
  });

  it('… --log-level WARN streams only WARN and ERROR (everything is still printed)', async () => {
    const run = await runAgent(['execute', '--task-id', 'task123', '--script', script, '--log-level', 'WARN'], env);
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toBe(expectedStdout);
    checkRun(await latestRun('task123'), ['WARN', 'ERROR'], 'WARN');
  });

  it('… --disable-log-streaming sends nothing and connects to nothing', async () => {
    let connections = 0;
    const probe: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    const run = await runAgent(['execute', '--task-id', 'task-offline', '--script', script, '--disable-log-streaming'], {
      ...env,
      KERUTA_WEBSOCKET_URL: `ws://127.0.0.1:${port}/ws/tasks`,
      KERUTA_API_URL: `http://127.0.0.1:${port}/api/v1`,
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toBe(expectedStdout);
    expect(connections).toBe(0);
    expect((await fetch(`${server.apiUrl}/tasks/task-offline/logs`)).status).toBe(404);
  });

  it('takes the guide\'s environment variables and its config.yaml', async () => {
    const config = join(temp.path, 'config.yaml');
    writeFileSync(
      config,
      `logStreaming:\n  enabled: true\n  bufferSize: 1000\n  batchSize: 10\n  flushInterval: 1s\n  maxRetries: 3\n  retryInterval: 5s\n  \n` +
        `websocket:\n  url: ${server.wsUrl}\n  reconnectInterval: 5s\n  maxReconnectAttempts: 10\n  \n` +
        `api:\n  url: ${server.apiUrl}\n  timeout: 30s\n  retryCount: 3\n  \n` +
        `logging:\n  level: INFO\n  format: json\n  output: stdout\n`,
    );
    const guideEnv = {
      ...cleanEnv({ KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool') }),
      KERUTA_LOG_STREAMING_ENABLED: 'true',
      KERUTA_LOG_BUFFER_SIZE: '1000',
      KERUTA_LOG_BATCH_SIZE: '10',
      KERUTA_LOG_FLUSH_INTERVAL: '1',
      KERUTA_AUTH_TOKEN: 'your-jwt-token-here',
      KERUTA_API_KEY: 'your-api-key-here',
    };
    const fromFile = await runAgent(['execute', '--task-id', 'task-config', '--script', script, '--config', config], guideEnv);
    expect(fromFile.status).toBe(0);
    checkRun(await latestRun('task-config'), ['INFO', 'WARN', 'ERROR'], 'INFO');
    const fromEnv = await runAgent(['execute', '--task-id', 'task-env', '--script', script], {
      ...guideEnv,
      KERUTA_WEBSOCKET_URL: server.wsUrl,
      KERUTA_API_URL: server.apiUrl,
    });
    expect(fromEnv.status).toBe(0);
    expect(fromEnv.stderr).not.toContain('your-jwt-token-here');
    expect(fromEnv.stderr).not.toContain('your-api-key-here');
    checkRun(await latestRun('task-env'), ['INFO', 'WARN', 'ERROR'], 'INFO');
  });

  it('records a failing script as failed, with its exit code', async () => {
    const failing = writeScript(temp.path, 'fail.sh', '#!/bin/sh\necho "about to fail"\nexit 3\n');
    const run = await runAgent(['execute', '--task-id', 'task-fail', '--script', failing], env);
    expect(run.status).toBe(3);
    const entries = await latestRun('task-fail');
    expect(entries.at(-1)).toMatchObject({ source: 'agent', level: 'ERROR', message: 'exited with code 3', metadata: { event: 'exited', exitCode: 3 } });
    const status = (await (await fetch(`${server.apiUrl}/tasks/task-fail`)).json()) as { status: string; exitCode: number };
    expect(status).toMatchObject({ status: 'failed', exitCode: 3 });
  });

  it('records a missing script as failed with 127, so the task does not look stuck', async () => {
    const missing = join(temp.path, 'no-such-script.sh');
    const run = await runAgent(['execute', '--task-id', 'task-missing', '--script', missing], env);
    expect(run.status).toBe(127);
    expect(run.stderr).toContain(`script not found: ${missing}`);
    const [entry] = await latestRun('task-missing');
    expect(entry).toMatchObject({ source: 'agent', level: 'ERROR', message: `script not found: ${missing}`, metadata: { event: 'exited', exitCode: 127 } });
    const status = (await (await fetch(`${server.apiUrl}/tasks/task-missing`)).json()) as { status: string; exitCode: number };
    expect(status).toMatchObject({ status: 'failed', exitCode: 127 });
  });
});
