// Awkward output, end to end through a live keruta-api: binary bytes, a 10 MB line, "\r"
// progress bars and secrets. What the terminal shows stays byte for byte what the script printed.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnServer, type SpawnedServer, type TempDir } from '@keruta/testing';
import { DEFAULT_MAX_MESSAGE_LENGTH, type LogEntry } from '@keruta/protocol';
import { cleanEnv, fetchAllLogs, runAgent, writeScript } from './helpers.js';

let server: SpawnedServer;
let temp: TempDir;
let env: Record<string, string>;

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-lines-');
  server = await spawnServer();
  env = cleanEnv({ KERUTA_WEBSOCKET_URL: server.wsUrl, KERUTA_API_URL: server.apiUrl, KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool') });
});

afterAll(async () => {
  await server.stop();
  await temp.remove();
});

async function stdoutEntries(taskId: string): Promise<LogEntry[]> {
  return (await fetchAllLogs(server.apiUrl, taskId)).filter((e) => e.source === 'stdout');
}

/** The lines a reader of this output sees: UTF-8 with replacement, NUL shown as U+FFFD, "\r" overwriting. */
function visibleLines(bytes: Buffer): string[] {
  const text = new TextDecoder('utf-8').decode(bytes).replaceAll('\0', '\uFFFD');
  const pieces = text.split('\n');
  if (text.endsWith('\n')) pieces.pop();
  const lines = pieces.map((piece) => {
    const trimmed = piece.replace(/\r+$/, '');
    return trimmed.slice(trimmed.lastIndexOf('\r') + 1).slice(0, DEFAULT_MAX_MESSAGE_LENGTH);
  });
  if (!text.endsWith('\n') && lines.at(-1) === '') lines.pop();
  return lines;
}

describe('awkward output', () => {
  it('stores binary output as text with replacement characters, and prints it unchanged', async () => {
    const bytes = Buffer.concat([randomBytes(100_000), Buffer.from('\nlast\n')]);
    const data = join(temp.path, 'binary.bin');
    writeFileSync(data, bytes);
    const script = writeScript(temp.path, 'binary.sh', `#!/bin/sh\ncat '${data}'\n`);
    const run = await runAgent(['execute', '--task-id', 'binary', '--script', script, '--log-level', 'DEBUG'], env);
    expect(run.status).toBe(0);
    expect(Buffer.compare(run.stdout, bytes)).toBe(0);
    const stored = await stdoutEntries('binary');
    const expected = visibleLines(bytes);
    expect(stored.map((e) => e.message)).toEqual(expected);
    expect(stored.map((e) => e.lineNumber)).toEqual(expected.map((_, i) => i + 1));
    expect(stored.at(-1)?.message).toBe('last');
  });

  it('cuts a 10 MB line, marks it truncated, and keeps going', async () => {
    const script = writeScript(temp.path, 'huge.sh', "#!/bin/sh\nhead -c 10485760 /dev/zero | tr '\\0' 'a'\necho\necho after\n");
    const run = await runAgent(['execute', '--task-id', 'huge-line', '--script', script], env);
    expect(run.status).toBe(0);
    expect(run.stdout.length).toBe(10 * 1024 * 1024 + 1 + 'after\n'.length);
    const stored = await stdoutEntries('huge-line');
    expect(stored).toHaveLength(2);
    expect(stored[0]?.message).toBe('a'.repeat(DEFAULT_MAX_MESSAGE_LENGTH));
    expect(stored[0]?.metadata.truncated).toBe(true);
    expect(stored[1]).toMatchObject({ message: 'after', lineNumber: 2 });
    expect(stored[1]?.metadata.truncated).toBeUndefined();
  });

  it('records the length a cut line had: a 1,048,576-character line is stored at the maximum with metadata.truncated and originalLength 1048576', async () => {
    const script = writeScript(temp.path, 'mebi.sh', "#!/bin/sh\nhead -c 1048576 /dev/zero | tr '\\0' 'm'\necho\nhead -c 9000 /dev/zero | tr '\\0' 'n'\n");
    const run = await runAgent(['execute', '--task-id', 'mebi-line', '--script', script], env);
    expect(run.status).toBe(0);
    const stored = await stdoutEntries('mebi-line');
    expect(stored).toHaveLength(2);
    expect(stored[0]?.message).toBe('m'.repeat(DEFAULT_MAX_MESSAGE_LENGTH));
    expect(stored[0]?.metadata).toMatchObject({ truncated: true, originalLength: 1048576 });
    // A last line without a newline, cut when the pipe closes.
    expect(stored[1]?.metadata).toMatchObject({ truncated: true, originalLength: 9000 });
  });

  it('stores the final state of a "\\r" progress bar, and prints every update', async () => {
    const script = writeScript(
      temp.path,
      'progress.sh',
      "#!/bin/bash\nfor i in $(seq 2 2 100); do printf '\\rDownloading %3d%%' \"$i\"; sleep 0.005; done\nprintf '\\n'\necho 'Download complete'\n",
    );
    const run = await runAgent(['execute', '--task-id', 'progress', '--script', script], env);
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toContain('\rDownloading   2%\rDownloading   4%');
    expect((await stdoutEntries('progress')).map((e) => e.message)).toEqual(['Downloading 100%', 'Download complete']);
  });

  it('masks filters.excludePatterns before a line leaves the machine, not on the terminal', async () => {
    const config = join(temp.path, 'filters.yaml');
    writeFileSync(config, 'filters:\n  excludePatterns:\n    - "password=\\\\S+"\n    - "ghp_[A-Za-z0-9]{36}"\n');
    const token = `ghp_${'A1b2'.repeat(9)}`;
    const script = writeScript(temp.path, 'secret.sh', `#!/bin/sh\necho "login password=hunter2 ok"\necho "token ${token} used"\n`);
    const run = await runAgent(['execute', '--task-id', 'secrets', '--script', script, '--config', config], env);
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toBe(`login password=hunter2 ok\ntoken ${token} used\n`);
    expect((await stdoutEntries('secrets')).map((e) => e.message)).toEqual(['login [REDACTED] ok', 'token [REDACTED] used']);
  });

  it('keeps stdout and stderr line numbers apart and the levels each line shows', async () => {
    const script = writeScript(
      temp.path,
      'mixed.sh',
      '#!/bin/sh\necho one\nsleep 0.05\necho "WARNING: two" >&2\nsleep 0.05\necho \'{"level":50,"msg":"three"}\'\nsleep 0.05\necho "[ERROR] four" >&2\n',
    );
    await runAgent(['execute', '--task-id', 'mixed', '--script', script], env);
    const lines = (await fetchAllLogs(server.apiUrl, 'mixed')).filter((e) => e.source !== 'agent');
    expect(lines.map(({ source, level, lineNumber, message }) => ({ source, level, lineNumber, message }))).toEqual([
      { source: 'stdout', level: 'INFO', lineNumber: 1, message: 'one' },
      { source: 'stderr', level: 'WARN', lineNumber: 1, message: 'WARNING: two' },
      { source: 'stdout', level: 'ERROR', lineNumber: 2, message: '{"level":50,"msg":"three"}' },
      { source: 'stderr', level: 'ERROR', lineNumber: 2, message: '[ERROR] four' },
    ]);
  });
});
