// `keruta logs TASK --summary | --errors | --compare [OTHER]` run as child processes against a real
// keruta-api: where a failed run broke, from the server's error index, and what differs from the
// last run that succeeded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '@keruta/testing';
import type { LogRequest, TaskCompare } from '@keruta/protocol';
import { createRestClient } from '../src/index.js';
import { runKeruta } from './cli-process.js';

let server: TestServer;
let env: Record<string, string>;

const exited = (exitCode: number): LogRequest => ({ source: 'agent', level: 'INFO', message: `exited with ${exitCode}`, metadata: { event: 'exited', exitCode } });
const out = (message: string, level: LogRequest['level'] = 'INFO'): LogRequest => ({ source: 'stdout', level, message });

beforeAll(async () => {
  server = await startServer();
  env = { KERUTA_API_URL: server.apiUrl };
  const rest = createRestClient({ baseUrl: server.apiUrl });
  const run = (test: LogRequest[], code: number): LogRequest[] => [
    out('::group::build'),
    out('compiling 12 files in 340 ms'),
    out('::endgroup::'),
    out('::group::test'),
    ...test,
    out('::endgroup::'),
    exited(code),
  ];
  await rest.postLogs('job-1', run([out('test a ok'), out('test b ok'), out('test c ok')], 0));
  await rest.postLogs('job-2', run([out('test a ok'), out('test b failed: expected 2, got 3', 'ERROR'), out('test c ok'), out('FAIL 1 of 3', 'ERROR')], 1));
});

afterAll(async () => {
  await server.close();
});

describe('keruta logs --summary, --errors, --compare', () => {
  it('--summary says how many failures, shows the first with the lines around it, and each section', async () => {
    const result = await runKeruta(['logs', 'job-2', '--summary', '--context', '1'], env);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('job-2: 10 lines, 2 errors, 0 ::error:: annotations; 2 sections, 1 failed');
    expect(lines[1]).toBe('first failure at line 6 in section "test":');
    expect(lines.slice(2, 5).map((l) => l.replace(/\d{4}-\d\d-\d\dT\S+ /, 'T '))).toEqual([
      '       5 T stdout INFO  test a ok',
      '>      6 T stdout ERROR test b failed: expected 2, got 3',
      '       7 T stdout INFO  test c ok',
    ]);
    expect(lines[5]).toBe('sections:');
    expect(lines[6]).toMatch(/^ {2}✓ build +\d+ ms {2}line 1$/);
    expect(lines[7]).toMatch(/^ {2}✗ test +\d+ ms {2}line 4 {2}2 errors$/);
    // With --exit-status it also says how the task ended: 3, failed.
    expect((await runKeruta(['logs', 'job-2', '--summary', '--exit-status'], env)).code).toBe(3);
    const json = await runKeruta(['logs', 'job-2', '--summary', '-o', 'json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ taskId: 'job-2', counts: { errors: 2, groups: 2, failedGroups: 1 } });
  });

  it('--errors prints only the failures with the lines around them, windows apart by --', async () => {
    const result = await runKeruta(['logs', 'job-2', '--errors', '--context', '0', '--no-timestamps'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('>      6 stdout ERROR test b failed: expected 2, got 3\n--\n>      8 stdout ERROR FAIL 1 of 3\n');
    const none = await runKeruta(['logs', 'job-1', '--errors'], env);
    expect([none.code, none.stdout, none.stderr]).toEqual([0, '', 'keruta: no failure in the log of job-1\n']);
  });

  it('--compare diffs against the last succeeded run of the job, or the one named', async () => {
    const result = await runKeruta(['logs', 'job-2', '--compare'], env);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').slice(0, 2)).toEqual(['--- job-1', '+++ job-2']);
    expect(result.stdout).toContain('@@ test: +2 -1 @@');
    expect(result.stdout).toContain('+test b failed: expected 2, got 3');
    expect(result.stdout).toContain('-test b ok');
    expect(result.stdout).not.toContain('compiling');
    expect(result.stderr).toMatch(/^keruta: \d+ lines added and \d+ removed against job-1/);
    const json = await runKeruta(['logs', 'job-2', '--compare', 'job-1', '-o', 'json'], env);
    expect((JSON.parse(json.stdout) as TaskCompare).withTaskId).toBe('job-1');
  });

  it('refuses clashing flags with exit status 2', async () => {
    for (const args of [
      ['--summary', '--errors'],
      ['--summary', '-f'],
      ['--errors', '--tail', '5'],
      ['--compare', '-o', 'raw'],
      ['--context', '3'],
      ['--errors', '--context', '999'],
    ]) {
      const result = await runKeruta(['logs', 'job-2', ...args], env);
      expect([args.join(' '), result.code]).toEqual([args.join(' '), 2]);
    }
  });
});
