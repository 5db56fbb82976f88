// The REST API of PROTOCOL.md §2: every route, filter and error code, against a real server.
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer, readJson } from '@keruta/testing';
import { sleep } from '@keruta/testing/base';

async function post(server: TestServer, taskId: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.apiUrl}/tasks/${taskId}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await readJson(response) };
}

async function get(server: TestServer, path: string) {
  const response = await fetch(`${server.apiUrl}${path}`);
  return { status: response.status, body: await readJson(response), headers: response.headers };
}

const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString();

async function seed(server: TestServer) {
  const levels = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
  const sources = ['stdout', 'stderr', 'agent'];
  const entries = Array.from({ length: 120 }, (_, i) => ({
    source: sources[i % 3],
    level: levels[i % 4],
    message: i % 10 === 0 ? `Needle 100% found_${i}` : `line ${i}`,
    timestamp: at(i),
  }));
  const result = await post(server, 'task123', { entries });
  expect(result).toEqual({ status: 201, body: { accepted: 120, duplicates: 0, lastSeq: 120 } });
}

describe('REST /api/v1/tasks/{taskId}/logs', () => {
  it('pages by seq in the Spring page shape', async () => {
    await using server = await startServer();
    await seed(server);
    const { body } = await get(server, '/tasks/task123/logs?page=1&size=50');
    expect(body).toMatchObject({ totalElements: 120, totalPages: 3, size: 50, number: 1 });
    expect(body.content.map((e: { seq: number }) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 51 + i));
    expect(body.content[0]).toMatchObject({ id: 'task123-51', taskId: 'task123', source: 'agent', level: 'WARN', lineNumber: 17 });
    const defaults = await get(server, '/tasks/task123/logs');
    expect(defaults.body).toMatchObject({ size: 100, number: 0, totalPages: 2 });
    const past = await get(server, '/tasks/task123/logs?page=9&size=50');
    expect(past.body).toMatchObject({ content: [], totalElements: 120, number: 9 });
  });

  it('filters by source, level (one, a comma list or repeated), time range, text and afterSeq', async () => {
    await using server = await startServer();
    await seed(server);
    const bySource = await get(server, '/tasks/task123/logs?source=stderr&size=1000');
    expect(bySource.body.totalElements).toBe(40);
    expect(bySource.body.content.every((e: { source: string }) => e.source === 'stderr')).toBe(true);
    const byLevels = await get(server, '/tasks/task123/logs?level=WARN,ERROR&size=1000');
    expect(byLevels.body.totalElements).toBe(60);
    const repeated = await get(server, '/tasks/task123/logs?level=WARN&level=error&size=1000');
    expect(repeated.body.totalElements).toBe(60);
    const both = await get(server, '/tasks/task123/logs?source=stdout&level=ERROR');
    expect(both.body.content.map((e: { seq: number }) => e.seq)).toEqual([4, 16, 28, 40, 52, 64, 76, 88, 100, 112]);
    const window = await get(server, `/tasks/task123/logs?from=${at(10)}&to=${at(19)}`);
    expect(window.body.content.map((e: { seq: number }) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 11 + i));
    const text = await get(server, '/tasks/task123/logs?q=needle%20100%25');
    expect(text.body.totalElements).toBe(12);
    const literal = await get(server, '/tasks/task123/logs?q=found_1');
    expect(literal.body.content.map((e: { message: string }) => e.message)).toEqual(['Needle 100% found_10', 'Needle 100% found_100', 'Needle 100% found_110']);
    const noWildcards = await get(server, '/tasks/task123/logs?q=%25_');
    expect(noWildcards.body.totalElements).toBe(0);
    const after = await get(server, '/tasks/task123/logs?afterSeq=115&size=3');
    expect(after.body.content.map((e: { seq: number }) => e.seq)).toEqual([116, 117, 118]);
  });

  it('answers stats from every source and level with the time range', async () => {
    await using server = await startServer();
    await seed(server);
    const { body } = await get(server, '/tasks/task123/logs/stats');
    expect(body).toEqual({
      taskId: 'task123',
      totalLogs: 120,
      logCounts: { stdout: 40, stderr: 40, agent: 40 },
      levelCounts: { DEBUG: 30, INFO: 30, WARN: 30, ERROR: 30 },
      timeRange: { start: at(0), end: at(119) },
    });
  });

  it('deletes entries before a date, then all, and never reuses a seq', async () => {
    await using server = await startServer();
    await seed(server);
    const before = await fetch(`${server.apiUrl}/tasks/task123/logs?before=${at(100)}`, { method: 'DELETE' });
    expect(await readJson(before)).toMatchObject({ deletedCount: 100 });
    expect((await get(server, '/tasks/task123/logs/stats')).body.totalLogs).toBe(20);
    const all = await fetch(`${server.apiUrl}/tasks/task123/logs`, { method: 'DELETE' });
    expect(await readJson(all)).toMatchObject({ deletedCount: 20 });
    const again = await post(server, 'task123', { source: 'stdout', level: 'INFO', message: 'after delete' });
    expect(again.body).toMatchObject({ success: true, seq: 121, id: 'task123-121', taskId: 'task123' });
  });

  it('stores one entry with the answer of the usage guide, and cuts a long message marking it truncated', async () => {
    await using server = await startServer({ config: { maxMessageLength: 10 } });
    const one = await post(server, 't', { source: 'stderr', level: 'WARN', message: 'x'.repeat(50), lineNumber: 7, metadata: { k: 1 } });
    expect(one.status).toBe(201);
    expect(one.body).toMatchObject({ id: 't-1', taskId: 't', success: true });
    const { body } = await get(server, '/tasks/t/logs');
    expect(body.content[0]).toMatchObject({ message: 'x'.repeat(10), lineNumber: 7, metadata: { k: 1, truncated: true, originalLength: 50 } });
  });

  it('accepts a bare array and a resend of the same runId/runSeq as duplicates', async () => {
    await using server = await startServer();
    const batch = [1, 2, 3].map((runSeq) => ({ source: 'stdout', level: 'INFO', message: `m${runSeq}`, runId: 'r', runSeq }));
    expect((await post(server, 'dup', batch)).body).toEqual({ accepted: 3, duplicates: 0, lastSeq: 3 });
    expect((await post(server, 'dup', batch)).body).toEqual({ accepted: 0, duplicates: 3, lastSeq: 3 });
  });

  it('streams exports as json, csv and txt downloads with a safe file name', async () => {
    await using server = await startServer();
    await post(server, 'exp', [
      { source: 'stdout', level: 'INFO', message: 'plain', timestamp: at(1) },
      { source: 'stderr', level: 'ERROR', message: '=HYPERLINK("x"), "quoted"', timestamp: at(2) },
    ]);
    const json = await fetch(`${server.apiUrl}/tasks/exp/logs/export`);
    expect(json.headers.get('content-disposition')).toBe('attachment; filename="exp_logs.json"');
    const parsed = await readJson(json);
    expect(parsed.map((e: { message: string }) => e.message)).toEqual(['plain', '=HYPERLINK("x"), "quoted"']);
    const csv = await (await fetch(`${server.apiUrl}/tasks/exp/logs/export?format=csv`)).text();
    expect(csv).toBe(
      'id,seq,taskId,timestamp,source,level,lineNumber,message\r\n' +
        `exp-1,1,exp,${at(1)},stdout,INFO,1,plain\r\n` +
        `exp-2,2,exp,${at(2)},stderr,ERROR,1,"'=HYPERLINK(""x""), ""quoted"""\r\n`,
    );
    // A task id may start with "-": in a spreadsheet that would be a formula.
    await post(server, '-exp', [{ source: 'stdout', level: 'WARN', message: '+1', timestamp: at(3) }]);
    expect(await (await fetch(`${server.apiUrl}/tasks/-exp/logs/export?format=csv`)).text()).toBe(
      `id,seq,taskId,timestamp,source,level,lineNumber,message\r\n'-exp-1,1,'-exp,${at(3)},stdout,WARN,1,'+1\r\n`,
    );
    const txt = await fetch(`${server.apiUrl}/tasks/exp/logs/export?format=txt&from=${at(2)}`);
    expect(txt.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await txt.text()).toBe(`[${at(2)}] [STDERR] [ERROR] =HYPERLINK("x"), "quoted"\n`);
    const empty = await readJson(fetch(`${server.apiUrl}/tasks/exp/logs/export?to=${at(0)}`));
    expect(empty).toEqual([]);
  });

  it("starts a cut line's message with [cut: N chars] in the txt and csv exports (N = metadata.originalLength), [cut] when the length is unknown; json unchanged", async () => {
    // A line that says it was cut and not how long it was (a client of its own may send that).
    await using server = await startServer();
    const kept = 'k'.repeat(8192);
    await post(server, 'cut', [
      // As the agent sends a cut line: the maximum kept, the length it had in metadata.
      { source: 'stdout', level: 'INFO', message: kept, metadata: { truncated: true, originalLength: 1048576 }, timestamp: at(1) },
      // Cut by keruta-api itself, which records how long it was.
      { source: 'stdout', level: 'INFO', message: `=${kept}`, timestamp: at(2) },
      { source: 'stdout', level: 'INFO', message: 'whole', metadata: { originalLength: 99 }, timestamp: at(3) },
      // Marked cut by a client of its own, without the length.
      { source: 'stdout', level: 'INFO', message: 'short', metadata: { truncated: true }, timestamp: at(4) },
    ]);
    const txt = await (await fetch(`${server.apiUrl}/tasks/cut/logs/export?format=txt`)).text();
    expect(txt.split('\n')).toEqual([
      `[${at(1)}] [STDOUT] [INFO] [cut: 1,048,576 chars] ${kept}`,
      `[${at(2)}] [STDOUT] [INFO] [cut: 8,193 chars] =${kept.slice(1)}`,
      `[${at(3)}] [STDOUT] [INFO] whole`,
      `[${at(4)}] [STDOUT] [INFO] [cut] short`,
      '',
    ]);
    // The same columns; the marker opens the message cell (and a cell opening with "[" needs no formula guard).
    const csv = await (await fetch(`${server.apiUrl}/tasks/cut/logs/export?format=csv`)).text();
    expect(csv.split('\r\n')).toEqual([
      'id,seq,taskId,timestamp,source,level,lineNumber,message',
      `cut-1,1,cut,${at(1)},stdout,INFO,1,"[cut: 1,048,576 chars] ${kept}"`,
      `cut-2,2,cut,${at(2)},stdout,INFO,2,"[cut: 8,193 chars] =${kept.slice(1)}"`,
      `cut-3,3,cut,${at(3)},stdout,INFO,3,whole`,
      `cut-4,4,cut,${at(4)},stdout,INFO,4,[cut] short`,
      '',
    ]);
    const json = await readJson(fetch(`${server.apiUrl}/tasks/cut/logs/export`));
    expect(json.map((e: { message: string }) => e.message)).toEqual([kept, `=${kept.slice(1)}`, 'whole', 'short']);
    expect(json[0].metadata).toEqual({ truncated: true, originalLength: 1048576 });
  });

  it('lists tasks newest activity first and summarises one', async () => {
    await using server = await startServer();
    await post(server, 'older', { source: 'stdout', level: 'INFO', message: 'a' });
    await sleep(5);
    await post(server, 'newer', { source: 'stdout', level: 'INFO', message: 'b' });
    const list = await get(server, '/tasks');
    expect(list.body.content.map((t: { taskId: string }) => t.taskId)).toEqual(['newer', 'older']);
    expect(list.body).toMatchObject({ totalElements: 2, number: 0 });
    expect((await get(server, '/tasks/older')).body).toMatchObject({ taskId: 'older', status: 'unknown', totalLogs: 1, lastSeq: 1 });
  });

  it('reports health and Prometheus metrics', async () => {
    await using server = await startServer();
    await post(server, 'm', { source: 'stdout', level: 'INFO', message: 'a' });
    const health = await fetch(`${server.baseUrl}/health`);
    expect(await readJson(health)).toMatchObject({ status: 'healthy', checks: { store: { status: 'up' }, bus: { status: 'up' } } });
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/keruta_entries_appended_total\{path="rest"\} 1/);
    expect(metrics).toMatch(/keruta_store_latency_seconds_bucket/);
    expect(metrics).toMatch(/keruta_http_requests_total\{method="POST",route="\/api\/v1\/tasks\/:taskId\/logs",status="201"\} 1/);
  });
});

