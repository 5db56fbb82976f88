// The REST client against a real keruta-api: one test per endpoint of PROTOCOL.md §2, the typed
// errors, and the afterSeq iterator.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startServer, type TestServer } from '@keruta/testing';
import { ERROR_CODES, type LogEntry } from '@keruta/protocol';
import { KerutaClientError, createRestClient, isRetryableClientError, type RestClient } from '../src/index.js';
import { errorFromResponse } from '../src/client-error.js';
import { lines, range } from './helpers.js';

let server: TestServer;
let rest: RestClient;

async function failure(promise: Promise<unknown>): Promise<KerutaClientError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KerutaClientError);
    return error as KerutaClientError;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  server = await startServer();
  rest = createRestClient({ baseUrl: server.apiUrl });
  await rest.postLogs('rest-task', [
    { source: 'agent', level: 'INFO', message: 'started', metadata: { event: 'started' }, timestamp: '2024-01-01T00:00:00.000Z' },
    { source: 'stdout', level: 'INFO', message: 'hello world', timestamp: '2024-01-01T00:00:01.000Z' },
    { source: 'stderr', level: 'WARN', message: 'disk almost full', timestamp: '2024-01-01T00:00:02.000Z' },
    { source: 'stdout', level: 'ERROR', message: 'Hello again, failed', timestamp: '2024-01-01T00:00:03.000Z' },
    { source: 'stdout', level: 'DEBUG', message: 'details', timestamp: '2024-01-01T00:00:04.000Z' },
  ]);
});

afterAll(async () => {
  await server.close();
});

