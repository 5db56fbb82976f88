// A million stored lines read back whole: the export streams with the server's memory flat, and
// neither an export nor a subscriber's catch-up from seq 0 holds the event loop while it runs.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectClient, spawnServer, type SpawnedServer } from '@keruta/testing';
import { sleep } from '@keruta/testing/base';

function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

const LINES = 1_000_000;
let server: SpawnedServer;

beforeAll(async () => {
  server = await spawnServer();
  await using agent = await connectClient(`${server.wsUrl}/million`);
  const batch = 5000;
  for (let first = 1; first <= LINES; first += batch) {
    const entries = Array.from({ length: batch }, (_, i) => ({
      source: 'stdout',
      level: 'INFO',
      message: `line ${first + i} ${'e'.repeat(80)}`,
      runId: 'export',
      runSeq: first + i,
    }));
    agent.send({ type: 'logs', batchId: String(first), entries });
    if (first % 100_000 === 1) await agent.waitFor((m) => m.type === 'ack' && m.batchId === String(first), 60_000);
  }
  await agent.waitFor((m) => m.type === 'ack' && m.lastSeq === LINES, 120_000);
}, 180_000);

afterAll(async () => {
  await server.stop();
});

/** Asks /health every 50 ms until `until` settles; resolves to the slowest answer, in ms. */
async function slowestHealthWhile(until: Promise<unknown>): Promise<{ slowestMs: number; asked: number }> {
  let settled = false;
  void until.finally(() => (settled = true));
  let slowestMs = 0;
  let asked = 0;
  while (!settled) {
    const started = performance.now();
    await (await fetch(`${server.baseUrl}/health`)).text();
    slowestMs = Math.max(slowestMs, performance.now() - started);
    asked += 1;
    await sleep(50);
  }
  return { slowestMs, asked };
}

async function readCsvRows(response: Response): Promise<{ rows: number; bytes: number; tail: string }> {
  let rows = 0;
  let bytes = 0;
  let tail = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength;
    const text = tail + decoder.decode(chunk, { stream: true });
    const parts = text.split('\r\n');
    tail = parts.pop() ?? '';
    rows += parts.length;
  }
  return { rows, bytes, tail };
}

describe('a million stored lines read back whole', () => {
  it('streams every line as csv while the server RSS grows by less than 60 MB', async () => {
    await sleep(500);
    const pid = server.pid ?? 0;
    const before = rssOf(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 25);
    const response = await fetch(`${server.apiUrl}/tasks/million/logs/export?format=csv`);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="million_logs.csv"');
    const { rows, bytes, tail } = await readCsvRows(response);
    clearInterval(sampler);
    expect(rows).toBe(LINES + 1);
    expect(tail).toBe('');
    expect(bytes).toBeGreaterThan(LINES * 100);
    expect(peak - before).toBeLessThan(60 * 1024 * 1024);
  }, 180_000);

  it('answers other requests within moments while an export of every line streams', async () => {
    const download = fetch(`${server.apiUrl}/tasks/million/logs/export?format=csv`).then(readCsvRows);
    const health = await slowestHealthWhile(download);
    expect((await download).rows).toBe(LINES + 1);
    // Held by the export, the first answer would wait for its end: seconds.
    expect(health.asked).toBeGreaterThan(5);
    expect(health.slowestMs).toBeLessThan(1500);
  }, 180_000);

  it('answers other requests within moments while a subscriber catches up from seq 0', async () => {
    // Counted, not kept: a million entries held by the test would measure the test.
    const ws = new WebSocket(`${server.wsUrl}/million`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    let received = 0;
    const caughtUp = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string; entries?: unknown[] };
        if (message.type === 'logs') received += message.entries?.length ?? 0;
        if (received >= LINES) resolve();
      }),
    );
    ws.send(JSON.stringify({ type: 'subscribe', options: { since: 0, batch: true, realtime: false } }));
    const health = await slowestHealthWhile(caughtUp);
    ws.close();
    expect(received).toBe(LINES);
    expect(health.asked).toBeGreaterThan(5);
    expect(health.slowestMs).toBeLessThan(1500);
  }, 180_000);
});
