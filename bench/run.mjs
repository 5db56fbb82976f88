#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --only NAME] [-- --out DIR]`: runs every scenario in
// bench/scenarios (those whose file name contains NAME), prints one table and writes it to
// DIR/latest{,-quick}.{json,md} (DIR: bench/results). Benchmarks assert nothing: a missed
// target is reported, not thrown; a scenario that crashes is an `error` row and exit status 1.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' } } });
const quick = values.quick === true;

const files = readdirSync(join(here, 'scenarios'))
  .filter((f) => f.endsWith('.mjs'))
  .filter((f) => values.only === undefined || f.includes(values.only))
  .sort();

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const startedAt = new Date().toISOString();
// The machine may be shared: its load says how far to trust absolute times (ratios hold better).
const loadAtStart = loadavg()[0];
const rows = [];
for (const file of files) {
  const name = file.replace(/\.mjs$/, '');
  process.stderr.write(`bench: ${name}${quick ? ' (quick)' : ''} …\n`);
  const started = performance.now();
  try {
    const scenario = await import(pathToFileURL(join(here, 'scenarios', file)).href);
    rows.push(...(await scenario.run({ quick })));
  } catch (error) {
    rows.push({ scenario: name, metric: 'error', value: String(error?.stack ?? error), unit: '', pass: false });
  }
  process.stderr.write(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

const cell = (v) => (v === undefined ? '' : String(v));
const verdict = (r) => (r.pass === undefined ? '' : r.pass ? 'pass' : 'MISS');
// One column per peer measured alongside keruta, in a fixed order so that runs compare.
const PEER_ORDER = ['websocketd', 'frontail', 'raw pipe'];
const peerNames = [...new Set(rows.flatMap((r) => Object.keys(r.peers ?? {})))].sort(
  (a, b) => (PEER_ORDER.indexOf(a) + 1 || 99) - (PEER_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b),
);
const header = ['scenario', 'metric', 'keruta', ...peerNames, 'unit', 'target', 'result'];
const escape = (c) => String(c).replaceAll('|', '\\|').replaceAll('\n', ' ');
const lines = [
  `# keruta benchmarks${quick ? ' (quick)' : ''}`,
  '',
  `${startedAt} on ${machine}; load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`,
  '',
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map(
    (r) =>
      `| ${[r.scenario, r.note === undefined ? r.metric : `${r.metric} (${r.note})`, cell(r.value), ...peerNames.map((p) => cell(r.peers?.[p])), r.unit, cell(r.target), verdict(r)].map(escape).join(' | ')} |`,
  ),
];
const markdown = `${lines.join('\n')}\n`;
process.stdout.write(markdown);
const out = values.out ?? join(here, 'results');
mkdirSync(out, { recursive: true });
const base = quick ? 'latest-quick' : 'latest';
writeFileSync(join(out, `${base}.json`), `${JSON.stringify({ startedAt, machine, loadAverage: { start: loadAtStart, end: loadavg()[0] }, quick, rows }, null, 2)}\n`);
writeFileSync(join(out, `${base}.md`), markdown);
const errors = rows.filter((r) => r.metric === 'error');
// A scenario that crashed is a broken benchmark, unlike a missed target.
process.exit(errors.length > 0 ? 1 : 0);
