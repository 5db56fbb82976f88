// --log-level against a live keruta-api: lines below it are not sent, and never left out
// silently: the run says how many there were, in a line of its own and in its `exited` entry.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnServer, type SpawnedServer, type TempDir } from '@keruta/testing';
import { cleanEnv, fetchAllLogs, runAgent, writeScript } from './helpers.js';

let server: SpawnedServer;
let temp: TempDir;
let env: Record<string, string>;

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-log-level-');
  server = await spawnServer();
  env = cleanEnv({ KERUTA_WEBSOCKET_URL: server.wsUrl, KERUTA_API_URL: server.apiUrl, KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool') });
});

afterAll(async () => {
  await server.stop();
  await temp.remove();
});

describe('--log-level', () => {
  it('counts every line below the default INFO in an agent line and in `exited`; the terminal shows them all', async () => {
    // Lines the detector calls DEBUG: two by their marker, and Node's console.trace — its
    // `Trace:` header and the `at` lines that keep the header's level.
    const script = writeScript(
      temp.path,
      'debugish.sh',
      `#!/bin/sh\necho 'DEBUG cache is warm'\necho '[TRACE] id=abc123 request done'\n'${process.execPath}' -e 'console.trace("who called me")'\necho 'all good'\n`,
    );
    const run = await runAgent(['execute', '--task-id', 'debugish', '--script', script], env);
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toBe('DEBUG cache is warm\n[TRACE] id=abc123 request done\nall good\n');
    expect(run.stderr).toMatch(/^Trace: who called me\n {4}at /);
    const traceLines = run.stderr.split('\n').filter((l) => l.startsWith('Trace: ') || l.startsWith('    at ')).length;
    const below = 2 + traceLines;
    const entries = await fetchAllLogs(server.apiUrl, 'debugish');
    const notice = entries.find((e) => e.metadata.event === 'filtered');
    expect(notice).toMatchObject({
      source: 'agent',
      level: 'INFO',
      message: `${below} lines below --log-level INFO were not sent`,
      metadata: { lines: below, logLevel: 'INFO' },
    });
    expect(entries.at(-1)?.metadata).toMatchObject({ event: 'exited', belowLevel: { lines: below, logLevel: 'INFO' }, lines: { stdout: 3 } });
    expect(entries.at(-2)).toEqual(notice);
    // What was sent keeps the script's line numbers.
    expect(entries.find((e) => e.message === 'all good')).toMatchObject({ source: 'stdout', lineNumber: 3 });
    expect(entries.filter((e) => e.source === 'stderr')).toEqual([]);
  });

  it('sends them all, and says nothing of the kind, with --log-level DEBUG', async () => {
    const script = writeScript(temp.path, 'debug-all.sh', "#!/bin/sh\necho 'DEBUG cache is warm'\necho 'all good'\n");
    const run = await runAgent(['execute', '--task-id', 'debug-all', '--script', script, '--log-level', 'DEBUG'], env);
    expect(run.status).toBe(0);
    const entries = await fetchAllLogs(server.apiUrl, 'debug-all');
    expect(entries.filter((e) => e.source === 'stdout').map((e) => e.message)).toEqual(['DEBUG cache is warm', 'all good']);
    expect(entries.some((e) => e.metadata.event === 'filtered')).toBe(false);
    expect(entries.at(-1)?.metadata.belowLevel).toBeUndefined();
  });
});
