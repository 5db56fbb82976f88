// `keruta search` run as a child process against a real keruta-api: lines of every task, newest
// first, following the server's cursor, narrowed by tasks and levels; bad flags exit 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '@keruta/testing';
import type { LogEntry } from '@keruta/protocol';
import { createRestClient, type RestClient } from '../src/index.js';
import { runKeruta } from './cli-process.js';
import { waitUntil } from './helpers.js';

let server: TestServer;
let rest: RestClient;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startServer();
  rest = createRestClient({ baseUrl: server.apiUrl });
  env = { KERUTA_API_URL: server.apiUrl };
  await rest.postLogs('build-1', [
    { source: 'stdout', level: 'INFO', message: 'compiling' },
    { source: 'stderr', level: 'ERROR', message: 'src/a.ts:3:5 - error TS2304: Cannot find name "x"' },
  ]);
  await rest.postLogs('build-2', [{ source: 'stderr', level: 'ERROR', message: 'src/b.ts:9:1 - error TS2304: Cannot find name "y"' }]);
  await rest.postLogs('deploy-1', Array.from({ length: 1500 }, (_, i) => ({ source: 'stdout' as const, level: 'WARN' as const, message: `retrying TS2304 lookup ${i}` })));
  // The search index takes lines in just after they are stored.
  await waitUntil(async () => {
    const page = await rest.search({ q: 'lookup 1499' });
    return page.pending === 0 && page.results.length > 0;
  }, 'the lines to reach the search index');
});

afterAll(async () => {
  await server.close();
});

describe('keruta search', () => {
  it('prints TASK TIMESTAMP SOURCE LEVEL message, newest first, within --tasks and --level', async () => {
    const result = await runKeruta(['search', 'cannot find name', '--tasks', 'build-*'], env);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^build-2 \d{4}-\d\d-\d\dT\S+ stderr ERROR src\/b\.ts:9:1 - error TS2304: Cannot find name "y"$/);
    expect(lines[1]).toMatch(/^build-1 \S+ stderr ERROR src\/a\.ts:3:5/);
    const errors = await runKeruta(['search', 'TS2304', '--level', 'ERROR', '-o', 'json'], env);
    expect(errors.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as LogEntry).taskId)).toEqual(['build-2', 'build-1']);
  });

  it('follows the cursor past one page up to --limit, and with --regex matches a pattern', async () => {
    const many = await runKeruta(['search', 'retrying', '--limit', '1200', '-o', 'raw'], env);
    const lines = many.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1200);
    expect(lines[0]).toBe('deploy-1 retrying TS2304 lookup 1499');
    expect(new Set(lines).size).toBe(1200);
    const regex = await runKeruta(['search', 'lookup 14[0-9]9$', '--regex', '-o', 'raw'], env);
    expect(regex.stdout.trimEnd().split('\n')).toEqual(Array.from({ length: 10 }, (_, i) => `deploy-1 retrying TS2304 lookup 14${9 - i}9`));
  });

  it('says so when nothing matches, and exits 2 on bad flags and 1 on a pattern the server refuses', async () => {
    const none = await runKeruta(['search', 'no such line anywhere'], env);
    expect([none.code, none.stdout, none.stderr]).toEqual([0, '', 'keruta: no line matches\n']);
    expect((await runKeruta(['search', 'x', '--limit', '0'], env)).code).toBe(2);
    expect((await runKeruta(['search', 'x', '--since', 'soon'], env)).code).toBe(2);
    const refused = await runKeruta(['search', '(a+)+', '--regex'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/INVALID_LOG_FORMAT: .*q: a repeated group/);
  });
});
