#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --only NAME]`: runs every scenario in bench/scenarios, prints
// one table and writes it to bench/results/latest.{json,md}. Benchmarks assert nothing: a
// missed target is reported, not thrown.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' } } });
const quick = values.quick === true;

const files = readdirSync(join(here, 'scenarios'))
  .filter((f) => f.endsWith('.mjs'))
  .filter((f) => values.only === undefined || f.includes(values.only))
  .sort();

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const startedAt = new Date().toISOString();
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
  `${startedAt} on ${machine}`,
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
mkdirSync(join(here, 'results'), { recursive: true });
const base = quick ? 'latest-quick' : 'latest';
writeFileSync(join(here, 'results', `${base}.json`), `${JSON.stringify({ startedAt, machine, quick, rows }, null, 2)}\n`);
writeFileSync(join(here, 'results', `${base}.md`), markdown);
const errors = rows.filter((r) => r.metric === 'error');
// A scenario that crashed is a broken benchmark, unlike a missed target.
process.exit(errors.length > 0 ? 1 : 0);
