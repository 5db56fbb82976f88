// One server-wide budget for what subscribers hold unsent: a crowd of subscribers that stop
// reading is closed with SLOW_CONSUMER, the slowest first, before it can grow the server's memory,
// and the writer is never held up by it.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { connectClient, spawnServer } from '@keruta/testing';
import { sleep } from '@keruta/testing/base';

const SUBSCRIBERS = 200;
const LINES = 20_000;
const BATCH = 500;

function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** A subscriber that keeps only what the test checks: the seqs in order, its error and its close. */
interface Watcher {
  ws: WebSocket;
  socket: Socket;
  /** The last seq received; every seq before it was received once, in order. */
  lastSeq: number;
  inOrder: boolean;
  errors: string[];
  closed: Promise<number>;
}

async function watch(url: string): Promise<Watcher> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const watcher: Watcher = {
    ws,
    socket: (ws as unknown as { _socket: Socket })._socket,
    lastSeq: 0,
    inOrder: true,
    errors: [],
    closed: new Promise((resolve) => ws.once('close', (code) => resolve(code))),
  };
  let subscribed: () => void = () => {};
  const ready = new Promise<void>((resolve) => (subscribed = resolve));
  ws.on('message', (data) => {
    const text = data.toString();
    const seq = /^\{"type":"log",.*?"seq":(\d+)/.exec(text)?.[1];
    if (seq !== undefined) {
      if (Number(seq) !== watcher.lastSeq + 1) watcher.inOrder = false;
      watcher.lastSeq = Number(seq);
      return;
    }
    const message = JSON.parse(text) as { type: string; code?: string };
    if (message.type === 'subscribed') subscribed();
    if (message.type === 'error') watcher.errors.push(message.code ?? '');
  });
  ws.send(JSON.stringify({ type: 'subscribe', options: { since: 0 } }));
  await ready;
  return watcher;
}

describe('the server-wide subscriber buffer budget', () => {
  it(`closes ${SUBSCRIBERS} subscribers that stop reading with SLOW_CONSUMER while ${LINES} lines are written, acknowledges every write and keeps RSS growth bounded`, async () => {
    await using server = await spawnServer({
      env: { KERUTA_SUBSCRIBER_BUFFER_BYTES: String(8 * 1024 * 1024), KERUTA_SLOW_CONSUMER_TIMEOUT_MS: '600000' },
    });
    const pid = server.pid ?? 0;
    const watchers: Watcher[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) watchers.push(await watch(`${server.wsUrl}/crowd`));
    for (const watcher of watchers) watcher.socket.pause();
    const before = memory(pid);

    await using agent = await connectClient(`${server.wsUrl}/crowd`);
    const started = performance.now();
    for (let first = 1; first <= LINES; first += BATCH) {
      const entries = Array.from({ length: BATCH }, (_, i) => ({
        source: 'stdout',
        level: 'INFO',
        message: `line ${first + i} ${'x'.repeat(1000)}`,
        runId: 'crowd',
        runSeq: first + i,
      }));
      agent.send({ type: 'logs', batchId: `b${first}`, entries });
    }
    await agent.waitFor((m) => m.type === 'ack' && m.lastSeq === LINES, 120_000);
    const writeMs = performance.now() - started;
    const slowConsumers = async () =>
      Number(/^keruta_slow_consumers_total (\d+)/m.exec(await (await fetch(`${server.baseUrl}/metrics`)).text())?.[1]);
    // The slowest are closed while the lines are written; the few left within the budget would
    // wait for their own 10-minute timeout, but every one of them holds at most its high-water mark.
    // (Frames a peer has not confirmed by a pong count against the budget once the ping is
    // PONG_GRACE_MS late: the last cuts may come just after the last write.)
    let closedByBudget = await slowConsumers();
    for (const until = Date.now() + 15_000; closedByBudget < SUBSCRIBERS - 8 && Date.now() < until; ) {
      await sleep(100);
      closedByBudget = await slowConsumers();
    }
    const after = memory(pid);
    const growth = after.peak - before.rss;
    console.log(
      `${SUBSCRIBERS} never-reading subscribers, ${LINES} lines of 1 KB: written in ${Math.round(writeMs)} ms, ` +
        `${closedByBudget} closed with SLOW_CONSUMER, server RSS ${Math.round(before.rss / 2 ** 20)} MB before, peak ${Math.round(after.peak / 2 ** 20)} MB`,
    );

    for (const watcher of watchers) watcher.socket.resume();
    const codes = await Promise.all(watchers.map((w) => Promise.race([w.closed, new Promise<number>((resolve) => setTimeout(() => resolve(0), 20_000))])));
    const stillOpen = watchers.filter((_, i) => codes[i] === 0);
    for (const watcher of stillOpen) watcher.ws.terminate();

    // Every line written is answered, and what each subscriber got is a gap-free prefix to resume from.
    expect(watchers.every((w) => w.inOrder)).toBe(true);
    expect(watchers.flatMap((w) => w.errors).filter((code) => code !== 'SLOW_CONSUMER')).toEqual([]);
    // All but those the budget still holds (8 MB over a 1 MB high-water mark) are closed.
    expect(closedByBudget).toBeGreaterThanOrEqual(SUBSCRIBERS - 8);
    expect(SUBSCRIBERS - stillOpen.length).toBeGreaterThanOrEqual(SUBSCRIBERS - 8);
    expect(codes.filter((code) => code !== 0 && code !== 4008 && code !== 1006)).toEqual([]);
    // 200 x 20 MB of frames would be 4 GB; unbounded, it was 580 MB at 300-byte lines.
    expect(growth).toBeLessThan(200 * 1024 * 1024);
  }, 240_000);
});
