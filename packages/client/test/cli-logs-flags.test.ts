// `keruta logs`' kubectl/stern-like flags, run as child processes against a real keruta-api:
// time windows (--since/--until), output formats (-o text|json|raw, --timestamps), --exit-status,
// gap markers where stored lines were deleted (retention) before they could be read, and the
// line a script is still writing shown in place on a terminal.
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, startServer, type TestServer } from '@keruta/testing';
import type { LogEntry, LogRequest } from '@keruta/protocol';
import { createRestClient, type RestClient } from '../src/index.js';
import { CLI_PATH, cleanEnv, runKeruta, seqsOf, startKeruta } from './cli-process.js';
import { sleep, waitUntil } from './helpers.js';

/** Sends `send()` every 200 ms until `done()`: a partial is relayed only to subscriptions already live. */
async function sendUntil(send: () => void, done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    send();
    for (let i = 0; i < 20 && !done(); i++) await sleep(10);
  }
}

let server: TestServer;
let rest: RestClient;
let env: Record<string, string>;

const MINUTE = 60_000;
const exited = (exitCode: number) => ({ source: 'agent', level: 'INFO', message: `exited with ${exitCode}`, metadata: { event: 'exited', exitCode } }) as const;
const at = (ms: number, message: string, extra: Partial<LogRequest> = {}): LogRequest => ({
  source: 'stdout',
  level: 'INFO',
  message,
  timestamp: new Date(ms).toISOString(),
  ...extra,
});
const jsonLines = (stdout: string): LogEntry[] =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogEntry);

/** A TCP relay to the server that can be cut (every connection dropped, new ones refused) and opened again. */
interface Relay {
  readonly port: number;
  cut(): void;
  open(): void;
  close(): Promise<void>;
}

async function startRelay(target: number): Promise<Relay> {
  let cut = false;
  const sockets = new Set<Socket>();
  const relay: Server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = connect(target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    open() {
      cut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        relay.close(() => resolve());
      }),
  };
}

beforeAll(async () => {
  server = await startServer();
  rest = createRestClient({ baseUrl: server.apiUrl });
  env = { KERUTA_API_URL: server.apiUrl };
});

afterAll(async () => {
  await server.close();
});

