// The summary client against a real keruta-api: the error index's page, every error through the
// cursor, and the server's error codes as KerutaClientError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '@keruta/testing';
import type { LogRequest } from '@keruta/protocol';
import { KerutaClientError, createRestClient, createSummaryClient, type SummaryClient } from '../src/index.js';

let server: TestServer;
let summaries: SummaryClient;

beforeAll(async () => {
  server = await startServer();
  summaries = createSummaryClient({ baseUrl: server.apiUrl });
  const at = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();
  const entries: LogRequest[] = [{ source: 'stdout', level: 'INFO', message: '::group::Test', timestamp: at(0) }];
  for (let i = 1; i <= 30; i += 1) entries.push({ source: 'stdout', level: i % 3 === 0 ? 'ERROR' : 'INFO', message: `line ${i}`, timestamp: at(i) });
  entries.push({ source: 'stdout', level: 'INFO', message: '::endgroup::', timestamp: at(31) });
  await createRestClient({ baseUrl: server.apiUrl }).postLogs('client-summary', entries);
});

afterAll(async () => {
  await server.close();
});

describe('createSummaryClient', () => {
  it('reads the summary with its first failure and sections', async () => {
    const summary = await summaries.getSummary('client-summary', { context: 1 });
    expect(summary.counts).toEqual({ errors: 10, annotations: 0, groups: 1, failedGroups: 1 });
    expect(summary.firstFailure?.seq).toBe(4);
    expect(summary.firstFailure?.lines.map((e) => e.message)).toEqual(['line 2', 'line 3', 'line 4']);
    expect(summary.groups).toEqual([expect.objectContaining({ name: 'Test', status: 'failed', durationMs: 31_000, errorCount: 10 })]);
  });

  it('iterates every error through the cursor', async () => {
    const seqs: number[] = [];
    for await (const error of summaries.iterateErrors('client-summary', { pageSize: 3 })) seqs.push(error.seq);
    expect(seqs).toEqual([4, 7, 10, 13, 16, 19, 22, 25, 28, 31]);
  });

  it('reads the failures with their context', async () => {
    const page = await summaries.getErrorContext('client-summary', { context: 1, size: 2 });
    // Errors at 4 and 7: their windows touch, and are one.
    expect(page.windows.map((w) => [w.fromSeq, w.toSeq, w.errors.length])).toEqual([[3, 8, 2]]);
    expect(page.nextErrorsAfter).toBe(7);
  });

  it('compares with another run', async () => {
    const rest = createRestClient({ baseUrl: server.apiUrl });
    await rest.postLogs('job-1', [{ source: 'stdout', level: 'INFO', message: 'same' }, { source: 'stdout', level: 'INFO', message: 'old only' }]);
    await rest.postLogs('job-2', [{ source: 'stdout', level: 'INFO', message: 'same' }, { source: 'stdout', level: 'ERROR', message: 'new only' }]);
    const result = await summaries.compare('job-2', { with: 'job-1' });
    expect(result.withTaskId).toBe('job-1');
    expect(result.sections[0]?.lines.map((l) => [l.op, l.text])).toEqual([
      ['same', 'same'],
      ['removed', 'old only'],
      ['added', 'new only'],
    ]);
    // No succeeded run of job- (these have no agent events): the server's TASK_NOT_FOUND.
    await expect(summaries.compare('job-2')).rejects.toMatchObject({ code: 'TASK_NOT_FOUND', status: 404 });
    await expect(summaries.compare('job-2', { with: 'bad id' })).rejects.toMatchObject({ code: 'INVALID_TASK_ID' });
  });

  it('throws the server code for an unknown task and a bad parameter', async () => {
    await expect(summaries.getSummary('nobody')).rejects.toMatchObject({ code: 'TASK_NOT_FOUND', status: 404 });
    const bad = await summaries.getSummary('client-summary', { context: 500 }).catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(KerutaClientError);
    expect(bad).toMatchObject({ code: 'INVALID_LOG_FORMAT', status: 400 });
    await expect(summaries.getSummary('bad id')).rejects.toMatchObject({ code: 'INVALID_TASK_ID' });
  });
});
