// The usage guide's "REST API 使用例" curl commands, read out of the guide and run with the real
// /usr/bin/curl, word for word, with only `http://keruta-api:8080` replaced by the test server.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir, startServer, type TestServer } from '@keruta/testing';
import type { LogEntry } from '@keruta/protocol';
import { GUIDE_PATH, SPEC_GUIDE_PATH, guideCurlCommands, readGuide, shellWords, type ShellCommand } from './usage-guide-samples.js';
import {
  OTHER_TASK,
  OTHER_TASK_ENTRIES,
  TASK,
  TASK_ENTRIES,
  isBeforeGuideDate,
  seedGuideTasks,
  statsOf,
} from './usage-guide-seed.js';

const CURL = '/usr/bin/curl';
const GUIDE_BASE_URL = 'http://keruta-api:8080';

/** The guide's commands, keyed by method and path: `GET /api/v1/tasks/task123/logs?level=ERROR`. */
function commandsByRequest(): Map<string, ShellCommand> {
  const byRequest = new Map<string, ShellCommand>();
  for (const command of guideCurlCommands(readGuide())) {
    const method = command.words[command.words.indexOf('-X') + 1];
    const url = command.words.find((word) => word.startsWith(GUIDE_BASE_URL));
    if (method === undefined || url === undefined) throw new Error(`no -X or URL in ${command.words.join(' ')}`);
    byRequest.set(`${method} ${url.slice(GUIDE_BASE_URL.length)}`, command);
  }
  return byRequest;
}

const GUIDE_REQUESTS = [
  'GET /api/v1/tasks/task123/logs',
  'GET /api/v1/tasks/task123/logs?source=stdout',
  'GET /api/v1/tasks/task123/logs?level=ERROR',
  'GET /api/v1/tasks/task123/logs?page=0&size=50',
  'GET /api/v1/tasks/task123/logs/stats',
  'DELETE /api/v1/tasks/task123/logs',
  'DELETE /api/v1/tasks/task123/logs?before=2024-01-01T00:00:00Z',
  'GET /api/v1/tasks/task123/logs/export?format=json',
  'GET /api/v1/tasks/task123/logs/export?format=csv',
] as const;
type GuideRequest = (typeof GUIDE_REQUESTS)[number];

interface CurlRun {
  stdout: string;
  stderr: string;
  /** The files the command left in its working directory. */
  files: string[];
}

/** Runs the guide's command for `request` in a fresh temp directory against `server`. */
async function runGuideCommand(request: GuideRequest, server: TestServer): Promise<CurlRun & { read(file: string): Promise<string> }> {
  const command = commandsByRequest().get(request);
  if (command === undefined) throw new Error(`the guide has no command for ${request}`);
  const [program, ...args] = command.words;
  expect(program).toBe('curl');
  const runArgs = args.map((word) => word.replaceAll(GUIDE_BASE_URL, server.baseUrl));
  // Only the host changes: exactly one word, the URL, differs from the guide's.
  expect(runArgs.filter((word, i) => word !== args[i])).toHaveLength(1);

  const dir = await makeTempDir('keruta-guide-curl-');
  try {
    // No proxy may stand between curl and the test server on 127.0.0.1.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/_proxy$/i.test(name)));
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(CURL, runArgs, { cwd: dir.path, env, encoding: 'utf8', timeout: 10_000 }, (error, out, err) => {
        if (error) reject(new Error(`curl ${runArgs.join(' ')} failed: ${error.message}\n${err}`));
        else resolve({ stdout: out, stderr: err });
      });
    });
    const files = await readdir(dir.path);
    const contents = new Map<string, string>();
    for (const file of files) contents.set(file, await readFile(join(dir.path, file), 'utf8'));
    return {
      stdout,
      stderr,
      files,
      read: async (file) => {
        const text = contents.get(file);
        if (text === undefined) throw new Error(`curl wrote no ${file} (it wrote ${files.join(', ') || 'nothing'})`);
        return text;
      },
    };
  } finally {
    await dir.remove();
  }
}