describe('REST errors', () => {
  it.each([
    ['GET', '/tasks/nope/logs', 404, 'TASK_NOT_FOUND', 'nope'],
    ['GET', '/tasks/nope/logs/stats', 404, 'TASK_NOT_FOUND', 'nope'],
    ['GET', '/tasks/nope/logs/export', 404, 'TASK_NOT_FOUND', 'nope'],
    ['DELETE', '/tasks/nope/logs', 404, 'TASK_NOT_FOUND', 'nope'],
    ['GET', '/tasks/nope', 404, 'TASK_NOT_FOUND', 'nope'],
    ['GET', '/tasks/bad%20id/logs', 400, 'INVALID_TASK_ID', 'taskId'],
    ['GET', `/tasks/${'a'.repeat(129)}/logs`, 400, 'INVALID_TASK_ID', 'taskId'],
    ['GET', '/tasks/known/logs?size=1001', 400, 'INVALID_LOG_FORMAT', 'size'],
    ['GET', '/tasks/known/logs?size=0', 400, 'INVALID_LOG_FORMAT', 'size'],
    ['GET', '/tasks/known/logs?page=-1', 400, 'INVALID_LOG_FORMAT', 'page'],
    ['GET', '/tasks/known/logs?page=abc', 400, 'INVALID_LOG_FORMAT', 'page'],
    ['GET', '/tasks/known/logs?level=LOUD', 400, 'INVALID_LOG_FORMAT', 'level'],
    ['GET', '/tasks/known/logs?source=disk', 400, 'INVALID_LOG_FORMAT', 'source'],
    ['GET', '/tasks/known/logs?from=yesterday', 400, 'INVALID_LOG_FORMAT', 'from'],
    ['GET', '/tasks/known/logs?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z', 400, 'INVALID_LOG_FORMAT', 'from'],
    ['GET', '/tasks/known/logs?afterSeq=-5', 400, 'INVALID_LOG_FORMAT', 'afterSeq'],
    ['GET', `/tasks/known/logs?q=${'q'.repeat(300)}`, 400, 'INVALID_LOG_FORMAT', 'q'],
    ['GET', '/tasks/known/logs/export?format=xml', 400, 'INVALID_LOG_FORMAT', 'format'],
    ['DELETE', '/tasks/known/logs?before=2024-13-45', 400, 'INVALID_LOG_FORMAT', 'before'],
    ['GET', '/tasks/known/elsewhere', 404, 'INVALID_MESSAGE_FORMAT', 'no route'],
  ])('%s %s → %i %s', async (method, path, status, code, field) => {
    await using server = await startServer();
    await post(server, 'known', { source: 'stdout', level: 'INFO', message: 'a' });
    const response = await fetch(`${server.apiUrl}${path}`, { method });
    expect(response.status).toBe(status);
    const body = await readJson(response);
    expect(body).toMatchObject({ code });
    expect(body.message).toContain(field);
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
  });

  it.each([
    ['invalid JSON', '{"source":', 'body'],
    ['an empty body', '', 'body'],
    ['a missing level', '{"source":"stdout","message":"m"}', 'level: is required'],
    ['a wrong type', '{"source":"stdout","level":"INFO","message":42}', 'message: expected string'],
    ['a bad entry in a batch', '{"entries":[{"source":"stdout","level":"INFO","message":"ok"},{"source":"stdout","level":"NOPE","message":"x"}]}', 'entries[1].level'],
    ['entries that are not an array', '{"entries":"many"}', 'entries'],
    ['a negative lineNumber', '{"source":"stdout","level":"INFO","message":"m","lineNumber":-1}', 'lineNumber:'],
    ['oversized metadata', JSON.stringify({ source: 'stdout', level: 'INFO', message: 'm', metadata: { big: 'x'.repeat(5000) } }), 'metadata:'],
  ])('POST with %s → 400 INVALID_LOG_FORMAT naming the field, storing nothing', async (_name, body, field) => {
    await using server = await startServer();
    const result = await post(server, 'bad', body);
    expect(result.status).toBe(400);
    expect(result.body.code).toBe('INVALID_LOG_FORMAT');
    expect(result.body.message).toContain(field);
    expect((await fetch(`${server.apiUrl}/tasks/bad/logs`)).status).toBe(404);
  });

  it('POST with a body over the limit → 413 MESSAGE_TOO_LARGE', async () => {
    await using server = await startServer({ config: { maxBodyBytes: 4096 } });
    const result = await post(server, 'huge', { source: 'stdout', level: 'INFO', message: 'x'.repeat(10_000) });
    expect(result).toMatchObject({ status: 413, body: { code: 'MESSAGE_TOO_LARGE' } });
  });

  it('answers DATABASE_ERROR with 500 when the store fails, and health turns unhealthy', async () => {
    await using server = await startServer();
    await post(server, 'db', { source: 'stdout', level: 'INFO', message: 'a' });
    await server.server.store.close();
    const read = await fetch(`${server.apiUrl}/tasks/db/logs`);
    expect(read.status).toBe(500);
    const body = await readJson(read);
    expect(body.code).toBe('DATABASE_ERROR');
    expect(body.message).not.toMatch(/SELECT|INSERT|sqlite/i);
    const write = await post(server, 'db', { source: 'stdout', level: 'INFO', message: 'b' });
    expect(write).toMatchObject({ status: 500, body: { code: 'DATABASE_ERROR' } });
    const health = await fetch(`${server.baseUrl}/health`);
    expect(health.status).toBe(503);
    expect(await readJson(health)).toMatchObject({ status: 'unhealthy', checks: { store: { status: 'down' } } });
  });

  it('serves a request that carries a Bearer token while auth is none', async () => {
    await using server = await startServer();
    const result = await post(server, 'tok', { source: 'stdout', level: 'INFO', message: 'a' }, { authorization: 'Bearer your-jwt-token' });
    expect(result.status).toBe(201);
  });
});

describe('retention', () => {
  it('deletes entries older than KERUTA_RETENTION_DAYS at start-up and keeps newer ones', async () => {
    await using first = await startServer();
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
    await post(first, 'kept', [
      { source: 'stdout', level: 'INFO', message: 'old', timestamp: old },
      { source: 'stdout', level: 'INFO', message: 'new' },
    ]);
    await first.server.close();
    await using second = await startServer({ dataDir: first.dataDir, config: { retentionDays: 2 } });
    await sleep(100);
    const { body } = await get(second, '/tasks/kept/logs');
    expect(body.content.map((e: { message: string }) => e.message)).toEqual(['new']);
  });
});
