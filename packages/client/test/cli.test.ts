// `keruta logs` and `keruta tasks`, run as child processes against real servers: output formats,
// filters, windows, following live lines through server restarts, and exit statuses.
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnServer, startServer, type TestServer } from '@keruta/testing';
import { startWriter } from '@keruta/testing/base';
import type { LogEntry, TaskSummary } from '@keruta/protocol';
import { createRestClient, type RestClient } from '../src/index.js';
import { CLI_PATH, cleanEnv, runKeruta, seqsOf, startKeruta } from './cli-process.js';
import { lines, range, sleep, waitUntil } from './helpers.js';

let server: TestServer;
let rest: RestClient;
let env: Record<string, string>;

const STARTED = { source: 'agent', level: 'INFO', message: 'started', metadata: { event: 'started' } } as const;
const exited = (exitCode: number) => ({ source: 'agent', level: exitCode === 0 ? 'INFO' : 'ERROR', message: `exited with ${exitCode}`, metadata: { event: 'exited', exitCode } }) as const;

beforeAll(async () => {
  server = await startServer();
  rest = createRestClient({ baseUrl: server.apiUrl });
  env = { KERUTA_API_URL: server.apiUrl };
  await rest.postLogs('cli-task', [
    { source: 'stdout', level: 'INFO', message: 'compiling' },
    { source: 'stderr', level: 'WARN', message: 'deprecated option' },
    { source: 'stdout', level: 'ERROR', message: 'test failed' },
    { source: 'agent', level: 'DEBUG', message: 'spool empty' },
    { source: 'stdout', level: 'INFO', message: 'done' },
  ]);
});

afterAll(async () => {
  await server.close();
});

