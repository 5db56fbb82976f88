// Numbers and shapes at and past the protocol's bounds: each is refused with a coded 4xx on REST
// and a coded error on the WebSocket (the connection stays open), never a 500, a 1011 close or a
// stored value that later lines inherit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, createTestDatabase, startServer, type TestDatabase, type TestServer } from '@keruta/testing';
import type { ErrorMessage } from '@keruta/protocol';

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

async function post(server: TestServer, taskId: string, body: string): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const response = await fetch(`${server.apiUrl}/tasks/${taskId}/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, body: (await response.json()) as { code?: string; message?: string } };
}

const entry = (fields: string): string => `{"source":"stdout","level":"INFO","message":"m"${fields}}`;

describe('input bounds', () => {
  it('answers metadata nested 10,000 deep with 400 INVALID_LOG_FORMAT on REST and an error on the WebSocket, keeping it open', async () => {
    await using server = await startServer();
    const rest = await post(server, 'deep', entry(`,"metadata":${nested(10_000)}`));
    expect(rest).toMatchObject({ status: 400, body: { code: 'INVALID_LOG_FORMAT' } });
    expect(rest.body.message).toMatch(/metadata/);
    // 32 levels are within the bound.
    expect((await post(server, 'deep', entry(`,"metadata":{"x":${nested(31)}}`))).status).toBe(201);

    await using ws = await connectClient(`${server.wsUrl}/deep`);
    ws.send(`{"type":"logs","batchId":"b1","entries":[${entry(`,"metadata":${nested(10_000)}`)}]}`);
    const batchError = await ws.waitFor<ErrorMessage>((m) => m.type === 'error');
    expect(batchError).toMatchObject({ code: 'INVALID_LOG_FORMAT', batchId: 'b1' });
    ws.send(`{"type":"log","source":"stdout","level":"INFO","message":"m","metadata":${nested(10_000)}}`);
    await ws.waitFor<ErrorMessage>((m) => m.type === 'error' && m !== batchError);
    ws.send({ type: 'ping' });
    await ws.waitFor((m) => m.type === 'pong');
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
    const codes = ws.messages.filter((m) => m.type === 'error').map((m) => (m as ErrorMessage).code);
    expect(codes).toEqual(['INVALID_LOG_FORMAT', 'INVALID_LOG_FORMAT']);
  });

  it('refuses lineNumber and runSeq of 1e300, 2^53 and beyond with 400 INVALID_LOG_FORMAT, and later lines stay safe integers', async () => {
    await using server = await startServer();
    for (const [field, value] of [
      ['lineNumber', '1e300'],
      ['lineNumber', '9007199254740992'],
      ['lineNumber', '9007199254740993'],
      ['lineNumber', '1e400'],
      ['runSeq', '1e300'],
      ['runSeq', '9007199254740993'],
    ] as const) {
      const fields = field === 'runSeq' ? `,"runId":"r","runSeq":${value}` : `,"lineNumber":${value}`;
      const result = await post(server, 'numbers', entry(fields));
      expect(result, `${field}=${value}`).toMatchObject({ status: 400, body: { code: 'INVALID_LOG_FORMAT' } });
      expect(result.body.message).toMatch(new RegExp(field));
    }
    // Nothing was stored by the refused lines: the first line is numbered 1.
    expect((await post(server, 'numbers', entry(''))).status).toBe(201);
    // The largest safe integer is stored as it is, and a line after it stays a safe integer.
    expect((await post(server, 'numbers', entry(',"lineNumber":9007199254740991,"runId":"r","runSeq":9007199254740991'))).status).toBe(201);
    expect((await post(server, 'numbers', entry(''))).status).toBe(201);
    const page = (await (await fetch(`${server.apiUrl}/tasks/numbers/logs`)).json()) as { content: { lineNumber: number; runSeq?: number }[] };
    expect(page.content.map((e) => e.lineNumber)).toEqual([1, 9007199254740991, 9007199254740991]);
    expect(page.content[1]?.runSeq).toBe(9007199254740991);

    await using ws = await connectClient(`${server.wsUrl}/numbers`);
    ws.send(`{"type":"logs","batchId":"big","entries":[${entry(',"runId":"w","runSeq":1e300')}]}`);
    expect(await ws.waitFor<ErrorMessage>((m) => m.type === 'error')).toMatchObject({ code: 'INVALID_LOG_FORMAT', batchId: 'big' });
    ws.send({ type: 'subscribe', options: { since: 1e300 } });
    const since = await ws.waitFor<ErrorMessage>((m) => m.type === 'error' && m.batchId === undefined);
    expect(since.code).toBe('INVALID_MESSAGE_FORMAT');
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
  });

  it('answers a WebSocket batch of 10,001 entries with MESSAGE_TOO_LARGE, as POST does with 413', async () => {
    await using server = await startServer();
    const entries = `[${Array.from({ length: 10_001 }, () => entry('')).join(',')}]`;
    const rest = await post(server, 'many', entries);
    expect(rest).toMatchObject({ status: 413, body: { code: 'MESSAGE_TOO_LARGE' } });
    await using ws = await connectClient(`${server.wsUrl}/many`);
    ws.send(`{"type":"logs","batchId":"many","entries":${entries}}`);
    const error = await ws.waitFor<ErrorMessage>((m) => m.type === 'error');
    expect(error.code).toBe('MESSAGE_TOO_LARGE');
    expect(error.message).toMatch(/10000/);
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
  });
});

describe('input bounds on a PostgreSQL store', () => {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('input-bounds.test.ts');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('answers lineNumber 1e300 and runSeq 2^53 + 1 with 400 INVALID_LOG_FORMAT, not the store\'s 500, and stores the largest safe integer exactly', async (context) => {
    if (db === undefined) return context.skip();
    await using server = await startServer({ config: { databaseUrl: db.url } });
    expect(await post(server, 'pg', entry(',"lineNumber":1e300'))).toMatchObject({ status: 400, body: { code: 'INVALID_LOG_FORMAT' } });
    expect(await post(server, 'pg', entry(',"runId":"r","runSeq":9007199254740993'))).toMatchObject({ status: 400, body: { code: 'INVALID_LOG_FORMAT' } });
    expect(await post(server, 'pg', entry(`,"metadata":${nested(10_000)}`))).toMatchObject({ status: 400, body: { code: 'INVALID_LOG_FORMAT' } });
    expect((await post(server, 'pg', entry(',"lineNumber":9007199254740991,"runId":"r","runSeq":9007199254740991'))).status).toBe(201);
    expect((await post(server, 'pg', entry(''))).status).toBe(201);
    const page = (await (await fetch(`${server.apiUrl}/tasks/pg/logs`)).json()) as { content: { lineNumber: number; runSeq?: number }[] };
    expect(page.content.map((e) => [e.lineNumber, e.runSeq])).toEqual([
      [9007199254740991, 9007199254740991],
      [9007199254740991, undefined],
    ]);
  });
});
