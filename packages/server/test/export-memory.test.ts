// The export is streamed: downloading a million lines keeps the server's memory flat.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectClient, spawnServer } from '@keruta/testing';

function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

const LINES = 1_000_000;

describe('export of a million lines', () => {
  it('streams every line as csv while the server RSS grows by less than 60 MB', async () => {
    await using server = await spawnServer();
    const pid = server.pid ?? 0;
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
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = rssOf(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 25);
    const response = await fetch(`${server.apiUrl}/tasks/million/logs/export?format=csv`);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="million_logs.csv"');
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
    clearInterval(sampler);
    expect(rows).toBe(LINES + 1);
    expect(tail).toBe('');
    expect(bytes).toBeGreaterThan(LINES * 100);
    expect(peak - before).toBeLessThan(60 * 1024 * 1024);
  }, 180_000);
});
