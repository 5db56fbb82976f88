// One-off measurement for sliced searches: /health latency while 8 searches for non-ASCII text
// run at once over a 1,000,000-line task (each follows its cursor to the end, as iterateLogs does).
// Run: npm run build && node bench/many-searches.mjs [--lines N] [--searches N]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteLogStore } from '../packages/storage/dist/index.js';
import { createLatencyRecorder } from './lib/measure.mjs';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, searches: { type: 'string', default: '8' } } });
const LINES = Number(values.lines);
const SEARCHES = Number(values.searches);

const dir = mkdtempSync(join(tmpdir(), 'keruta-many-searches-'));
const store = createSqliteLogStore({ path: join(dir, 'keruta.db') });
const t0 = Date.parse('2024-01-01T00:00:00Z');
for (let first = 0; first < LINES; first += 10_000) {
  await store.append(
    'long',
    Array.from({ length: Math.min(10_000, LINES - first) }, (_, i) => {
      const n = first + i;
      return {
        source: 'stdout',
        level: 'INFO',
        message: n % 1000 === 999 ? `line ${n} says GRÜSSE to everyone` : `line ${n} of the build, nothing to see ${'z'.repeat(80)}`,
        metadata: {},
        timeMs: t0 + n,
        timestamp: new Date(t0 + n).toISOString(),
      };
    }),
  );
}
await store.close();

const child = spawn(process.execPath, ['packages/server/bin/keruta-api.js', '--port', '0', '--db', `sqlite:${join(dir, 'keruta.db')}`, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve) => {
  let text = '';
  child.stdout.on('data', (chunk) => {
    text += chunk;
    const match = /127\.0\.0\.1:(\d+)/.exec(text);
    if (match) resolve(Number(match[1]));
  });
});
const api = `http://127.0.0.1:${port}/api/v1/tasks/long/logs`;
await (await fetch(`${api}?q=warm-the-cache`)).arrayBuffer();

const health = createLatencyRecorder();
let probing = true;
const probe = (async () => {
  while (probing) {
    const started = performance.now();
    await (await fetch(`http://127.0.0.1:${port}/health`)).arrayBuffer();
    health.record(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
})();
const started = performance.now();
const results = await Promise.all(
  Array.from({ length: SEARCHES }, async () => {
    let afterSeq = 0;
    let found = 0;
    let requests = 0;
    for (;;) {
      const page = await (await fetch(`${api}?q=${encodeURIComponent('grüsse')}&size=1000&afterSeq=${afterSeq}`)).json();
      requests += 1;
      found += page.content.length;
      if (page.nextAfterSeq === undefined) return { found, requests };
      afterSeq = page.nextAfterSeq;
    }
  }),
);
const searchMs = performance.now() - started;
probing = false;
await probe;
child.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
console.table(results);
console.log(
  `${SEARCHES} searches over ${LINES} lines: ${Math.round(searchMs)} ms; /health p50 ${health.percentile(50).toFixed(1)} ms, ` +
    `p99 ${health.percentile(99).toFixed(1)} ms, max ${health.max.toFixed(1)} ms over ${health.count} probes`,
);
