// With filters.excludePatterns set, a secret never reaches the disk: the reading thread masks
// whole lines before it journals them, and holds a line in progress in memory only. Every file
// the agent writes is its user's alone (0600 in 0700 directories). Checked on the files
// themselves, while the script runs, after a kill -9 and after the next agent replayed the run.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnServer, type SpawnedServer, type TempDir } from '@keruta/testing';
import { cleanEnv, fetchAllLogs, runAgent, startAgent, writeScript } from './helpers.js';
import { waitUntil } from '@keruta/testing/base';

let server: SpawnedServer;
let temp: TempDir;

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-secrets-');
  server = await spawnServer();
});

afterAll(async () => {
  await server.stop();
  await temp.remove();
});

/** Every file and directory under `dir`, with its mode and, for files, its bytes. */
function walk(dir: string): { path: string; mode: number; bytes?: Buffer }[] {
  const found: { path: string; mode: number; bytes?: Buffer }[] = [{ path: dir, mode: statSync(dir).mode & 0o777 }];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stats = statSync(path, { throwIfNoEntry: false });
    // A segment deleted between the listing and the stat: nothing left to check in it.
    if (stats === undefined) continue;
    if (stats.isDirectory()) found.push(...walk(path));
    else found.push({ path, mode: stats.mode & 0o777, bytes: readFileSync(path) });
  }
  return found;
}

/** Files under `dir` holding the secret or part of the line it was split across; modes other than 0600/0700. */
function check(dir: string): { leaks: string[]; modes: string[]; files: number } {
  const all = walk(dir);
  const leaks = all.filter((f) => f.bytes !== undefined && ['hunter2', 'DB_PASSWORD=hun', 'ter2 split'].some((s) => f.bytes?.includes(s))).map((f) => f.path);
  const modes = all.filter((f) => f.mode !== (f.bytes === undefined ? 0o700 : 0o600)).map((f) => `${f.path} ${f.mode.toString(8)}`);
  return { leaks, modes, files: all.filter((f) => f.bytes !== undefined).length };
}

describe('secrets and the disk', () => {
  it('writes no byte of a masked secret to the spool or the intake, during the run, after a kill -9 and after the replay; files 0600, directories 0700', async () => {
    const spool = join(temp.path, 'spool');
    const config = join(temp.path, 'config.yaml');
    writeFileSync(config, 'filters:\n  excludePatterns:\n    - "DB_PASSWORD=\\\\S+"\n');
    const script = writeScript(
      temp.path,
      'secret.sh',
      [
        '#!/bin/bash',
        'echo "DB_PASSWORD=hunter2 first"',
        // Half a line now, the rest later: the half must wait in memory, not on disk.
        "printf 'DB_PASSWORD=hun'; sleep 0.5; printf 'ter2 split\\n'",
        'for i in $(seq 1 20); do echo "line $i DB_PASSWORD=hunter2"; echo "err $i DB_PASSWORD=hunter2" >&2; sleep 0.02; done',
        "printf 'DB_PASSWORD=hunter2 unfinished'",
        'sleep 30',
      ].join('\n'),
    );
    const env = cleanEnv({ KERUTA_WEBSOCKET_URL: server.wsUrl, KERUTA_API_URL: server.apiUrl, KERUTA_LOG_SPOOL_DIR: spool });
    const agent = startAgent(['execute', '--task-id', 'secret', '--script', script, '--config', config], env);
    let during: ReturnType<typeof check> | undefined;
    try {
      // Mid-line: the first line is stored, the split one is half printed.
      await waitUntil(async () => (await fetchAllLogs(server.apiUrl, 'secret')).some((e) => e.message === '[REDACTED] first'), 'the first line', 20_000);
      during = check(spool);
      await waitUntil(async () => (await fetchAllLogs(server.apiUrl, 'secret')).some((e) => e.message === 'line 20 [REDACTED]'), 'the last line', 20_000);
    } finally {
      agent.child.kill('SIGKILL');
    }
    await agent.done;
    const afterKill = check(spool);
    // The script outlives its killed agent (its own process group, sleeping): end it.
    const started = (await fetchAllLogs(server.apiUrl, 'secret')).find((e) => e.metadata.event === 'started');
    try {
      process.kill(-Number(started?.metadata.processId), 'SIGKILL');
    } catch {
      // Already gone.
    }
    expect(during.files).toBeGreaterThan(3);
    expect(during).toMatchObject({ leaks: [], modes: [] });
    expect(afterKill).toMatchObject({ leaks: [], modes: [] });

    // The next agent replays the intake and sends what was left: still nothing on disk, nothing unmasked stored.
    const flush = await runAgent(['flush', '--config', config], env);
    expect(flush.status).toBe(0);
    expect(check(spool)).toMatchObject({ leaks: [], modes: [] });
    const messages = (await fetchAllLogs(server.apiUrl, 'secret')).map((e) => e.message);
    expect(messages.filter((m) => m.includes('hunter2') || m.includes('hun'))).toEqual([]);
    expect(messages).toContain('[REDACTED] split');
    expect(messages).toContain('err 20 [REDACTED]');
  });

  it('stores awkward output with patterns set as without them: a 10 MB line cut, a "\\r" progress bar, binary bytes, a line split across reads', async () => {
    const config = join(temp.path, 'mask-other.yaml');
    writeFileSync(config, 'filters:\n  excludePatterns:\n    - "never-printed-[0-9]+"\n');
    const script = writeScript(
      temp.path,
      'awkward.sh',
      [
        '#!/bin/bash',
        "head -c 10485760 /dev/zero | tr '\\0' 'a'; echo",
        "for i in 10 50 100; do printf '\\rDownloading %3d%%' $i; sleep 0.05; done; printf '\\n'",
        "printf 'caf\\xc3'; sleep 0.2; printf '\\xa9 \\xff\\x00 end\\r\\n'",
        "printf 'no newline at the end'",
      ].join('\n'),
    );
    const env = cleanEnv({ KERUTA_WEBSOCKET_URL: server.wsUrl, KERUTA_API_URL: server.apiUrl, KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool-awkward') });
    const plain = await runAgent(['execute', '--task-id', 'awkward-plain', '--script', script], env);
    const masked = await runAgent(['execute', '--task-id', 'awkward-masked', '--script', script, '--config', config], env);
    expect(masked.status).toBe(0);
    expect(Buffer.compare(masked.stdout, plain.stdout)).toBe(0);
    const lines = async (taskId: string) =>
      (await fetchAllLogs(server.apiUrl, taskId)).filter((e) => e.source === 'stdout').map(({ message, lineNumber, metadata }) => ({ message, lineNumber, truncated: metadata.truncated }));
    const stored = await lines('awkward-masked');
    expect(stored).toEqual(await lines('awkward-plain'));
    expect(stored.map((l) => l.message.slice(0, 30))).toEqual(['a'.repeat(30), 'Downloading 100%', 'café \uFFFD\uFFFD end', 'no newline at the end']);
    expect(stored[0]?.truncated).toBe(true);
  });
});