describe('createRestClient', () => {
  it('postLogs stores one entry ({id, taskId, timestamp, success}) or a batch ({accepted, duplicates, lastSeq})', async () => {
    const one = await rest.postLogs('posted', { source: 'stdout', level: 'INFO', message: 'one' });
    expect(one).toMatchObject({ id: 'posted-1', taskId: 'posted', success: true, seq: 1, duplicate: false });
    const batch = await rest.postLogs('posted', [
      { source: 'stdout', level: 'INFO', message: 'two', runId: 'r', runSeq: 1 },
      { source: 'stdout', level: 'INFO', message: 'three', runId: 'r', runSeq: 2 },
    ]);
    expect(batch).toEqual({ accepted: 2, duplicates: 0, lastSeq: 3 });
    const again = await rest.postLogs('posted', [{ source: 'stdout', level: 'INFO', message: 'two', runId: 'r', runSeq: 1 }]);
    expect(again).toEqual({ accepted: 0, duplicates: 1, lastSeq: 3 });
  });

  it('getLogs pages and filters with every query parameter: source, level, page, size, from, to, q, afterSeq', async () => {
    const all = await rest.getLogs('rest-task');
    expect(all).toMatchObject({ totalElements: 5, totalPages: 1, size: 100, number: 0 });
    expect(all.content.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    const seqs = async (params: Parameters<RestClient['getLogs']>[1]) => (await rest.getLogs('rest-task', params)).content.map((e) => e.seq);
    expect(await seqs({ sources: ['stdout'] })).toEqual([2, 4, 5]);
    expect(await seqs({ sources: ['stdout', 'stderr'], levels: ['WARN', 'ERROR'] })).toEqual([3, 4]);
    expect(await seqs({ page: 1, size: 2 })).toEqual([3, 4]);
    expect(await seqs({ from: '2024-01-01T00:00:01Z', to: new Date('2024-01-01T00:00:03Z') })).toEqual([2, 3, 4]);
    expect(await seqs({ from: Date.parse('2024-01-01T00:00:04Z') })).toEqual([5]);
    expect(await seqs({ q: 'hello' })).toEqual([2, 4]);
    expect(await seqs({ afterSeq: 3, size: 1 })).toEqual([4]);
    const entry = all.content[1] as LogEntry;
    expect(entry).toMatchObject({ id: 'rest-task-2', taskId: 'rest-task', source: 'stdout', level: 'INFO', message: 'hello world', timestamp: '2024-01-01T00:00:01.000Z' });
  });

  it('iterateLogs walks every matching entry with the afterSeq cursor, from afterSeq up to upToSeq', async () => {
    await rest.postLogs('many', lines(2345, (i) => ({ level: i % 3 === 0 ? 'WARN' : 'INFO' })));
    const collect = async (options: Parameters<RestClient['iterateLogs']>[1]) => {
      const seen: number[] = [];
      for await (const entry of rest.iterateLogs('many', options)) seen.push(entry.seq);
      return seen;
    };
    expect(await collect({})).toEqual(range(1, 2345));
    expect(await collect({ afterSeq: 2000, pageSize: 100 })).toEqual(range(2001, 2345));
    expect(await collect({ afterSeq: 10, upToSeq: 1500, pageSize: 7 })).toEqual(range(11, 1500));
    expect(await collect({ levels: ['WARN'], pageSize: 50 })).toEqual(range(1, 2345).filter((i) => i % 3 === 0));
  });

  it('getStats counts by source and level with the time range', async () => {
    expect(await rest.getStats('rest-task')).toEqual({
      taskId: 'rest-task',
      totalLogs: 5,
      logCounts: { stdout: 3, stderr: 1, agent: 1 },
      levelCounts: { DEBUG: 1, INFO: 2, WARN: 1, ERROR: 1 },
      timeRange: { start: '2024-01-01T00:00:00.000Z', end: '2024-01-01T00:00:04.000Z' },
    });
  });

  it('exportUrl and exportLogs give the streamed download in json, csv and txt', async () => {
    expect(rest.exportUrl('rest-task', { format: 'csv', from: '2024-01-01T00:00:01Z' })).toBe(
      `${server.apiUrl}/tasks/rest-task/logs/export?format=csv&from=2024-01-01T00%3A00%3A01Z`,
    );
    const json = await rest.exportLogs('rest-task');
    expect(json.headers.get('content-disposition')).toMatch(/attachment/);
    expect((JSON.parse(await json.text()) as LogEntry[]).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    const csv = await (await rest.exportLogs('rest-task', { format: 'csv' })).text();
    expect(csv.trim().split('\n')).toHaveLength(6);
    const txt = await rest.exportLogs('rest-task', { format: 'txt', from: '2024-01-01T00:00:02Z', to: '2024-01-01T00:00:02Z' });
    const reader = txt.body?.getReader();
    let text = '';
    for (let chunk = await reader?.read(); chunk !== undefined && !chunk.done; chunk = await reader?.read()) text += new TextDecoder().decode(chunk.value);
    expect(text.trim()).toBe('[2024-01-01T00:00:02.000Z] [STDERR] [WARN] disk almost full');
  });

  it('listTasks and getTask summarise tasks: status, exit code, lines, last seq', async () => {
    await rest.postLogs('finished', [
      { source: 'agent', level: 'INFO', message: 'started', metadata: { event: 'started' } },
      { source: 'agent', level: 'INFO', message: 'exited', metadata: { event: 'exited', exitCode: 0 } },
    ]);
    expect(await rest.getTask('finished')).toMatchObject({ taskId: 'finished', status: 'succeeded', exitCode: 0, totalLogs: 2, lastSeq: 2 });
    expect(await rest.getTask('rest-task')).toMatchObject({ status: 'running', totalLogs: 5, lastSeq: 5 });
    const page = await rest.listTasks({ page: 0, size: 1000 });
    expect(page.content[0]?.taskId).toBe('finished');
    expect(page.content.map((t) => t.taskId)).toEqual(expect.arrayContaining(['rest-task', 'finished']));
    expect((await rest.listTasks({ size: 1 })).content).toHaveLength(1);
  });

  it('deleteLogs removes entries before a time, or all of them', async () => {
    await rest.postLogs('doomed', [
      { source: 'stdout', level: 'INFO', message: 'old', timestamp: '2020-01-01T00:00:00Z' },
      { source: 'stdout', level: 'INFO', message: 'new', timestamp: '2030-01-01T00:00:00Z' },
    ]);
    expect(await rest.deleteLogs('doomed', { before: new Date('2025-01-01T00:00:00Z') })).toMatchObject({ deletedCount: 1 });
    expect((await rest.getLogs('doomed')).content.map((e) => e.message)).toEqual(['new']);
    expect((await rest.deleteLogs('doomed')).deletedCount).toBe(1);
  });

  it('health reads /health outside /api/v1', async () => {
    expect(await rest.health()).toEqual({
      status: 'healthy',
      checks: {
        store: { status: 'up', message: 'sqlite' },
        bus: { status: 'up', message: 'memory' },
        writes: { status: 'up', message: 'writes stored' },
      },
    });
  });
});

describe('typed errors', () => {
  it('404 TASK_NOT_FOUND for an unknown task, with the HTTP status and the server timestamp', async () => {
    for (const call of [rest.getLogs('nobody'), rest.getStats('nobody'), rest.getTask('nobody'), rest.exportLogs('nobody'), rest.deleteLogs('nobody')]) {
      const error = await failure(call);
      expect(error.code).toBe('TASK_NOT_FOUND');
      expect(error.status).toBe(404);
      expect(error.message).toMatch(/nobody/);
      expect(Date.parse(error.timestamp ?? '')).not.toBeNaN();
    }
  });

  it('400 INVALID_LOG_FORMAT names the entry or parameter at fault', async () => {
    const entry = await failure(rest.postLogs('bad', [{ source: 'stdout', level: 'INFO', message: 'ok' }, { source: 'stdout', level: 'LOUD', message: 'x' } as never]));
    expect(entry).toMatchObject({ code: 'INVALID_LOG_FORMAT', status: 400 });
    expect(entry.message).toMatch(/\[1\]\.level/);
    const size = await failure(rest.getLogs('rest-task', { size: 5000 }));
    expect(size).toMatchObject({ code: 'INVALID_LOG_FORMAT', status: 400 });
    expect(size.message).toMatch(/size/);
    const from = await failure(rest.getLogs('rest-task', { from: 'yesterday' }));
    expect(from.message).toMatch(/from/);
  });

  it('INVALID_TASK_ID before any request for a task id outside the allowed form', async () => {
    const error = await failure(rest.getLogs('../etc/passwd'));
    expect(error.code).toBe('INVALID_TASK_ID');
    expect(error.status).toBeUndefined();
  });

  it('NETWORK_ERROR when the server cannot be reached', async () => {
    const port = await freePort();
    const error = await failure(createRestClient({ baseUrl: `http://127.0.0.1:${port}/api/v1` }).getTask('t'));
    expect(error.code).toBe('NETWORK_ERROR');
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('UNEXPECTED_RESPONSE for an answer that is not keruta\'s; Retry-After read as seconds', async () => {
    const proxy = createServer((_request, response) => {
      response.writeHead(502, { 'Content-Type': 'text/html', 'Retry-After': '3' }).end('<html>Bad gateway</html>');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const error = await failure(createRestClient({ baseUrl: `http://127.0.0.1:${port}/api/v1` }).listTasks());
      expect(error).toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: 502, retryAfter: 3 });
      expect(error.message).toMatch(/Bad gateway/);
    } finally {
      proxy.close();
    }
    const limited = await errorFromResponse(
      new Response(JSON.stringify({ code: 'RATE_LIMIT_EXCEEDED', message: 'slow down', timestamp: '2026-01-01T00:00:00Z' }), {
        status: ERROR_CODES.RATE_LIMIT_EXCEEDED.status,
        headers: { 'Retry-After': new Date(Date.now() + 30_000).toUTCString() },
      }),
      'GET logs',
    );
    expect(limited.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(limited.status).toBe(429);
    expect(limited.retryAfter).toBeGreaterThanOrEqual(28);
    expect(limited.retryAfter).toBeLessThanOrEqual(30);
  });

  it('tells a final refusal from a failure worth another try, by the protocol table', () => {
    const retryable = (code: KerutaClientError['code'], status?: number) =>
      isRetryableClientError(new KerutaClientError(code, 'x', status === undefined ? {} : { status }));
    expect(retryable('NETWORK_ERROR')).toBe(true);
    expect(retryable('DATABASE_ERROR', 500)).toBe(true);
    expect(retryable('RATE_LIMIT_EXCEEDED', 429)).toBe(true);
    expect(retryable('UNEXPECTED_RESPONSE', 502)).toBe(true);
    expect(retryable('UNEXPECTED_RESPONSE', 404)).toBe(false);
    expect(retryable('UNAUTHORIZED', 401)).toBe(false);
    expect(retryable('TASK_NOT_FOUND', 404)).toBe(false);
  });

  it('sends the token as Authorization: Bearer and the API key as X-API-Key', async () => {
    const seen: Record<string, string | undefined>[] = [];
    const recorder = createServer((request, response) => {
      seen.push({ authorization: request.headers.authorization, apiKey: request.headers['x-api-key'] as string | undefined });
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ content: [], totalElements: 0, totalPages: 0, size: 100, number: 0 }));
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = recorder.address() as AddressInfo;
      await createRestClient({ baseUrl: `http://127.0.0.1:${port}/api/v1`, token: 'jwt-123', apiKey: 'key-456' }).listTasks();
      expect(seen).toEqual([{ authorization: 'Bearer jwt-123', apiKey: 'key-456' }]);
    } finally {
      recorder.close();
    }
  });
});