describe('keruta logs --since / --until', () => {
  const now = Date.now();
  const times = { old: now - 120 * MINUTE, middle: now - 30 * MINUTE, recent: now - 2 * MINUTE };

  beforeAll(async () => {
    await rest.postLogs('window', [at(times.old, 'old'), at(times.middle, 'middle'), at(times.recent, 'recent')]);
  });

  const messages = async (...args: string[]): Promise<string[]> => {
    const result = await runKeruta(['logs', 'window', '-o', 'json', ...args], env);
    expect(result.stderr, args.join(' ')).toBe('');
    expect(result.code, args.join(' ')).toBe(0);
    return jsonLines(result.stdout).map((entry) => entry.message);
  };

  it('takes a duration before now (10m, 1h30m, 45s) or an RFC 3339 time, with Z or an offset, bounds included', async () => {
    expect(await messages('--since', '10m')).toEqual(['recent']);
    expect(await messages('--since', '1h')).toEqual(['middle', 'recent']);
    expect(await messages('--since', '1h59m30s')).toEqual(['middle', 'recent']);
    expect(await messages('--since', '3h')).toEqual(['old', 'middle', 'recent']);
    expect(await messages('--until', '1h')).toEqual(['old']);
    expect(await messages('--since', '1h', '--until', '10m')).toEqual(['middle']);
    const middle = new Date(times.middle).toISOString();
    expect(await messages('--since', middle)).toEqual(['middle', 'recent']);
    expect(await messages('--until', middle)).toEqual(['old', 'middle']);
    // The same instant written with a +09:00 offset.
    const tokyo = new Date(times.middle + 9 * 60 * MINUTE).toISOString().replace('Z', '+09:00');
    expect(await messages('--since', tokyo, '--until', tokyo)).toEqual(['middle']);
    expect(await messages('--since', '1h', '--tail', '1')).toEqual(['recent']);
  });

  it('with -f, starts at --since and drops earlier lines, stored or live', async () => {
    await rest.postLogs('window-follow', [at(times.old, 'old'), at(times.recent, 'recent')]);
    const follower = startKeruta(['logs', 'window-follow', '-f', '-o', 'json', '--since', '10m'], env);
    await follower.waitForLines(1);
    // A late line from a clock behind, then one now, then the end.
    await rest.postLogs('window-follow', [at(times.old, 'late and old'), at(Date.now(), 'live'), exited(0)]);
    const result = await follower.exited;
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout).map((e) => e.message)).toEqual(['recent', 'live', 'exited with 0']);
  });

  it('refuses a value that is neither, naming the flag, with exit status 2; a bare number points to --after-seq', async () => {
    for (const [flag, value] of [['--since', '10'], ['--since', 'yesterday'], ['--until', '5x'], ['--since', '2026-12-04'], ['--until', '2026-12-04T18:00:00']]) {
      const result = await runKeruta(['logs', 'window', flag as string, value as string], env);
      expect(result.code, `${flag} ${value}`).toBe(2);
      expect(result.stderr, `${flag} ${value}`).toContain(`option '${flag} <time>' argument '${value}' is invalid. must be a duration before now (10m, 1h30m`);
      expect(result.stdout).toBe('');
    }
    expect((await runKeruta(['logs', 'window', '--since', '10'], env)).stderr).toContain('(a seq goes to --after-seq)');
    const reversed = await runKeruta(['logs', 'window', '--since', '10m', '--until', '1h'], env);
    expect(reversed).toMatchObject({ code: 2, stdout: '' });
    expect(reversed.stderr).toMatch(/^keruta: --since: \S+ is after --until \S+\n$/);
    const followed = await runKeruta(['logs', 'window', '-f', '--until', '10m'], env);
    expect(followed).toMatchObject({ code: 2, stdout: '' });
    expect(followed.stderr).toContain('keruta: --until: cannot be used with -f');
  });
});

