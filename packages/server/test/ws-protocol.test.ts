// The WebSocket messages of PROTOCOL.md §4 and their errors, one behaviour per test.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectClient, startServer, readJson } from '@keruta/testing';
import { sleep } from '@keruta/testing/base';
import type { AckMessage, ErrorMessage, TaskMessage } from '@keruta/protocol';

const entry = (runSeq: number, extra: Record<string, unknown> = {}) => ({
  source: 'stdout',
  level: 'INFO',
  message: `m${runSeq}`,
  runId: 'run-1',
  runSeq,
  ...extra,
});

describe('WebSocket /ws/tasks/{taskId}', () => {
  it('acknowledges an agent batch only after storing it, and a resent batch as duplicates', async () => {
    await using server = await startServer();
    await using agent = await connectClient(`${server.wsUrl}/ack`);
    agent.send({ type: 'logs', batchId: 'b1', entries: [entry(1), entry(2), entry(3)] });
    const ack = await agent.waitFor<AckMessage>((m) => m.type === 'ack' && m.batchId === 'b1');
    expect(ack).toMatchObject({ accepted: 3, duplicates: 0, lastSeq: 3 });
    const stored = await readJson(fetch(`${server.apiUrl}/tasks/ack/logs`));
    expect(stored.totalElements).toBe(3);
    agent.send({ type: 'logs', batchId: 'b1-again', entries: [entry(2), entry(3), entry(4)] });
    const again = await agent.waitFor<AckMessage>((m) => m.type === 'ack' && m.batchId === 'b1-again');
    expect(again).toMatchObject({ accepted: 1, duplicates: 2, lastSeq: 4 });
  });

  it('acknowledges a single log message and stores it with the connection task id', async () => {
    await using server = await startServer();
    await using agent = await connectClient(`${server.wsUrl}/single`);
    agent.send({ type: 'log', ...entry(1), batchId: 'one' });
    const ack = await agent.waitFor<AckMessage>((m) => m.type === 'ack');
    expect(ack).toMatchObject({ batchId: 'one', accepted: 1, lastSeq: 1 });
  });

  it('closes the connection after a batch the store could not take, so that a writer resends in order', async () => {
    await using server = await startServer();
    await using agent = await connectClient(`${server.wsUrl}/broken`);
    agent.send({ type: 'logs', batchId: 'ok', entries: [entry(1)] });
    await agent.waitFor((m) => m.type === 'ack');
    await server.server.store.close();
    const closed = new Promise<number>((resolve) => agent.ws.once('close', (code) => resolve(code)));
    agent.send({ type: 'logs', batchId: 'fails', entries: [entry(2)] });
    agent.send({ type: 'logs', batchId: 'behind', entries: [entry(3)] });
    expect(await agent.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'DATABASE_ERROR', batchId: 'fails' });
    expect(await closed).toBe(1011);
    expect(agent.messages.filter((m) => m.type === 'ack').map((m) => (m as AckMessage).batchId)).toEqual(['ok']);
  });

  it('answers ping with pong and sends its own ping every heartbeat interval', async () => {
    await using server = await startServer({ config: { heartbeatIntervalMs: 100 } });
    await using client = await connectClient(`${server.wsUrl}/beat`);
    client.send({ type: 'ping' });
    await client.waitFor((m) => m.type === 'pong');
    const ping = await client.waitFor((m) => m.type === 'ping');
    expect(typeof (ping as { timestamp: string }).timestamp).toBe('string');
  });

  it('tells subscribers when a task starts and ends, from the agent events', async () => {
    await using server = await startServer();
    await using watcher = await connectClient(`${server.wsUrl}/status`);
    watcher.send({ type: 'subscribe' });
    await watcher.waitFor((m) => m.type === 'subscribed');
    await using agent = await connectClient(`${server.wsUrl}/status`);
    agent.send({ type: 'logs', batchId: 'a', entries: [entry(1, { source: 'agent', message: 'started', metadata: { event: 'started' } })] });
    const started = await watcher.waitFor<TaskMessage>((m) => m.type === 'task');
    expect(started).toMatchObject({ taskId: 'status', status: 'running' });
    agent.send({ type: 'logs', batchId: 'b', entries: [entry(2, { source: 'agent', message: 'exited with code 3', metadata: { event: 'exited', exitCode: 3 } })] });
    const ended = await watcher.waitFor<TaskMessage>((m) => m.type === 'task' && m.status !== 'running');
    expect(ended).toMatchObject({ status: 'failed', exitCode: 3, lastSeq: 2 });
    const summary = await readJson(fetch(`${server.apiUrl}/tasks/status`));
    expect(summary).toMatchObject({ status: 'failed', exitCode: 3, totalLogs: 2, lastSeq: 2 });
  });

  it('stops sending after unsubscribe', async () => {
    await using server = await startServer();
    await using client = await connectClient(`${server.wsUrl}/unsub`);
    client.send({ type: 'subscribe' });
    await client.waitFor((m) => m.type === 'subscribed');
    client.send({ type: 'unsubscribe', taskId: 'unsub' });
    await client.waitFor((m) => m.type === 'unsubscribed');
    await fetch(`${server.apiUrl}/tasks/unsub/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entry(1)) });
    await sleep(100);
    expect(client.entries).toHaveLength(0);
  });

  it.each([
    ['not JSON', '{oops', 'INVALID_MESSAGE_FORMAT', 'JSON'],
    ['a JSON array', '[1,2]', 'INVALID_MESSAGE_FORMAT', 'type'],
    ['an unknown type', '{"type":"hello"}', 'INVALID_MESSAGE_FORMAT', 'type'],
    ['a subscribe with a bad level', '{"type":"subscribe","options":{"levels":["LOUD"]}}', 'INVALID_MESSAGE_FORMAT', 'options.levels[0]'],
    ['a subscribe with a negative since', '{"type":"subscribe","options":{"since":-1}}', 'INVALID_MESSAGE_FORMAT', 'options.since'],
    ['a subscribe to a bad task id', '{"type":"subscribe","taskId":"no spaces"}', 'INVALID_TASK_ID', 'taskId'],
    ['a log without a message', '{"type":"log","source":"stdout","level":"INFO"}', 'INVALID_LOG_FORMAT', 'message'],
    ['a batch with a bad entry', '{"type":"logs","batchId":"x","entries":[{"source":"stdout","level":"INFO","message":"ok"},{"source":"disk","level":"INFO","message":"no"}]}', 'INVALID_LOG_FORMAT', 'entries[1].source'],
    ['a batch with runId but no runSeq', '{"type":"logs","batchId":"x","entries":[{"source":"stdout","level":"INFO","message":"ok","runId":"r"}]}', 'INVALID_LOG_FORMAT', 'runSeq'],
    ['a batch with a bad timestamp', '{"type":"logs","batchId":"x","entries":[{"source":"stdout","level":"INFO","message":"ok","timestamp":"yesterday"}]}', 'INVALID_LOG_FORMAT', 'timestamp'],
  ])('answers %s with %s naming the field, and keeps the connection open', async (_name, text, code, field) => {
    await using server = await startServer();
    await using client = await connectClient(`${server.wsUrl}/errors`);
    client.send(text);
    const error = await client.waitFor<ErrorMessage>((m) => m.type === 'error');
    expect(error.code).toBe(code);
    expect(error.message).toContain(field);
    client.send({ type: 'ping' });
    await client.waitFor((m) => m.type === 'pong');
    const stored = await fetch(`${server.apiUrl}/tasks/errors/logs`);
    expect(stored.status).toBe(404);
  });

  it('answers a frame over the size limit with MESSAGE_TOO_LARGE', async () => {
    await using server = await startServer({ config: { maxBodyBytes: 64 * 1024 } });
    await using client = await connectClient(`${server.wsUrl}/big`);
    client.send({ type: 'logs', batchId: 'big', entries: [{ source: 'stdout', level: 'INFO', message: 'z'.repeat(100_000) }] });
    const error = await client.waitFor<ErrorMessage>((m) => m.type === 'error');
    expect(error.code).toBe('MESSAGE_TOO_LARGE');
  });

  it('refuses a task id outside the allowed form in the path with INVALID_TASK_ID', async () => {
    await using server = await startServer();
    await using client = await connectClient(`${server.wsUrl}/${'x'.repeat(129)}`);
    const error = await client.waitFor<ErrorMessage>((m) => m.type === 'error');
    expect(error.code).toBe('INVALID_TASK_ID');
    const code = await new Promise<number>((resolve) => client.ws.once('close', (c) => resolve(c)));
    expect(code).toBe(4400);
  });

  it('answers an upgrade on an unknown path with 404', async () => {
    await using server = await startServer();
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws/elsewhere`);
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)).once('error', () => resolve(-1)));
    expect(status).toBe(404);
  });

  it('closes subscribers with 1001 when the server shuts down', async () => {
    const server = await startServer();
    const client = await connectClient(`${server.wsUrl}/bye`);
    client.send({ type: 'subscribe' });
    await client.waitFor((m) => m.type === 'subscribed');
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    await server.close();
    expect(await closed).toBe(1001);
  });

  it('subscribes to a task with no logs yet and delivers its lines when they arrive', async () => {
    await using server = await startServer();
    await using client = await connectClient(`${server.wsUrl}/later`);
    client.send({ type: 'subscribe', options: { since: 0 } });
    const subscribed = await client.waitFor((m) => m.type === 'subscribed');
    expect(subscribed).toMatchObject({ taskId: 'later', lastSeq: 0 });
    await fetch(`${server.apiUrl}/tasks/later/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([entry(1), entry(2)]) });
    await client.waitForEntries(2);
    expect(client.messages.filter((m) => m.type === 'log').map((m) => (m as { seq: number }).seq)).toEqual([1, 2]);
  });

  it('sends text beyond ASCII byte for byte, live and from history, one line a message and in batches', async () => {
    await using server = await startServer();
    const texts = ['ビルド成功 ✅', 'naïve café — 100 €', 'plain ascii', '𝄞 emoji 🚀 and \u0000 NUL'];
    await fetch(`${server.apiUrl}/tasks/utf8/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(texts.slice(0, 2).map((message, i) => entry(i + 1, { message }))) });
    await using lines = await connectClient(`${server.wsUrl}/utf8`);
    await using batches = await connectClient(`${server.wsUrl}/utf8`);
    lines.send({ type: 'subscribe', options: { since: 0 } });
    batches.send({ type: 'subscribe', options: { since: 0, batch: true } });
    await lines.waitFor((m) => m.type === 'subscribed');
    await batches.waitFor((m) => m.type === 'subscribed');
    await fetch(`${server.apiUrl}/tasks/utf8/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(texts.slice(2).map((message, i) => entry(i + 3, { message }))) });
    await lines.waitForEntries(4);
    await batches.waitForEntries(4);
    const messagesOf = (client: typeof lines) =>
      client.messages.flatMap((m) => (m.type === 'log' ? [m.message] : m.type === 'logs' ? m.entries.map((e) => e.message) : []));
    expect(messagesOf(lines)).toEqual(texts);
    expect(messagesOf(batches)).toEqual(texts);
  });
});
