// /metrics as Prometheus reads it: `promtool check metrics` (from Debian's prometheus package,
// unpacked by scripts/test-prereqs.mjs) finds nothing to complain about, after traffic of every kind.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectClient, startServer } from '@keruta/testing';

const PROMTOOL = ['/usr/bin/promtool', resolve(import.meta.dirname, '../../../node_modules/.cache/keruta-promtool/promtool')].find((path) =>
  existsSync(path),
);

function promtoolCheck(text: string): { status: number | null; output: string } {
  if (PROMTOOL === undefined) throw new Error('promtool is missing: run `node scripts/test-prereqs.mjs` (npm test does)');
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

describe('/metrics', () => {
  it('passes promtool check metrics: counters end in _total, no gauge does, every family has HELP and TYPE', async () => {
    await using server = await startServer();
    await using subscriber = await connectClient(`${server.wsUrl}/promtool`);
    subscriber.send({ type: 'subscribe', options: {} });
    await subscriber.waitFor((m) => m.type === 'subscribed');
    const body = JSON.stringify([{ source: 'agent', level: 'WARN', message: 'spooled', metadata: { event: 'spooled' } }, { source: 'stdout', level: 'INFO', message: 'a line' }]);
    expect((await fetch(`${server.apiUrl}/tasks/promtool/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(201);
    expect((await fetch(`${server.apiUrl}/tasks/promtool/logs`)).status).toBe(200);
    expect((await fetch(`${server.apiUrl}/tasks/promtool/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })).status).toBe(400);

    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('keruta_entries_appended_total');
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
  });

  it('the check refuses what it should: a gauge named _total', () => {
    const bad = '# HELP keruta_things_total Things.\n# TYPE keruta_things_total gauge\nkeruta_things_total 1\n';
    const result = promtoolCheck(bad);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/non-counter metrics should not have "_total" suffix/);
  });
});