describe('keruta logs -o text|json|raw and --timestamps', () => {
  beforeAll(async () => {
    await rest.postLogs('formats', [
      { source: 'stdout', level: 'INFO', message: 'plain' },
      { source: 'stderr', level: 'WARN', message: 'bold \u001b[1mword\u001b[0m' },
    ]);
  });

  it('-o json (and --json) prints one LogEntry per line, with seq, timestamp, source, level and message', async () => {
    const stored = (await rest.getLogs('formats')).content;
    for (const flags of [['-o', 'json'], ['--output', 'json'], ['--json']]) {
      const result = await runKeruta(['logs', 'formats', ...flags], env);
      expect(result.code).toBe(0);
      const printed = jsonLines(result.stdout);
      expect(printed, flags.join(' ')).toEqual(stored);
      expect(printed[1]).toMatchObject({ seq: 2, source: 'stderr', level: 'WARN', message: 'bold \u001b[1mword\u001b[0m', timestamp: stored[1]?.timestamp });
    }
  });

  it('-o raw prints each message as stored, without columns; --timestamps puts the timestamp first', async () => {
    const stored = (await rest.getLogs('formats')).content;
    expect((await runKeruta(['logs', 'formats', '-o', 'raw'], env)).stdout).toBe('plain\nbold \u001b[1mword\u001b[0m\n');
    expect((await runKeruta(['logs', 'formats', '-o', 'raw', '--timestamps'], env)).stdout).toBe(stored.map((e) => `${e.timestamp} ${e.message}\n`).join(''));
  });

  it('-o text is the default, with timestamps; --no-timestamps leaves them out', async () => {
    const stored = (await rest.getLogs('formats')).content;
    const text = await runKeruta(['logs', 'formats', '-o', 'text'], env);
    expect(text.stdout).toBe((await runKeruta(['logs', 'formats'], env)).stdout);
    expect(text.stdout).toBe(`${stored[0]?.timestamp} stdout INFO  plain\n${stored[1]?.timestamp} stderr WARN  bold word\n`);
    expect((await runKeruta(['logs', 'formats', '--no-timestamps'], env)).stdout).toBe('stdout INFO  plain\nstderr WARN  bold word\n');
  });

  it('refuses an unknown format and clashing ones with exit status 2, naming the flags', async () => {
    const unknown = await runKeruta(['logs', 'formats', '-o', 'yaml'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("option '-o, --output <format>' argument 'yaml' is invalid. Allowed choices are text, json, raw.");
    for (const args of [['--json', '-o', 'raw'], ['--json', '--raw'], ['-o', 'text', '--raw']]) {
      const clash = await runKeruta(['logs', 'formats', ...args], env);
      expect(clash, args.join(' ')).toMatchObject({ code: 2, stdout: '' });
      expect(clash.stderr, args.join(' ')).toMatch(/^keruta: -o\/--output, --json and --raw: choose one output format/);
    }
    // Same format twice is no clash.
    expect((await runKeruta(['logs', 'formats', '--json', '-o', 'json'], env)).code).toBe(0);
    const noTimes = await runKeruta(['logs', 'formats', '-o', 'json', '--no-timestamps'], env);
    expect(noTimes).toMatchObject({ code: 2, stderr: 'keruta: --no-timestamps: -o json always has the timestamp field\n' });
  });
});

describe('keruta logs --exit-status', () => {
  beforeAll(async () => {
    await rest.postLogs('status-failed', [{ source: 'stdout', level: 'INFO', message: 'x' }, exited(5)]);
    await rest.postLogs('status-succeeded', [{ source: 'stdout', level: 'INFO', message: 'x' }, exited(0)]);
    await rest.postLogs('status-running', [{ source: 'agent', level: 'INFO', message: 'started', metadata: { event: 'started' } }]);
  });

  it('without -f: 3 when the task failed, 0 when it succeeded, 4 when it has not finished; 0 whatever without the flag', async () => {
    expect((await runKeruta(['logs', 'status-failed', '--exit-status'], env)).code).toBe(3);
    expect((await runKeruta(['logs', 'status-succeeded', '--exit-status'], env)).code).toBe(0);
    const running = await runKeruta(['logs', 'status-running', '--exit-status', '-o', 'json'], env);
    expect(running.code).toBe(4);
    expect(seqsOf(running.stdout)).toEqual([1]);
    for (const task of ['status-failed', 'status-succeeded', 'status-running']) expect((await runKeruta(['logs', task], env)).code, task).toBe(0);
  });

  it('with -f it is the default; --no-exit-status exits 0 for a failed task', async () => {
    expect((await runKeruta(['logs', 'status-failed', '-f'], env)).code).toBe(3);
    expect((await runKeruta(['logs', 'status-failed', '-f', '--exit-status'], env)).code).toBe(3);
    const quiet = await runKeruta(['logs', 'status-failed', '-f', '--no-exit-status'], env);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toContain('task status-failed failed with exit code 5');
  });
});

describe('keruta logs: gaps where stored lines were deleted before they could be read', () => {
  const base = Date.now() - 10 * MINUTE;
  const second = (n: number) => base + n * 1000;

  it('without -f, marks the seqs deleted at the start of an unfiltered log (on stderr with -o json; not with a filter)', async () => {
    await rest.postLogs('trimmed', [1, 2, 3, 4].map((n) => at(second(n), `line ${n}`)));
    await rest.deleteLogs('trimmed', { before: second(3) });
    const text = await runKeruta(['logs', 'trimmed', '--no-timestamps'], env);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toBe('[gap: seq 1-2 not stored: deleted (e.g. by retention) before keruta could read them]\nstdout INFO  line 3\nstdout INFO  line 4\n');
    const json = await runKeruta(['logs', 'trimmed', '-o', 'json'], env);
    expect(seqsOf(json.stdout)).toEqual([3, 4]);
    expect(json.stderr).toBe('keruta: [gap: seq 1-2 not stored: deleted (e.g. by retention) before keruta could read them]\n');
    // A window (--tail, --after-seq past the gap) starts where it starts: no gap in it.
    expect((await runKeruta(['logs', 'trimmed', '--tail', '1'], env)).stdout).not.toContain('[gap');
    // With a level filter, missing seqs are the lines filtered out: nothing is said.
    expect((await runKeruta(['logs', 'trimmed', '--level', 'INFO'], env)).stdout).not.toContain('[gap');
  });

  for (const mode of ['unfiltered, text on stdout', 'filtered, json with the marker on stderr'] as const) {
    it(`with -f, marks the seqs deleted while it was reconnecting (${mode})`, async () => {
      const taskId = mode.startsWith('unfiltered') ? 'gap-follow' : 'gap-follow-filtered';
      await rest.postLogs(taskId, [1, 2, 3].map((n) => at(second(n), `line ${n}`)));
      const { port: serverPort } = new URL(server.baseUrl);
      const relay = await startRelay(Number(serverPort));
      try {
        const args = mode.startsWith('unfiltered') ? ['--no-timestamps'] : ['-o', 'json', '--level', 'INFO,ERROR'];
        const follower = startKeruta(['logs', taskId, '-f', ...args], { ...env, KERUTA_WEBSOCKET_URL: `ws://127.0.0.1:${relay.port}/ws/tasks` });
        await follower.waitForLines(3);
        relay.cut();
        await waitUntil(() => follower.stderr().includes('connection lost'), 'the connection-lost notice');
        // Written and, but for the last, deleted (retention) while the follower is away.
        await rest.postLogs(taskId, [4, 5, 6].map((n) => at(second(n), `line ${n}`)));
        await rest.deleteLogs(taskId, { before: second(6) });
        relay.open();
        await waitUntil(() => follower.stderr().includes('reconnected'), 'the reconnect notice', 30_000);
        await rest.postLogs(taskId, [at(second(7), 'line 7'), exited(0)]);
        const result = await follower.exited;
        expect(result.code).toBe(0);
        const marker = '[gap: seq 4-5 not stored: deleted (e.g. by retention) before keruta could read them]';
        if (mode.startsWith('unfiltered')) {
          expect(result.stdout.split('\n')).toEqual([
            ...[1, 2, 3].map((n) => `stdout INFO  line ${n}`),
            marker,
            ...[6, 7].map((n) => `stdout INFO  line ${n}`),
            'agent  INFO  exited with 0',
            '',
          ]);
        } else {
          expect(seqsOf(result.stdout)).toEqual([1, 2, 3, 6, 7, 8]);
          expect(result.stderr).toContain(`keruta: ${marker}\n`);
        }
        expect(result.stderr.split(marker).length - 1 + result.stdout.split(marker).length - 1).toBe(1);
      } finally {
        await relay.close();
      }
    });
  }
});

describe('keruta logs -f: the line a script is still writing', () => {
  const RUN = '3c1e2b7a-5555-4d6e-8f90-123456789abc';
  const stored = (runSeq: number, lineNumber: number, message: string): LogRequest => ({ source: 'stdout', level: 'INFO', message, runId: RUN, runSeq, lineNumber });
  const partial = (lineNumber: number, text: string) => ({ type: 'partial', source: 'stdout', runId: RUN, lineNumber, text, timestamp: new Date().toISOString() });
  const ERASE = '\r\u001b[2K';

  /** Runs the follower under `script`, on a terminal of its own, collecting what the terminal is sent. */
  const onTerminal = (taskId: string) => {
    // A terminal 40 columns wide: a row longer than that would wrap, and could not be rewritten in place.
    const command = `stty cols 40 rows 20; ${process.execPath} ${CLI_PATH} logs ${taskId} -f --no-timestamps --color never`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    return { output: () => output, exited, child };
  };

  it('on a terminal, shows it on the last row, rewritten in place, until the stored line takes its place', async () => {
    await using agent = await connectClient(`${server.wsUrl}/partial-tty`);
    agent.send({ type: 'logs', batchId: 'p1', entries: [stored(1, 1, 'starting')] });
    await agent.waitFor((m) => m.type === 'ack');
    const follower = onTerminal('partial-tty');
    try {
      await waitUntil(() => follower.output().includes('stdout INFO  starting'), 'the stored line');
      // The subscription (partial: true) is live once its history is delivered; send until one shows.
      await sendUntil(() => agent.send(partial(2, 'progress [##        ] 20%')), () => follower.output().includes('progress [##        ] 20%'), 'the first partial');
      agent.send(partial(2, 'progress [#####     ] 50%\rprogress [######    ] 60%'));
      await waitUntil(() => follower.output().includes('progress [######    ] 60%'), 'the second partial');
      // Cut to 39 columns, wide characters counting two.
      agent.send(partial(2, `${'進捗'.repeat(30)} 99%`));
      await waitUntil(() => follower.output().includes('進捗進捗'), 'the wide partial');
      agent.send({ type: 'logs', batchId: 'p2', entries: [stored(2, 2, 'progress [##########] 100%'), { source: 'agent', level: 'INFO', message: 'exited with 0', runId: RUN, runSeq: 3, metadata: { event: 'exited', exitCode: 0 } }] });
      expect(await follower.exited).toBe(0);
    } finally {
      follower.child.kill('SIGKILL');
    }
    const output = follower.output();
    // `script` shows the terminal's \n as \r\n.
    expect(output).toContain(`stdout INFO  starting\r\nstdout …     progress [##        ] 20%${ERASE}stdout …     progress [######    ] 60%`);
    expect(output).toContain(`${ERASE}stdout …     progress [######    ] 60%${ERASE}stdout …     ${'進捗'.repeat(6)}進${ERASE}stdout INFO  progress [##########] 100%\r\n`);
    // Rewritten in place: never a newline after a partial row.
    expect(output).not.toMatch(/…[^\r]*\r\n/);
    // The row is cleared for good at the end: the notice (stderr, on the same terminal) has a row of its own.
    expect(output.endsWith('progress [##########] 100%\r\nagent  INFO  exited with 0\r\nkeruta: task partial-tty succeeded with exit code 0\r\n')).toBe(true);
  });

  it('piped, prints only the stored lines: a partial is never asked for', async () => {
    await using agent = await connectClient(`${server.wsUrl}/partial-pipe`);
    agent.send({ type: 'logs', batchId: 'q1', entries: [stored(1, 1, 'starting')] });
    await agent.waitFor((m) => m.type === 'ack');
    const follower = startKeruta(['logs', 'partial-pipe', '-f', '--no-timestamps'], env);
    await follower.waitForLines(1);
    // A terminal follower of the same task shows these, so they do reach subscribers that ask.
    const watcher = onTerminal('partial-pipe');
    try {
      await waitUntil(() => watcher.output().includes('starting'), 'the terminal follower');
      await sendUntil(() => agent.send(partial(2, 'half a line')), () => watcher.output().includes('half a line'), 'the partial on the terminal');
      agent.send({ type: 'logs', batchId: 'q2', entries: [stored(2, 2, 'whole line'), { source: 'agent', level: 'INFO', message: 'exited with 0', runId: RUN, runSeq: 3, metadata: { event: 'exited', exitCode: 0 } }] });
      const result = await follower.exited;
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('stdout INFO  starting\nstdout INFO  whole line\nagent  INFO  exited with 0\n');
      expect(await watcher.exited).toBe(0);
    } finally {
      watcher.child.kill('SIGKILL');
    }
  });
});
