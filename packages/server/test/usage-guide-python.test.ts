// The usage guide's Python client (KerutaLogClient and KerutaWebSocketClient), extracted verbatim
// from the guide and run by /usr/bin/python3 with Debian's requests and websocket-client, against
// a real server. Only `keruta-api:8080` is replaced, and only where the guide wrote it.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, startServer, type TempDir, type TestServer } from '@keruta/testing';
import type { LogEntry, LogPage } from '@keruta/protocol';
import { GUIDE_HOST, guidePythonSample, readGuide, withHost } from './usage-guide-samples.js';
import { OTHER_TASK_ENTRIES, TASK, TASK_ENTRIES, isBeforeGuideDate, seedGuideTasks, statsOf } from './usage-guide-seed.js';

const PYTHON = '/usr/bin/python3';
const DRIVER = fileURLToPath(new URL('./usage-guide-python-driver.py', import.meta.url));
/** Unbuffered, so that the guide's print() lines arrive while the process runs; no proxy for 127.0.0.1. */
const PYTHON_ENV = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/_proxy$/i.test(name))),
  PYTHONUNBUFFERED: '1',
};
/** No heartbeat ping during a test: every frame a client gets is one the test caused. */
const QUIET_SERVER = { config: { heartbeatIntervalMs: 3_600_000 } };

function page(content: LogEntry[], totalElements: number, size: number, number = 0): LogPage {
  return { content, totalElements, totalPages: Math.ceil(totalElements / size), size, number };
}

/** Writes the guide's classes, as they stand, to DIR/keruta_guide_client.py for the driver to import. */
async function writeGuideClient(dir: string): Promise<void> {
  const { classes } = guidePythonSample(readGuide());
  expect(classes).not.toContain(GUIDE_HOST);
  await writeFile(join(dir, 'keruta_guide_client.py'), classes);
}

async function seededServer(): Promise<TestServer> {
  const server = await startServer(QUIET_SERVER);
  try {
    await seedGuideTasks(server.apiUrl);
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

/** A python3 process whose stdout is read line by line as it comes. */
interface PythonProcess extends AsyncDisposable {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  readonly stderr: () => string;
  /** Resolves with the `index`-th line (from 0) that satisfies `predicate`. */
  waitForLine(predicate: (line: string) => boolean, what: string, index?: number): Promise<string>;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

function startPython(args: string[], cwd: string): PythonProcess {
  const child = spawn(PYTHON, args, { cwd, env: PYTHON_ENV });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const wakers = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of wakers) wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      if (partial !== '') lines.push(partial);
      for (const wake of wakers) wake();
      resolve(code);
    });
  });
  const waitForLine = (predicate: (line: string) => boolean, what: string, index = 0): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.filter(predicate)[index];
        if (found !== undefined) finish(() => resolve(found));
        else if (child.exitCode !== null || child.signalCode !== null) {
          finish(() => reject(new Error(`python exited before printing ${what}:\n${lines.join('\n')}\n${stderr}`)));
        }
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${what}:\n${lines.join('\n')}\n${stderr}`))), 10_000);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        wakers.delete(check);
        settle();
      };
      wakers.add(check);
      check();
    });
  return {
    child,
    lines,
    stderr: () => stderr,
    waitForLine,
    exited,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function postLines(apiUrl: string, taskId: string, entries: object[]): Promise<void> {
  const response = await fetch(`${apiUrl}/tasks/${taskId}/logs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ entries }),
  });
  expect(response.status).toBe(201);
}

async function entriesAfter(apiUrl: string, taskId: string, afterSeq: number): Promise<LogEntry[]> {
  const response = await fetch(`${apiUrl}/tasks/${taskId}/logs?afterSeq=${afterSeq}`);
  return ((await response.json()) as LogPage).content;
}

