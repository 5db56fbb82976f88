// GET /api/v1/tasks/{taskId}/summary against a real server: the error index with the first
// failure's context, paging, and the error codes of PROTOCOL.md for bad input.
import { describe, expect, it } from 'vitest';
import { readJson, startServer, type TestServer } from '@keruta/testing';

const at = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms).toISOString();

async function post(server: TestServer, taskId: string, entries: unknown[]) {
  const response = await fetch(`${server.apiUrl}/tasks/${taskId}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ entries }),
  });
  expect(response.status).toBe(201);
}

async function get(server: TestServer, path: string) {
  const response = await fetch(`${server.apiUrl}${path}`);
  return { status: response.status, body: await readJson(response) };
}

function entry(ms: number, message: string, level = 'INFO') {
  return { source: 'stdout', level, message, timestamp: at(ms) };
}

async function seedFailedBuild(server: TestServer) {
  await post(server, 'build-7', [
    entry(0, 'checkout'),
    entry(100, '::group::Install'),
    entry(200, 'added 12 packages'),
    entry(2100, '::endgroup::'),
    entry(2200, '::group::Test'),
    entry(2300, 'PASS a.test.ts'),
    entry(2400, 'FAIL b.test.ts', 'ERROR'),
    entry(2500, 'expected 1, got 2'),
  ]);
  await post(server, 'build-7', [entry(2600, '::error file=b.test.ts,line=3::assertion failed'), entry(5200, '::endgroup::'), entry(5300, 'done')]);
}

describe('GET /api/v1/tasks/{taskId}/summary', () => {
  it('answers counts, the first failure with lines around it, errors and sections with durations', async () => {
    await using server = await startServer();
    await seedFailedBuild(server);
    const { status, body } = await get(server, '/tasks/build-7/summary?context=2');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      taskId: 'build-7',
      lastSeq: 11,
      counts: { errors: 1, annotations: 1, groups: 2, failedGroups: 1 },
      firstFailure: { seq: 7, kind: 'error', groupSeq: 5 },
      errors: [
        { seq: 7, kind: 'error', groupSeq: 5 },
        { seq: 9, kind: 'annotation', groupSeq: 5 },
      ],
      nextErrorsAfter: null,
      groups: [
        { name: 'Install', startSeq: 2, endSeq: 4, status: 'succeeded', durationMs: 2000, errorCount: 0 },
        { name: 'Test', startSeq: 5, endSeq: 10, status: 'failed', durationMs: 3000, errorCount: 2 },
      ],
      nextGroupsAfter: null,
    });
    expect(body.firstFailure.lines.map((e: { seq: number; message: string }) => [e.seq, e.message])).toEqual([
      [5, '::group::Test'],
      [6, 'PASS a.test.ts'],
      [7, 'FAIL b.test.ts'],
      [8, 'expected 1, got 2'],
      [9, '::error file=b.test.ts,line=3::assertion failed'],
    ]);
    const bare = await get(server, '/tasks/build-7/summary?context=0');
    expect(bare.body.firstFailure.lines.map((e: { seq: number }) => e.seq)).toEqual([7]);
    const defaults = await get(server, '/tasks/build-7/summary');
    expect(defaults.body.firstFailure.lines.map((e: { seq: number }) => e.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('pages errors and sections with cursors', async () => {
    await using server = await startServer();
    await seedFailedBuild(server);
    const first = await get(server, '/tasks/build-7/summary?size=1');
    expect(first.body).toMatchObject({ errors: [{ seq: 7 }], nextErrorsAfter: 7, groups: [{ name: 'Install' }], nextGroupsAfter: 2 });
    const next = await get(server, '/tasks/build-7/summary?size=1&errorsAfter=7&groupsAfter=2');
    expect(next.body).toMatchObject({ errors: [{ seq: 9 }], nextErrorsAfter: null, groups: [{ name: 'Test' }], nextGroupsAfter: null });
    // The first failure and the counts are the task's, whatever the page.
    expect(next.body.firstFailure.seq).toBe(7);
    expect(next.body.counts.errors + next.body.counts.annotations).toBe(2);
  });

  it('has no first failure for a log without errors', async () => {
    await using server = await startServer();
    await post(server, 'clean-1', [entry(0, 'all good')]);
    const { body } = await get(server, '/tasks/clean-1/summary');
    expect(body).toMatchObject({ firstFailure: null, errors: [], groups: [], counts: { errors: 0, annotations: 0, groups: 0, failedGroups: 0 } });
  });

  it('answers TASK_NOT_FOUND for an unknown task and INVALID_TASK_ID for a bad id, as the other task routes', async () => {
    await using server = await startServer();
    const unknown = await get(server, '/tasks/nobody/summary');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('TASK_NOT_FOUND');
    const logs = await get(server, '/tasks/nobody/logs');
    expect(logs.body.code).toBe(unknown.body.code);
    const bad = await get(server, '/tasks/bad%20id/summary');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_TASK_ID');
  });

  it.each([
    ['context=-1', 'context'],
    ['context=201', 'context'],
    ['context=abc', 'context'],
    ['context=1&context=2', 'context'],
    ['size=0', 'size'],
    ['size=1001', 'size'],
    ['errorsAfter=-5', 'errorsAfter'],
    ['groupsAfter=1.5', 'groupsAfter'],
  ])('refuses %s with INVALID_LOG_FORMAT naming the parameter', async (query, name) => {
    await using server = await startServer();
    await seedFailedBuild(server);
    const { status, body } = await get(server, `/tasks/build-7/summary?${query}`);
    expect(status).toBe(400);
    expect(body.code).toBe('INVALID_LOG_FORMAT');
    expect(body.message).toContain(name);
  });
});

describe('GET /api/v1/tasks/{taskId}/errors', () => {
  it('answers only the failures with context, overlapping windows merged, paged with a cursor', async () => {
    await using server = await startServer();
    const entries = Array.from({ length: 100 }, (_, i) => entry(i, `line ${i + 1}`, [10, 12, 50, 99].includes(i + 1) ? 'ERROR' : 'INFO'));
    await post(server, 'ctx-1', entries);
    const { status, body } = await get(server, '/tasks/ctx-1/errors?context=2');
    expect(status).toBe(200);
    expect(body.totalErrors).toBe(4);
    expect(body.windows.map((w: { fromSeq: number; toSeq: number; errors: { seq: number }[] }) => [w.fromSeq, w.toSeq, w.errors.map((e) => e.seq)])).toEqual([
      [8, 14, [10, 12]],
      [48, 52, [50]],
      [97, 100, [99]],
    ]);
    expect(body.windows[0].lines.map((e: { seq: number }) => e.seq)).toEqual([8, 9, 10, 11, 12, 13, 14]);
    expect(body.nextErrorsAfter).toBeNull();
    const paged = await get(server, '/tasks/ctx-1/errors?context=0&size=3');
    expect(paged.body.windows.map((w: { fromSeq: number }) => w.fromSeq)).toEqual([10, 12, 50]);
    expect(paged.body.nextErrorsAfter).toBe(50);
    const rest = await get(server, '/tasks/ctx-1/errors?context=0&size=3&errorsAfter=50');
    expect(rest.body.windows.map((w: { fromSeq: number }) => w.fromSeq)).toEqual([99]);
  });

  it('keeps a page under its line budget however large the context', async () => {
    await using server = await startServer();
    await post(server, 'ctx-2', Array.from({ length: 200 }, (_, i) => entry(i, `e${i}`, 'ERROR')));
    const { body } = await get(server, '/tasks/ctx-2/errors?context=200&size=1000');
    // 10,000 lines / 401 per error: 24 errors a page.
    expect(body.windows.flatMap((w: { errors: unknown[] }) => w.errors)).toHaveLength(24);
    expect(body.nextErrorsAfter).toBe(24);
  });

  it('answers TASK_NOT_FOUND and INVALID_LOG_FORMAT as the summary does', async () => {
    await using server = await startServer();
    expect((await get(server, '/tasks/nobody/errors')).body.code).toBe('TASK_NOT_FOUND');
    await post(server, 'ctx-3', [entry(0, 'x')]);
    const bad = await get(server, '/tasks/ctx-3/errors?context=x');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_LOG_FORMAT' });
  });
});
