// The line a script is still writing (docs/live-partial-lines.md): an agent's `partial` reaches the
// subscribers that asked for it with `options.partial`, on this instance and through Redis on
// another, and is never stored, never in history and never sent to anyone who did not ask.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { connectClient, makeTempDir, readJson, redisAnswers, startServer, TEST_REDIS_URL, warnRedisMissing, type RecordingClient, type TestServer } from '@keruta/testing';
import type { AckMessage, ErrorMessage, PartialMessage, SubscribedMessage } from '@keruta/protocol';

const RUN = '5d0c4a52-1111-4d8e-9f6a-0c1d2e3f4a5b';
const partial = (text: string, lineNumber = 1) => ({
  type: 'partial',
  source: 'stdout',
  runId: RUN,
  lineNumber,
  text,
  timestamp: new Date().toISOString(),
});
const line = (message: string, runSeq: number) => ({ source: 'stdout', level: 'INFO', message, runId: RUN, runSeq, lineNumber: runSeq });

async function subscribe(server: TestServer, taskId: string, options: Record<string, unknown>): Promise<RecordingClient> {
  const client = await connectClient(`${server.wsUrl}/${taskId}`);
  client.send({ type: 'subscribe', options: { batch: true, ...options } });
  await client.waitFor<SubscribedMessage>((m) => m.type === 'subscribed');
  return client;
}

const partials = (client: RecordingClient): PartialMessage[] => client.messages.filter((m): m is PartialMessage => m.type === 'partial');

