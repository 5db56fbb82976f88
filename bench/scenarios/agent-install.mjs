// agent-install: what putting keruta-agent on a runner costs (issue 17 item 2): its installed
// size, and how long `keruta-agent --version` takes to start, against a bare `node -e 0` on the
// same machine in the same rounds (a ratio holds on a loaded machine where absolute times do not).
// The agent is installed as a user installs it: the tarballs `npm pack` makes of @keruta/protocol,
// @keruta/settings and keruta-agent, `npm install`ed into an empty folder outside the workspace
// (third-party packages from npm's cache, else the registry).
// Run alone: node bench/scenarios/agent-install.mjs [--quick]   (needs `npm run build` first)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MB, ratioRow, round, row } from '../lib/measure.mjs';

const SCENARIO = 'agent-install';
const root = fileURLToPath(new URL('../..', import.meta.url));

function npm(args, cwd) {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Wall time of one run of `command args`, in ms. */
function timed(command, args) {
  const started = performance.now();
  const result = spawnSync(command, args, { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
  return performance.now() - started;
}

export async function run({ quick = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'keruta-bench-agent-install-'));
  try {
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir, '-w', '@keruta/protocol', '-w', '@keruta/settings', '-w', 'keruta-agent'], root));
    const install = join(dir, 'install');
    spawnSync('mkdir', [install]);
    writeFileSync(join(install, 'package.json'), '{ "private": true }\n');
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', ...packed.map((p) => join(dir, p.filename))], install);

    const files = readdirSync(join(install, 'node_modules'), { recursive: true, encoding: 'utf8' })
      .map((path) => join(install, 'node_modules', path))
      .filter((path) => statSync(path).isFile());
    const bytes = files.reduce((sum, path) => sum + statSync(path).size, 0);
    const packages = files.filter((path) => /node_modules\/(@[^/]+\/)?[^/]+\/package\.json$/.test(path) && !/node_modules\/.+\/node_modules\/.+\/.+\/package\.json$/.test(path)).length;
    const native = files.filter((path) => path.endsWith('.node') || path.endsWith('binding.gyp')).length;

    const agent = join(install, 'node_modules', '.bin', 'keruta-agent');
    const runs = quick ? 5 : 21;
    const agentMs = [];
    const nodeMs = [];
    // Interleaved, so that both see the same moments of a shared machine's load.
    for (let i = 0; i < runs; i += 1) {
      agentMs.push(timed(agent, ['--version']));
      nodeMs.push(timed(process.execPath, ['-e', '0']));
    }
    return [
      row(SCENARIO, 'installed size (apparent, node_modules)', round(bytes / MB, 1), 'MiB'),
      row(SCENARIO, 'installed packages', packages, ''),
      row(SCENARIO, 'tarballs (keruta-agent + @keruta/protocol + @keruta/settings)', round(packed.reduce((sum, p) => sum + p.size, 0) / 1024, 0), 'KiB'),
      row(SCENARIO, 'native modules (.node, binding.gyp)', native, '', { target: '0', pass: native === 0 }),
      row(SCENARIO, 'keruta-agent --version (median)', round(median(agentMs), 0), 'ms', { note: `${runs} runs` }),
      row(SCENARIO, 'node -e 0 (median)', round(median(nodeMs), 0), 'ms', { note: `${runs} runs` }),
      ratioRow(SCENARIO, 'keruta-agent --version / node -e 0', median(agentMs), median(nodeMs)),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run({ quick: process.argv.includes('--quick') })) console.log(r);
}