describe("the usage guide's Python KerutaLogClient (REST), run by /usr/bin/python3", () => {
  interface DriverOutput {
    default: unknown;
    stdout: unknown;
    error: unknown;
    stderrError: unknown;
    page1: unknown;
    stats: unknown;
    jsonBytes: string;
    csvBytes: string;
    files: { json: string; csv: string };
    missing: unknown;
    deleteBefore: unknown;
    afterDeleteBefore: unknown;
    deleteAll: unknown;
    afterDeleteAll: unknown;
    otherTask: unknown;
  }
  let server: TestServer | undefined;
  let dir: TempDir | undefined;
  let output: DriverOutput;
  let exportedCsv: string;

  beforeAll(async () => {
    server = await seededServer();
    dir = await makeTempDir('keruta-guide-python-');
    await writeGuideClient(dir.path);
    exportedCsv = await (await fetch(`${server.apiUrl}/tasks/${TASK}/logs/export?format=csv`)).text();
    const apiUrl = server.apiUrl;
    const cwd = dir.path;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(PYTHON, [DRIVER, cwd, 'rest', apiUrl, cwd], { cwd, env: PYTHON_ENV, encoding: 'utf8', timeout: 15_000, maxBuffer: 16 << 20 }, (error, out, err) => {
        if (error) reject(new Error(`the driver failed: ${error.message}\n${err}`));
        else resolve(out);
      });
    });
    output = JSON.parse(stdout) as DriverOutput;
  });
  afterAll(async () => {
    await server?.close();
    await dir?.remove();
  });

  it('get_logs answers with a Spring page of 100 by default and honours source, level, page and size', () => {
    const only = (keep: (e: LogEntry) => boolean) => TASK_ENTRIES.filter(keep);
    expect(output.default).toStrictEqual(page(TASK_ENTRIES.slice(0, 100), 137, 100));
    const stdout = only((e) => e.source === 'stdout');
    expect(output.stdout).toStrictEqual(page(stdout.slice(0, 100), stdout.length, 100));
    const errors = only((e) => e.level === 'ERROR');
    expect(output.error).toStrictEqual(page(errors, errors.length, 100));
    const stderrErrors = only((e) => e.source === 'stderr' && e.level === 'ERROR');
    expect(stderrErrors.length).toBeGreaterThan(0);
    expect(stderrErrors.length).toBeLessThan(errors.length);
    expect(output.stderrError).toStrictEqual(page(stderrErrors, stderrErrors.length, 100));
    expect(output.page1).toStrictEqual(page(TASK_ENTRIES.slice(50, 100), 137, 50, 1));
  });

  it('get_logs raises requests.HTTPError 404 with TASK_NOT_FOUND for a task that has no logs', () => {
    expect(output.missing).toStrictEqual({
      status: 404,
      body: { code: 'TASK_NOT_FOUND', message: expect.stringContaining('no-such-task'), timestamp: expect.any(String) },
    });
  });

  it('get_log_stats returns the exact counts by source and level and the time range', () => {
    expect(output.stats).toStrictEqual(statsOf(TASK, TASK_ENTRIES));
  });

  it('export_logs returns the JSON and CSV downloads as bytes, and writes them to output_file when given one', async () => {
    expect(JSON.parse(output.jsonBytes)).toStrictEqual(TASK_ENTRIES);
    expect(output.csvBytes).toBe(exportedCsv);
    expect(output.csvBytes.split('\r\n')[0]).toBe('id,seq,taskId,timestamp,source,level,lineNumber,message');
    expect(output.csvBytes.split('\r\n')).toHaveLength(1 + 137 + 1);
    const cwd = dir?.path ?? '';
    expect(output.files).toStrictEqual({ json: join(cwd, 'task123_logs.json'), csv: join(cwd, 'task123_logs.csv') });
    expect(await readFile(output.files.json, 'utf8')).toBe(output.jsonBytes);
    expect(await readFile(output.files.csv, 'utf8')).toBe(output.csvBytes);
  });

  it('delete_logs with before deletes exactly the older entries; without it, all of the task and nothing of another', () => {
    const kept = TASK_ENTRIES.filter((e) => !isBeforeGuideDate(e));
    expect(output.deleteBefore).toStrictEqual({ deletedCount: 12, message: expect.any(String) });
    expect(output.afterDeleteBefore).toStrictEqual(page(kept, kept.length, 1000));
    expect(output.deleteAll).toStrictEqual({ deletedCount: kept.length, message: expect.any(String) });
    expect(output.afterDeleteAll).toStrictEqual(page([], 0, 100));
    expect(output.otherTask).toStrictEqual(page(OTHER_TASK_ENTRIES, OTHER_TASK_ENTRIES.length, 100));
  });
});