describe('partial lines over the WebSocket', () => {
  it('relays an agent partial to a subscriber with partial:true only, and never stores it or sends it as history', async () => {
    await using server = await startServer();
    await using watcher = await subscribe(server, 'bar', { partial: true });
    await using plain = await subscribe(server, 'bar', {});
    await using agent = await connectClient(`${server.wsUrl}/bar`);
    agent.send(partial('progress 10%'));
    agent.send(partial('progress 50%'));
    const seen = await watcher.waitFor<PartialMessage>((m) => m.type === 'partial' && m.text === 'progress 50%');
    expect(seen).toMatchObject({ type: 'partial', taskId: 'bar', source: 'stdout', runId: RUN, lineNumber: 1 });
    expect(Object.keys(seen).sort()).toEqual(['lineNumber', 'runId', 'source', 'taskId', 'text', 'timestamp', 'type']);

    agent.send({ type: 'logs', batchId: 'b1', entries: [line('progress 100%', 1)] });
    await agent.waitFor<AckMessage>((m) => m.type === 'ack');
    await watcher.waitForEntries(1);
    await plain.waitForEntries(1);
    expect(partials(watcher).map((m) => m.text)).toEqual(['progress 10%', 'progress 50%']);
    expect(plain.messages.map((m) => m.type)).toEqual(['subscribed', 'logs']);

    const stored = await readJson(fetch(`${server.apiUrl}/tasks/bar/logs`));
    expect(stored.content.map((e: { message: string }) => e.message)).toEqual(['progress 100%']);
    await using late = await subscribe(server, 'bar', { partial: true, since: 0, realtime: false });
    await late.waitForEntries(1);
    expect(late.entries.map((e) => e.message)).toEqual(['progress 100%']);
    expect(partials(late)).toEqual([]);
  });

  it('never queues partials for a subscriber that is not reading: only those its socket took at once arrive', async () => {
    const { defineConfig } = await import('keruta-api');
    await using server = await startServer({ config: { maxMessageLength: 65_536, security: { ...defineConfig().security, wsMessagesPerSecond: 100_000 } } });
    await using watcher = await subscribe(server, 'slow', { partial: true });
    await using agent = await connectClient(`${server.wsUrl}/slow`);
    // The watcher stops reading: the kernel's buffers fill, then the server's queue would.
    (watcher.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const sent = 500;
    const text = 'x'.repeat(65_000);
    for (let i = 1; i <= sent; i++) agent.send(partial(`${i} ${text}`));
    agent.send({ type: 'logs', batchId: 'after', entries: [line('progress 100%', 1)] });
    await agent.waitFor<AckMessage>((m) => m.type === 'ack', 30_000);
    (watcher.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await watcher.waitForEntries(1, 30_000);
    const received = partials(watcher).length;
    console.log(`partials received by a subscriber that was not reading: ${received} of ${sent} (64 KB each)`);
    expect(received).toBeGreaterThan(0);
    // What the kernel's socket buffers held (a few MB) at most, not the 32 MB sent.
    expect(received).toBeLessThan(sent / 2);
    expect(watcher.ws.readyState).toBe(watcher.ws.OPEN);
  });

  it('sends a subscriber with a sources filter only the partials of those sources', async () => {
    await using server = await startServer();
    await using watcher = await subscribe(server, 'sources', { partial: true, sources: ['stderr'] });
    await using agent = await connectClient(`${server.wsUrl}/sources`);
    agent.send(partial('on stdout'));
    agent.send({ ...partial('on stderr'), source: 'stderr' });
    await watcher.waitFor((m) => m.type === 'partial');
    await sleep(200);
    expect(partials(watcher).map((m) => [m.source, m.text])).toEqual([['stderr', 'on stderr']]);
  });

  it('cuts a partial to the longest line the server keeps', async () => {
    await using server = await startServer({ config: { maxMessageLength: 10 } });
    await using watcher = await subscribe(server, 'long', { partial: true });
    await using agent = await connectClient(`${server.wsUrl}/long`);
    agent.send(partial('x'.repeat(50)));
    expect((await watcher.waitFor<PartialMessage>((m) => m.type === 'partial')).text).toBe('x'.repeat(10));
  });

  it('refuses a malformed partial with INVALID_MESSAGE_FORMAT naming the field, and relays nothing', async () => {
    await using server = await startServer();
    await using watcher = await subscribe(server, 'bad', { partial: true });
    await using agent = await connectClient(`${server.wsUrl}/bad`);
    agent.send({ ...partial('x'), lineNumber: 'one' });
    agent.send({ ...partial('x'), timestamp: 'yesterday' });
    const errors = [await agent.waitFor<ErrorMessage>((m) => m.type === 'error'), await agent.waitFor<ErrorMessage>((m) => m.type === 'error' && m.message.startsWith('timestamp'))];
    expect(errors[0]).toMatchObject({ code: 'INVALID_MESSAGE_FORMAT' });
    expect(errors[0]?.message).toMatch(/^lineNumber: /);
    expect(errors[1]).toMatchObject({ code: 'INVALID_MESSAGE_FORMAT' });
    await sleep(200);
    expect(partials(watcher)).toEqual([]);
  });

  it('needs logs:write: a partial from a read-only credential is FORBIDDEN and not relayed', async () => {
    const secret = 'partial-secret-of-32-characters!';
    const token = (scope: string) =>
      new SignJWT({ scope }).setProtectedHeader({ alg: 'HS256' }).setSubject('t').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    await using server = await startServer({ config: { auth: { mode: 'jwt', jwtSecret: secret } } });
    const reader = { authorization: `Bearer ${await token('logs:read')}` };
    await using watcher = await connectClient(`${server.wsUrl}/auth`, { headers: reader });
    watcher.send({ type: 'subscribe', options: { partial: true } });
    await watcher.waitFor((m) => m.type === 'subscribed');
    await using intruder = await connectClient(`${server.wsUrl}/auth`, { headers: reader });
    intruder.send(partial('not mine to write'));
    expect(await intruder.waitFor<ErrorMessage>((m) => m.type === 'error')).toMatchObject({ code: 'FORBIDDEN' });
    await using agent = await connectClient(`${server.wsUrl}/auth`, { headers: { authorization: `Bearer ${await token('logs:write')}` } });
    agent.send(partial('mine'));
    await watcher.waitFor((m) => m.type === 'partial');
    expect(partials(watcher).map((m) => m.text)).toEqual(['mine']);
  });
});

const redisUp = await redisAnswers();
if (!redisUp) warnRedisMissing('ws-partial.test.ts');

describe.skipIf(!redisUp)('partial lines through Redis', () => {
  it('reaches a partial subscriber on another instance and only that one', async () => {
    await using dir = await makeTempDir('keruta-partial-');
    const config = { busUrl: `${TEST_REDIS_URL}?channelPrefix=${encodeURIComponent(`keruta:test:${randomUUID()}:`)}` };
    await using a = await startServer({ dataDir: dir.path, config });
    await using b = await startServer({ dataDir: dir.path, config });
    await using watcher = await subscribe(b, 'fan', { partial: true });
    await using plain = await subscribe(b, 'fan', {});
    await b.server.bus.settled();
    await using agent = await connectClient(`${a.wsUrl}/fan`);
    // Published before b's channel subscription took effect a partial is gone (it is a hint, not
    // kept): send until one arrives.
    for (let i = 1; partials(watcher).length === 0 && i <= 50; i++) {
      agent.send(partial(`progress ${i}%`));
      await sleep(100);
    }
    expect(partials(watcher).length).toBeGreaterThan(0);
    expect(partials(watcher)[0]).toMatchObject({ taskId: 'fan', source: 'stdout', runId: RUN, lineNumber: 1 });
    agent.send({ type: 'logs', batchId: 'b1', entries: [line('progress 100%', 1)] });
    await plain.waitForEntries(1);
    expect(plain.messages.map((m) => m.type)).toEqual(['subscribed', 'logs']);
  });
});