async function seededServer(): Promise<TestServer> {
  const server = await startServer();
  try {
    await seedGuideTasks(server.apiUrl);
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return response.json();
}

function page(content: LogEntry[], totalElements: number, size: number, number = 0) {
  return { content, totalElements, totalPages: Math.ceil(totalElements / size), size, number };
}

const PAGE_KEYS = ['content', 'number', 'size', 'totalElements', 'totalPages'];

/** One RFC 4180 document: CRLF-ended records, "…" cells with "" for a quote; anything else throws. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c !== '"') cell += c;
      else if (text.charAt(i + 1) === '"') cell += text.charAt(++i);
      else quoted = false;
    } else if (c === '"' && cell === '' && !wasQuoted) {
      quoted = wasQuoted = true;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
      wasQuoted = false;
    } else if (c === '\r' && text.charAt(i + 1) === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      wasQuoted = false;
      i++;
    } else if (c === '"' || c === '\r' || c === '\n' || wasQuoted) {
      throw new Error(`not RFC 4180 CSV at offset ${i}: ${JSON.stringify(text.slice(Math.max(0, i - 40), i + 40))}`);
    } else {
      cell += c;
    }
  }
  if (quoted || cell !== '' || row.length > 0) throw new Error('the CSV does not end with CRLF after its last record');
  return rows;
}

/** What a CSV message cell holds: the message, with a ' in front of what a spreadsheet would run as a formula. */
function csvMessage(message: string): string {
  return /^[=+\-@\t\r]/.test(message) ? `'${message}` : message;
}

describe("the usage guide's curl commands (REST API 使用例), run verbatim with /usr/bin/curl", () => {
  it('finds exactly the nine commands of the cURL section in the guide, split as the shell splits them', () => {
    const commands = guideCurlCommands(readGuide());
    expect(commands.map((c) => c.comment)).toEqual([
      '# タスクログ一覧取得',
      '# 特定のソースのログのみ取得',
      '# エラーログのみ取得',
      '# ページネーション付きで取得',
      '# タスクログ統計取得',
      '# タスクログ削除',
      '# 特定日時以前のログ削除',
      '# JSON形式でエクスポート',
      '# CSV形式でエクスポート',
    ]);
    expect([...commandsByRequest().keys()]).toEqual([...GUIDE_REQUESTS]);
    expect(commands[0]?.words).toEqual([
      'curl',
      '-X',
      'GET',
      'http://keruta-api:8080/api/v1/tasks/task123/logs',
      '-H',
      'Authorization: Bearer your-jwt-token',
    ]);
    expect(commands[7]?.words.slice(-2)).toEqual(['-o', 'task123_logs.json']);
    expect(existsSync(CURL)).toBe(true);
  });

  it('splits words as a POSIX shell does and refuses what a shell would expand', () => {
    expect(shellWords(`curl -X GET "http://h/a?b=1&c=2"  -H 'X: "y"' a\\ b "q\\"r" ''`)).toEqual([
      'curl',
      '-X',
      'GET',
      'http://h/a?b=1&c=2',
      '-H',
      'X: "y"',
      'a b',
      'q"r',
      '',
    ]);
    for (const command of ['curl $URL', 'curl "$URL"', 'curl a | jq', 'curl a > out', 'curl "unterminated', 'curl a; rm b']) {
      expect(() => shellWords(command), command).toThrow(/not supported/);
    }
  });

  it.skipIf(!existsSync(SPEC_GUIDE_PATH))("keeps the repository's copy of the guide byte for byte the spec's", () => {
    expect(readFileSync(GUIDE_PATH)).toEqual(readFileSync(SPEC_GUIDE_PATH));
  });

  it('タスクログ一覧取得: answers with the first 100 entries of task123 in seq order, as a Spring page', async () => {
    await using server = await seededServer();
    const run = await runGuideCommand('GET /api/v1/tasks/task123/logs', server);
    const body = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(PAGE_KEYS);
    expect(body).toStrictEqual(page(TASK_ENTRIES.slice(0, 100), 137, 100));
    expect(TASK_ENTRIES).toHaveLength(137);
  });

  it('特定のソースのログのみ取得: source=stdout returns the stdout lines and nothing else', async () => {
    await using server = await seededServer();
    const run = await runGuideCommand('GET /api/v1/tasks/task123/logs?source=stdout', server);
    const stdout = TASK_ENTRIES.filter((e) => e.source === 'stdout');
    expect(stdout.length).toBeGreaterThan(50);
    expect(stdout.length).toBeLessThan(TASK_ENTRIES.length);
    const body = JSON.parse(run.stdout) as { content: LogEntry[] };
    expect(body).toStrictEqual(page(stdout.slice(0, 100), stdout.length, 100));
    expect(new Set(body.content.map((e) => e.source))).toEqual(new Set(['stdout']));
  });

  it('エラーログのみ取得: level=ERROR returns the ERROR lines of every source and nothing else', async () => {
    await using server = await seededServer();
    const run = await runGuideCommand('GET /api/v1/tasks/task123/logs?level=ERROR', server);
    const errors = TASK_ENTRIES.filter((e) => e.level === 'ERROR');
    expect(new Set(errors.map((e) => e.source))).toEqual(new Set(['stdout', 'stderr']));
    const body = JSON.parse(run.stdout) as { content: LogEntry[] };
    expect(body).toStrictEqual(page(errors, errors.length, 100));
    expect(new Set(body.content.map((e) => e.level))).toEqual(new Set(['ERROR']));
  });

  it('ページネーション付きで取得: page=0&size=50 returns entries 1 to 50 of 137 in 3 pages', async () => {
    await using server = await seededServer();
    const run = await runGuideCommand('GET /api/v1/tasks/task123/logs?page=0&size=50', server);
    const body = JSON.parse(run.stdout) as { content: LogEntry[] };
    expect(body).toStrictEqual(page(TASK_ENTRIES.slice(0, 50), 137, 50));
    expect(body.content.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('タスクログ統計取得: counts every source and level of task123 exactly, with its first and last timestamps', async () => {
    await using server = await seededServer();
    const run = await runGuideCommand('GET /api/v1/tasks/task123/logs/stats', server);
    const expected = statsOf(TASK, TASK_ENTRIES);
    expect(JSON.parse(run.stdout)).toStrictEqual(expected);
    expect(expected.totalLogs).toBe(137);
    expect(expected.timeRange).toEqual({ start: '2023-12-31T23:58:00.000Z', end: '2024-01-01T00:00:31.000Z' });
  });

  it('タスクログ削除: deletes all 137 entries of task123 and leaves task456 as it was', async () => {
    await using server = await seededServer();
    const run = await runGuideCommand('DELETE /api/v1/tasks/task123/logs', server);
    const body = JSON.parse(run.stdout) as { deletedCount: number; message: string };
    expect(Object.keys(body).sort()).toEqual(['deletedCount', 'message']);
    expect(body.deletedCount).toBe(137);
    expect(body.message).toMatch(/137/);
    expect(await getJson(`${server.apiUrl}/tasks/${TASK}/logs`)).toStrictEqual(page([], 0, 100));
    expect(await getJson(`${server.apiUrl}/tasks/${TASK}/logs/stats`)).toStrictEqual(statsOf(TASK, []));
    expect(await getJson(`${server.apiUrl}/tasks/${OTHER_TASK}/logs`)).toStrictEqual(page(OTHER_TASK_ENTRIES, 5, 100));
  });

  it('特定日時以前のログ削除: before=2024-01-01T00:00:00Z deletes exactly the 12 older entries and keeps the one at midnight', async () => {
    await using server = await seededServer();
    const run = await runGuideCommand('DELETE /api/v1/tasks/task123/logs?before=2024-01-01T00:00:00Z', server);
    const old = TASK_ENTRIES.filter(isBeforeGuideDate);
    const kept = TASK_ENTRIES.filter((e) => !isBeforeGuideDate(e));
    expect(old).toHaveLength(12);
    expect(kept[0]?.timestamp).toBe('2024-01-01T00:00:00.000Z');
    expect(JSON.parse(run.stdout)).toMatchObject({ deletedCount: 12, message: expect.any(String) });

    expect(await getJson(`${server.apiUrl}/tasks/${TASK}/logs?size=1000`)).toStrictEqual(page(kept, 125, 1000));
    expect(await getJson(`${server.apiUrl}/tasks/${TASK}/logs/stats`)).toStrictEqual(statsOf(TASK, kept));
    // task456 has lines from 2023 too: they are not task123's to delete.
    expect(OTHER_TASK_ENTRIES.some(isBeforeGuideDate)).toBe(true);
    expect(await getJson(`${server.apiUrl}/tasks/${OTHER_TASK}/logs`)).toStrictEqual(page(OTHER_TASK_ENTRIES, 5, 100));

    const again = await runGuideCommand('DELETE /api/v1/tasks/task123/logs?before=2024-01-01T00:00:00Z', server);
    expect(JSON.parse(again.stdout)).toMatchObject({ deletedCount: 0 });
  });

  it('JSON形式でエクスポート: writes task123_logs.json, a JSON array equal to every stored entry of task123', async () => {
    await using server = await seededServer();
    const run = await runGuideCommand('GET /api/v1/tasks/task123/logs/export?format=json', server);
    expect(run.stdout).toBe('');
    expect(run.files).toEqual(['task123_logs.json']);
    const exported = JSON.parse(await run.read('task123_logs.json')) as unknown;
    expect(exported).toStrictEqual(TASK_ENTRIES);
    const stored = (await getJson(`${server.apiUrl}/tasks/${TASK}/logs?size=1000`)) as { content: LogEntry[] };
    expect(exported).toStrictEqual(stored.content);
  });

  it('CSV形式でエクスポート: writes task123_logs.csv, a header and one correctly quoted row per entry', async () => {
    await using server = await seededServer();
    const run = await runGuideCommand('GET /api/v1/tasks/task123/logs/export?format=csv', server);
    expect(run.stdout).toBe('');
    expect(run.files).toEqual(['task123_logs.csv']);
    const text = await run.read('task123_logs.csv');
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(['id', 'seq', 'taskId', 'timestamp', 'source', 'level', 'lineNumber', 'message']);
    expect(rows).toEqual(
      TASK_ENTRIES.map((e) => [e.id, String(e.seq), e.taskId, e.timestamp, e.source, e.level, String(e.lineNumber), csvMessage(e.message)]),
    );
    // The quoting itself, as a spreadsheet reads it.
    expect(text).toContain(',"Connecting to db at ""postgres://db:5432/app"", attempt 1"\r\n');
    expect(text).toContain(`,"'=HYPERLINK(""http://example.invalid"",""click"")"\r\n`);
    expect(text).toContain(",'-- migration 42 applied\r\n");
    expect(text).toContain(',"ビルド完了: 3 個のファイル, 警告 0 件"\r\n');
    expect(text).toContain(',C:\\build\\out\\app.exe written\r\n');
  });
});