describe("the usage guide's Python KerutaWebSocketClient, run by /usr/bin/python3", () => {
  it("connects, subscribes with the guide's options and receives each line posted after 'subscribed' as a log message", async () => {
    await using server = await seededServer();
    await using dir = await makeTempDir('keruta-guide-python-');
    await writeGuideClient(dir.path);
    await using python = startPython([DRIVER, dir.path, 'websocket', server.wsUrl], dir.path);
    const frameLines = (line: string) => line.startsWith('{"frame"');

    await python.waitForLine(frameLines, 'the subscribed frame');
    expect(python.lines[0]).toBe('WebSocket接続確立: task123');
    await postLines(server.apiUrl, 'task456', [{ source: 'stdout', level: 'INFO', message: 'another task' }]);
    await postLines(server.apiUrl, TASK, [
      { source: 'stdout', level: 'INFO', message: 'live: deploying 日本語' },
      { source: 'stderr', level: 'ERROR', message: 'live: "quoted", failed' },
      { source: 'agent', level: 'DEBUG', message: 'live: heartbeat' },
    ]);
    await python.waitForLine(frameLines, 'the third log frame', 3);
    python.child.stdin.end('disconnect\n');
    expect(await python.exited).toBe(0);

    const live = await entriesAfter(server.apiUrl, TASK, 137);
    expect(live.map((e) => e.message)).toEqual(['live: deploying 日本語', 'live: "quoted", failed', 'live: heartbeat']);
    const frames = python.lines.filter(frameLines).map((line) => (JSON.parse(line) as { frame: unknown }).frame);
    expect(frames).toStrictEqual([
      { type: 'subscribed', taskId: TASK, timestamp: expect.any(String), lastSeq: 137 },
      ...live.map((entry) => ({ type: 'log', ...entry })),
    ]);
    expect(python.lines[0]).toBe('WebSocket接続確立: task123');
  });
});

describe("the usage guide's Python __main__ example, run as it stands by /usr/bin/python3", () => {
  /** What websocket-client reports for every frame: it calls on_message(app, message), the guide's callback takes one parameter. */
  const CALLBACK_ERROR = 'WebSocketエラー: on_log_message() takes 1 positional argument but 2 were given';

  it('prints the REST counts, connects and subscribes; each frame reaches on_log_message, which websocket-client calls with two arguments', async () => {
    await using server = await seededServer();
    await using dir = await makeTempDir('keruta-guide-python-');
    const { whole } = guidePythonSample(readGuide());
    const example = withHost(whole, `127.0.0.1:${server.port}`);
    expect(example.split('\n').filter((line, i) => line !== whole.split('\n')[i])).toEqual([
      `        base_url="http://127.0.0.1:${server.port}/api/v1",`,
      `        ws_url="ws://127.0.0.1:${server.port}/ws/tasks",`,
    ]);
    await writeFile(join(dir.path, 'example.py'), example);
    await using python = startPython(['example.py'], dir.path);

    const subscribers = async (): Promise<string | undefined> =>
      /^keruta_subscribers (\d+)$/m.exec(await (await fetch(`${server.baseUrl}/metrics`)).text())?.[1];
    // The first frame is `subscribed`: after it, a posted line is live for this subscriber.
    await python.waitForLine((line) => line === CALLBACK_ERROR, 'the callback error of the subscribed frame');
    expect(await subscribers()).toBe('1');
    await postLines(server.apiUrl, TASK, [{ source: 'stdout', level: 'INFO', message: 'live after connect' }]);
    await python.waitForLine((line) => line === CALLBACK_ERROR, 'the callback error of the log frame', 1);
    python.child.kill('SIGINT');
    expect(await python.exited).toBe(0);

    const stdoutErrors = TASK_ENTRIES.filter((e) => e.source === 'stdout' && e.level === 'ERROR').length;
    expect(stdoutErrors).toBeGreaterThan(0);
    expect(python.lines.slice(0, 5)).toEqual([
      `取得したログ数: ${Math.min(stdoutErrors, 100)}`,
      '総ログ数: 137',
      'WebSocket接続確立: task123',
      CALLBACK_ERROR,
      CALLBACK_ERROR,
    ]);
    // After Ctrl-C only the guide's own close message may follow (the daemon thread may not get to it).
    for (const line of python.lines.slice(5)) expect(line).toMatch(/^WebSocket接続切断: /);
  });
});
