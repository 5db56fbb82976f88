// GET /api/v1/tasks/{taskId}/compare against a real server: the last succeeded run found by the
// job's prefix, lines normalised before they are compared, sections aligned by name, and the
// error codes of PROTOCOL.md for bad input.
import { describe, expect, it } from 'vitest';
import { readJson, startServer, type TestServer } from '@keruta/testing';

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
  return { status: response.status, body: await readJson(response), type: response.headers.get('content-type') };
}

const started = { source: 'agent', level: 'INFO', message: 'started', metadata: { event: 'started' } };
const exited = (code: number) => ({ source: 'agent', level: code === 0 ? 'INFO' : 'ERROR', message: `exited with code ${code}`, metadata: { event: 'exited', exitCode: code } });
const out = (message: string, level = 'INFO') => ({ source: 'stdout', level, message });

/** One run of the job: what changes between runs (times, ids, counts) differs in every line. */
function run(n: number, test: string[], exitCode: number) {
  return [
    started,
    out(`Run ${n} at 2024-05-0${n}T10:00:00.000Z on runner 3f9a2c${n}e`),
    out('::group::Install'),
    out(`added ${100 + n} packages in ${n}.4s`),
    out('::endgroup::'),
    out('::group::Test'),
    ...test.map((line) => out(line, line.startsWith('FAIL') ? 'ERROR' : 'INFO')),
    out('::endgroup::'),
    exited(exitCode),
  ];
}

async function seedJob(server: TestServer) {
  await post(server, 'build-1840', run(1, ['PASS a.test.ts (12 ms)', 'PASS b.test.ts (30 ms)', 'PASS c.test.ts (8 ms)'], 0));
  await post(server, 'build-1841', run(2, ['PASS a.test.ts (14 ms)', 'PASS b.test.ts (31 ms)', 'PASS c.test.ts (9 ms)'], 0));
  await post(server, 'build-1842', run(3, ['PASS a.test.ts (13 ms)', 'FAIL b.test.ts (45 ms)', '  expected 1, got 2', 'PASS c.test.ts (7 ms)'], 1));
  await post(server, 'deploy-9', run(4, [], 0));
}

describe('GET /api/v1/tasks/{taskId}/compare', () => {
  it('compares with the last succeeded run of the job by default, by section, on normalised lines', async () => {
    await using server = await startServer();
    await seedJob(server);
    const { status, body, type } = await get(server, '/tasks/build-1842/compare');
    expect(status).toBe(200);
    expect(type).toContain('application/json');
    expect(body.taskId).toBe('build-1842');
    expect(body.withTaskId).toBe('build-1841');
    expect(body.normalised).toEqual(['timestamps', 'uuids', 'hex ids', 'durations', 'numbers']);
    const byName = new Map(body.sections.map((s: { name: string | null }) => [s.name, s]));
    // Install differs only in numbers and a duration: the same after normalising.
    expect(byName.get('Install')).toMatchObject({ added: 0, removed: 0, lines: [] });
    const test = byName.get('Test') as { added: number; removed: number; lines: { op: string; text: string; seq?: number; withSeq?: number }[] };
    expect(test).toMatchObject({ added: 2, removed: 1 });
    expect(test.lines.filter((l) => l.op !== 'same').map((l) => [l.op, l.text])).toEqual([
      ['removed', 'PASS b.test.ts (31 ms)'],
      ['added', 'FAIL b.test.ts (45 ms)'],
      ['added', '  expected 1, got 2'],
    ]);
    expect(test.lines.find((l) => l.text.startsWith('FAIL'))?.seq).toBe(8);
    expect(test.lines.find((l) => l.op === 'same' && l.text.startsWith('PASS a'))).toMatchObject({ seq: 7, withSeq: 7 });
    // The runner line (timestamp, hex id) and the exit line (a number) are the same after normalising.
    expect(body.sections.filter((s: { name: string | null }) => s.name === null).map((s: { added: number; removed: number }) => s.added + s.removed)).toEqual([0, 0]);
    expect(body.totals).toEqual({ added: 2, removed: 1, taskLines: 12, withLines: 11 });
    expect(body.truncated).toBe(false);
  });

  it('compares with the task given by with, or the last succeeded one of withPrefix', async () => {
    await using server = await startServer();
    await seedJob(server);
    const given = await get(server, '/tasks/build-1842/compare?with=build-1840');
    expect(given.body.withTaskId).toBe('build-1840');
    const byPrefix = await get(server, '/tasks/build-1842/compare?withPrefix=deploy-');
    expect(byPrefix.body.withTaskId).toBe('deploy-9');
  });

  it('answers the error codes of the other task routes for bad input', async () => {
    await using server = await startServer();
    await seedJob(server);
    await post(server, 'nodash', [out('x')]);
    await post(server, 'lonely-1', [out('x')]);
    const cases: [string, number, string][] = [
      ['/tasks/nobody-1/compare', 404, 'TASK_NOT_FOUND'],
      ['/tasks/build-1842/compare?with=nobody', 404, 'TASK_NOT_FOUND'],
      ['/tasks/build-1842/compare?with=bad%20id', 400, 'INVALID_TASK_ID'],
      ['/tasks/bad%20id/compare', 400, 'INVALID_TASK_ID'],
      ['/tasks/lonely-1/compare', 404, 'TASK_NOT_FOUND'],
      ['/tasks/nodash/compare', 400, 'INVALID_LOG_FORMAT'],
      ['/tasks/build-1842/compare?with=build-1840&withPrefix=build-', 400, 'INVALID_LOG_FORMAT'],
      ['/tasks/build-1842/compare?withPrefix=a*b', 400, 'INVALID_LOG_FORMAT'],
      ['/tasks/build-1842/compare?with=a&with=b', 400, 'INVALID_LOG_FORMAT'],
    ];
    for (const [path, status, code] of cases) {
      const answer = await get(server, path);
      expect([path, answer.status, answer.body.code]).toEqual([path, status, code]);
    }
  });
});
