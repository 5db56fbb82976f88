#!/usr/bin/env node
// `node bench/profile.mjs [--lines N] [--subscribers N]`: one keruta burst (agent → keruta-api →
// subscribers) with `--cpu-prof` on keruta-api and on keruta-agent, then the top self-time
// functions of each. The profiles stay in the printed directory for Chrome DevTools.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { topSelfTime } from './lib/cpu-profile.mjs';
import { createTaskScript } from './lib/script.mjs';
import { runKeruta } from './lib/sides.mjs';
import { createLineTally } from './lib/script.mjs';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '200000' }, subscribers: { type: 'string', default: '1' } } });
const dir = mkdtempSync(join(tmpdir(), 'keruta-profile-'));
const script = createTaskScript();
try {
  const result = await runKeruta({
    script: script.path,
    args: [values.lines, '0'],
    tallies: Array.from({ length: Number(values.subscribers) }, () => createLineTally(Number(values.lines))),
    serverNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'server')}`],
    agentNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'agent')}`],
  });
  console.log(`${values.lines} lines to ${values.subscribers} subscriber(s): ${Math.round(result.tallies[0].elapsedMs)} ms (profiling slows it)`);
} finally {
  script.remove();
}
for (const side of ['server', 'agent']) {
  let files = [];
  try {
    files = readdirSync(join(dir, side)).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    // no profile written (no agent built)
  }
  for (const file of files) {
    console.log(`\n${side}: ${join(dir, side, file)}`);
    console.table(topSelfTime(join(dir, side, file), 20));
  }
}