describe('keruta logs', () => {
  it('prints the stored log as TIMESTAMP SOURCE LEVEL message, without colour when piped, and exits 0', async () => {
    const result = await runKeruta(['logs', 'cli-task'], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const stored = (await rest.getLogs('cli-task')).content;
    expect(result.stdout).toBe(stored.map((e) => `${e.timestamp} ${e.source.padEnd(6)} ${e.level.padEnd(5)} ${e.message}\n`).join(''));
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('colours by level on a terminal, and not when NO_COLOR is set', async () => {
    const run = promisify(execFile);
    const command = `${process.execPath} ${CLI_PATH} logs cli-task --level ERROR`;
    const tty = await run('script', ['-qec', command, '/dev/null'], { env: cleanEnv(env) });
    expect(tty.stdout).toContain('\u001b[31mERROR\u001b[0m \u001b[31mtest failed\u001b[0m');
    const plain = await run('script', ['-qec', command, '/dev/null'], { env: cleanEnv({ ...env, NO_COLOR: '1' }) });
    expect(plain.stdout).toMatch(/stdout ERROR test failed/);
    expect(plain.stdout).not.toContain('\u001b[');
  });

  describe('a log line never acts on the viewer\'s terminal', () => {
    // Colours, an OSC 0 / OSC 2 title, OSC 52 (set the clipboard), a DCS string, clear screen,
    // cursor home, erase line, the alternate screen, a full reset, the line-drawing character set,
    // 8-bit CSI and OSC, then CR, BEL, BS and a tab, and a lone ESC at the end.
    const HOSTILE =
      'ok \u001b[32mgreen\u001b[0m \u001b]0;pwned\u0007 \u001b]2;title\u001b\\ \u001b]52;c;Y2xpcA==\u0007 \u001bP+q544e\u001b\\ ' +
      '\u001b[2J\u001b[H\u001b[Kclear \u001b[?1049h\u001bc\u001b(0q\u001b(B \u009b31m\u009d0;x\u0007 \rgone\u0007\b tab\tend\u001b';
    const ESCAPES_REMOVED = 'ok green     clear q  ';
    const tty = promisify(execFile);
    const onTerminal = async (args: string, extraEnv: Record<string, string> = {}) =>
      (await tty('script', ['-qec', `${process.execPath} ${CLI_PATH} logs cli-hostile ${args}`, '/dev/null'], { env: cleanEnv({ ...env, ...extraEnv }) })).stdout;

    beforeAll(async () => {
      await rest.postLogs('cli-hostile', [{ source: 'stdout', level: 'INFO', message: HOSTILE }]);
    });

    it('on a terminal drops ESC[K, ESC[2J, every other cursor, erase and screen escape and OSC/DCS strings; keeps the colours; shows other controls cat -v style', async () => {
      const shown = await onTerminal('');
      expect(shown).toContain(' ok \u001b[32mgreen\u001b[0m     clear q  ^Mgone^G^H tab\tend\u001b[0m');
      expect(shown).not.toContain('^[');
      for (const escape of ['\u001b]', '\u001bP', '\u001b[2J', '\u001b[H', '\u001b[K', '\u001b[?1049h', '\u001bc', '\u001b(', '\u009b', '\u009d']) {
        expect(shown, JSON.stringify(escape)).not.toContain(escape);
      }      // A sequence cut short ends where it stops; a string never closed ends with its message.
      await rest.postLogs('cli-unclosed', [
        { source: 'stdout', level: 'INFO', message: 'half \u001b[12\u0007 csi' },
        { source: 'stdout', level: 'INFO', message: 'left \u001b]2;a title with no end' },
        { source: 'stdout', level: 'INFO', message: 'next' },
      ]);
      const unclosed = (await tty('script', ['-qec', `${process.execPath} ${CLI_PATH} logs cli-unclosed --color never`, '/dev/null'], { env: cleanEnv(env) })).stdout;
      expect(unclosed.split('\r\n').map((line) => line.slice(38))).toEqual(['half ^G csi', 'left ', 'next', '']);
    });

    it('on a terminal with NO_COLOR (set and non-empty) or --color never strips the colours instead of showing them', async () => {
      for (const [args, extraEnv] of [['', { NO_COLOR: '1' }], ['--color never', {}]] as const) {
        const shown = await onTerminal(args, extraEnv);
        expect(shown, args).toContain(`stdout INFO  ${ESCAPES_REMOVED}^Mgone^G^H tab\tend\r\n`);
        expect(shown, args).not.toContain('\u001b');
      }
      // An empty NO_COLOR is not set (no-color.org); --color always wins over NO_COLOR.
      expect(await onTerminal('', { NO_COLOR: '' })).toContain('\u001b[32mgreen');
      expect(await onTerminal('--color always', { NO_COLOR: '1' })).toContain('\u001b[32mgreen');
    });

    it('piped, prints the message bytes with every escape sequence and colour removed; --color always keeps the colours; -o raw (--raw) prints the exact bytes', async () => {
      const piped = await runKeruta(['logs', 'cli-hostile'], env);
      expect(piped.code).toBe(0);
      expect(piped.stdout.endsWith(` stdout INFO  ${ESCAPES_REMOVED}\rgone\u0007\b tab\tend\n`)).toBe(true);
      const colored = await runKeruta(['logs', 'cli-hostile', '--color', 'always'], env);
      expect(colored.stdout).toContain('ok \u001b[32mgreen\u001b[0m     clear q  \rgone\u0007\b tab\tend\u001b[0m\n');
      // Every ESC left is a colour's.
      expect(colored.stdout.split('\u001b').slice(1).every((after) => /^\[[0-9;]*m/.test(after))).toBe(true);
      for (const flags of [['-o', 'raw'], ['--raw']]) {
        const raw = await runKeruta(['logs', 'cli-hostile', ...flags], env);
        expect(raw.stdout, flags.join(' ')).toBe(`${HOSTILE}\n`);
      }
      expect((await runKeruta(['logs', 'cli-hostile', '--color', 'sometimes'], env)).code).toBe(2);
    });
  });

  it("starts a cut line's message with [cut: N chars] (N = metadata.originalLength), piped and on a terminal; --json keeps the entry as stored", async () => {
    const kept = 'k'.repeat(8192);
    await rest.postLogs('cli-cut', [
      { source: 'stdout', level: 'INFO', message: kept, metadata: { truncated: true, originalLength: 1048576 } },
      { source: 'stdout', level: 'INFO', message: `${kept}more` },
      { source: 'stdout', level: 'INFO', message: 'whole' },
    ]);
    const piped = await runKeruta(['logs', 'cli-cut'], env);
    expect(piped.stdout.split('\n').map((line) => line.slice(25))).toEqual([
      `stdout INFO  [cut: 1,048,576 chars] ${kept}`,
      // Cut by keruta-api itself, which records the length it had too.
      `stdout INFO  [cut: 8,196 chars] ${kept}`,
      'stdout INFO  whole',
      '',
    ]);
    const run = promisify(execFile);
    const tty = await run('script', ['-qec', `${process.execPath} ${CLI_PATH} logs cli-cut --tail 3`, '/dev/null'], { env: cleanEnv(env), maxBuffer: 1 << 20 });
    expect(tty.stdout).toContain(`\u001b[32mINFO \u001b[0m \u001b[7m[cut: 1,048,576 chars]\u001b[0m ${kept}\r\n`);
    const json = (await runKeruta(['logs', 'cli-cut', '--json', '--tail', '3'], env)).stdout.trim().split('\n').map((line) => JSON.parse(line) as LogEntry);
    expect(json.map((e) => e.message)).toEqual([kept, kept, 'whole']);
  });

  it('--json prints one LogEntry JSON object per line', async () => {
    const result = await runKeruta(['logs', 'cli-task', '--json'], env);
    expect(result.code).toBe(0);
    const printed = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as LogEntry);
    expect(printed).toEqual((await rest.getLogs('cli-task')).content);
  });

  it('narrows with --source, --level (lists, repeats, LEVEL+), --tail and --after-seq', async () => {
    const seqs = async (...args: string[]) => {
      const result = await runKeruta(['logs', 'cli-task', '--json', ...args], env);
      expect(result.stderr).toBe('');
      return seqsOf(result.stdout);
    };
    expect(await seqs('--source', 'stdout')).toEqual([1, 3, 5]);
    expect(await seqs('--source', 'stderr,agent')).toEqual([2, 4]);
    expect(await seqs('--level', 'WARN+')).toEqual([2, 3]);
    expect(await seqs('--level', 'debug', '--level', 'ERROR')).toEqual([3, 4]);
    expect(await seqs('--tail', '2')).toEqual([4, 5]);
    expect(await seqs('--tail', '2', '--source', 'stdout')).toEqual([3, 5]);
    expect(await seqs('--tail', '0')).toEqual([]);
    expect(await seqs('--after-seq', '3')).toEqual([4, 5]);
    expect(await seqs('--after-seq', '3', '--tail', '4')).toEqual([4, 5]);
  });

  it('pages through a long log with the afterSeq cursor', async () => {
    await rest.postLogs('cli-long', lines(2500));
    const result = await runKeruta(['logs', 'cli-long', '--json'], env);
    expect(seqsOf(result.stdout)).toEqual(range(1, 2500));
    expect(seqsOf((await runKeruta(['logs', 'cli-long', '--json', '--tail', '1200'], env)).stdout)).toEqual(range(1301, 2500));
  });

  it('fails with TASK_NOT_FOUND and exit status 1 for an unknown task', async () => {
    const result = await runKeruta(['logs', 'no-such-task'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^keruta: TASK_NOT_FOUND: task no-such-task has no logs/);
  });

  it('fails with NETWORK_ERROR and exit status 1 when the server cannot be reached', async () => {
    const result = await runKeruta(['logs', 'cli-task'], { KERUTA_API_URL: `http://127.0.0.1:${await freePort()}/api/v1` });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/NETWORK_ERROR: .*ECONNREFUSED.*KERUTA_API_URL/);
  });

  it('exits with status 2 and the usage for bad flags, arguments and settings', async () => {
    for (const args of [['logs', 'cli-task', '--bogus'], ['logs', 'cli-task', '--level', 'LOUD'], ['logs', 'cli-task', '--tail', '-3'], ['logs', 'bad id'], ['logs'], []]) {
      const result = await runKeruta(args, env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/Usage: keruta/);
    }
    const badUrl = await runKeruta(['logs', 'cli-task'], { KERUTA_API_URL: 'keruta-api:8080' });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/KERUTA_API_URL: must start with http:\/\/ or https:\/\//);
    const help = await runKeruta(['logs', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--follow/);
  });

  it('--server overrides KERUTA_API_URL', async () => {
    const result = await runKeruta(['logs', 'cli-task', '--server', server.baseUrl, '--tail', '1'], { KERUTA_API_URL: 'http://127.0.0.1:1/api/v1' });
    expect(result.code).toBe(0);
    expect(result.stdout.endsWith(' stdout INFO  done\n')).toBe(true);
  });
});

describe('keruta logs -f', () => {
  it('prints history then live lines with no gap or duplicate, and exits 0 once the task has finished and every line is printed', async () => {
    await rest.postLogs('follow-me', [STARTED, ...lines(300)]);
    const follower = startKeruta(['logs', 'follow-me', '-f', '--json'], { ...env, KERUTA_WEBSOCKET_URL: server.wsUrl });
    await follower.waitForLines(301);
    const writer = startWriter({ apiUrl: server.apiUrl, taskId: 'follow-me', batchSize: 20, pauseMs: 2 });
    await waitUntil(() => writer.written >= 1000, '1000 live lines');
    await writer.stop();
    await rest.postLogs('follow-me', exited(0));
    const result = await follower.exited;
    const task = await rest.getTask('follow-me');
    expect(result.code).toBe(0);
    expect(seqsOf(result.stdout)).toEqual(range(1, task.lastSeq));
    expect(result.stderr).toMatch(/task follow-me succeeded with exit code 0/);
  });

  it('with --tail and --level, prints the last matching lines and then matching live ones', async () => {
    await rest.postLogs('follow-filtered', [STARTED, ...lines(50, (i) => ({ level: i % 2 === 0 ? 'WARN' : 'INFO' }))]);
    const follower = startKeruta(['logs', 'follow-filtered', '-f', '--json', '--tail', '3', '--level', 'WARN+'], env);
    await follower.waitForLines(3);
    await rest.postLogs('follow-filtered', [
      { source: 'stdout', level: 'INFO', message: 'quiet' },
      { source: 'stdout', level: 'ERROR', message: 'loud' },
      exited(1),
    ]);
    const result = await follower.exited;
    expect(result.code).toBe(3);
    // WARN lines are the odd seqs up to 51; then 'loud' (53) and the agent's ERROR exit line (54).
    expect(seqsOf(result.stdout)).toEqual([47, 49, 51, 53, 54]);
    expect(result.stderr).toMatch(/failed with exit code 1/);
  });

  it('exits 3 once the followed task has failed (its exit code in the last notice), 0 once it has succeeded', async () => {
    await rest.postLogs('follow-fails', [STARTED, ...lines(3)]);
    await rest.postLogs('follow-succeeds', [STARTED, ...lines(3)]);
    const failing = startKeruta(['logs', 'follow-fails', '-f'], env);
    const succeeding = startKeruta(['logs', 'follow-succeeds', '-f'], env);
    await failing.waitForLines(4);
    await succeeding.waitForLines(4);
    await rest.postLogs('follow-fails', exited(7));
    await rest.postLogs('follow-succeeds', exited(0));
    const failed = await failing.exited;
    expect(failed.code).toBe(3);
    expect(failed.stderr.trimEnd().split('\n').at(-1)).toBe('keruta: task follow-fails failed with exit code 7');
    expect((await succeeding.exited).code).toBe(0);
    // Already over when the command starts: the same statuses, at once.
    expect((await runKeruta(['logs', 'follow-fails', '-f'], env)).code).toBe(3);
    expect((await runKeruta(['logs', 'follow-succeeds', '-f'], env)).code).toBe(0);
    // Without -f the command reads the log; how the task ended is not its outcome.
    expect((await runKeruta(['logs', 'follow-fails'], env)).code).toBe(0);
  });

  it('prints the whole log and exits 0 at once for a task that has already finished', async () => {
    await rest.postLogs('already-done', [STARTED, ...lines(5), exited(0)]);
    const result = await runKeruta(['logs', 'already-done', '-f', '--json'], env);
    expect(result.code).toBe(0);
    expect(seqsOf(result.stdout)).toEqual(range(1, 7));
  });

  it('waits for a task that has not started, prints its lines, and stops on SIGINT with status 130', async () => {
    const follower = startKeruta(['logs', 'not-yet', '-f'], env);
    await waitUntil(() => follower.stderr().includes('waiting for it to start'), 'the waiting notice');
    await sleep(200);
    await rest.postLogs('not-yet', { source: 'stdout', level: 'INFO', message: 'finally' });
    await follower.waitForLines(1);
    follower.child.kill('SIGINT');
    const result = await follower.exited;
    expect(result.code).toBe(130);
    expect(result.stdout.endsWith(' stdout INFO  finally\n')).toBe(true);
  });

  it('keeps following across server restarts (kill -9 and graceful) without losing or repeating a line', async () => {
    await using spawned = await spawnServer();
    const spawnedRest = createRestClient({ baseUrl: spawned.apiUrl });
    await spawnedRest.postLogs('restarts', [STARTED]);
    const writer = startWriter({ apiUrl: spawned.apiUrl, taskId: 'restarts', batchSize: 10, pauseMs: 5 });
    const follower = startKeruta(['logs', 'restarts', '-f', '--json', '--server', spawned.baseUrl]);
    try {
      await follower.waitForLines(200);
      await spawned.kill('SIGKILL');
      await sleep(300);
      await spawned.restart();
      await waitUntil(() => follower.stderr().includes('reconnected'), 'the reconnect notice');
      const before = writer.written;
      await waitUntil(() => writer.written >= before + 200, 'lines after the first restart');
      await spawned.kill('SIGTERM');
      await spawned.restart();
      const again = writer.written;
      await waitUntil(() => writer.written >= again + 200, 'lines after the second restart');
      await writer.stop();
      await spawnedRest.postLogs('restarts', exited(0));
      const result = await follower.exited;
      const task = await spawnedRest.getTask('restarts');
      expect(result.code).toBe(0);
      expect(seqsOf(result.stdout)).toEqual(range(1, task.lastSeq));
      expect(result.stderr).toMatch(/connection lost/);
    } finally {
      follower.child.kill('SIGKILL');
      await writer.stop();
    }
  });
});

describe('keruta credentials', () => {
  it('sends KERUTA_AUTH_TOKEN and KERUTA_API_KEY as headers on REST and on the WebSocket', async () => {
    const seen: { kind: string; authorization: string | undefined; apiKey: string | undefined; url: string | undefined }[] = [];
    const remember = (kind: string, request: IncomingMessage) =>
      seen.push({ kind, url: request.url, authorization: request.headers.authorization, apiKey: request.headers['x-api-key'] as string | undefined });
    const recorder = createServer((request, response) => {
      remember('rest', request);
      const task: TaskSummary = { taskId: 'secret-task', status: 'running', totalLogs: 0, lastSeq: 0, updatedAt: new Date().toISOString() };
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(task));
    });
    recorder.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
      remember('websocket', request);
      socket.destroy();
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = recorder.address() as AddressInfo;
      const follower = startKeruta(['logs', 'secret-task', '-f', '--server', `http://127.0.0.1:${port}`], { KERUTA_AUTH_TOKEN: 'jwt-1', KERUTA_API_KEY: 'key-2' });
      await waitUntil(() => seen.some((s) => s.kind === 'websocket'), 'the WebSocket upgrade');
      follower.child.kill('SIGINT');
      expect((await follower.exited).code).toBe(130);
      expect(seen[0]).toEqual({ kind: 'rest', url: '/api/v1/tasks/secret-task', authorization: 'Bearer jwt-1', apiKey: 'key-2' });
      expect(seen.find((s) => s.kind === 'websocket')).toEqual({ kind: 'websocket', url: '/ws/tasks/secret-task', authorization: 'Bearer jwt-1', apiKey: 'key-2' });
    } finally {
      recorder.close();
    }
  });
});

describe('keruta tasks', () => {
  it('prints a table of every task, newest activity first: id, status, exit code, lines, last activity', async () => {
    await rest.postLogs('tasks-ok', [STARTED, exited(0)]);
    await rest.postLogs('tasks-failed', [STARTED, { source: 'stdout', level: 'INFO', message: 'x' }, exited(3)]);
    const known = (await rest.listTasks({ size: 1000 })).content;
    const result = await runKeruta(['tasks'], env);
    expect(result.code).toBe(0);
    const rows = result.stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/));
    expect(rows[0]).toEqual(['TASK ID', 'STATUS', 'EXIT', 'LINES', 'LAST ACTIVITY']);
    expect(rows.slice(1)).toEqual(known.map((t) => [t.taskId, t.status, t.exitCode === undefined ? '-' : String(t.exitCode), String(t.totalLogs), t.updatedAt]));
    expect(rows[1]).toEqual(['tasks-failed', 'failed', '3', '3', expect.any(String)]);
    expect(rows[2]?.slice(0, 4)).toEqual(['tasks-ok', 'succeeded', '0', '2']);
  });

  it('--json prints one TaskSummary per line; an empty server says so on stderr', async () => {
    const result = await runKeruta(['tasks', '--json'], env);
    const printed = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as TaskSummary);
    expect(printed).toEqual((await rest.listTasks({ size: 1000 })).content);
    await using empty = await startServer();
    const none = await runKeruta(['tasks', '--server', empty.baseUrl]);
    expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'keruta: no tasks yet\n' });
  });
});
