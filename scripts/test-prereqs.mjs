#!/usr/bin/env node
// Installs the system packages the test suite needs when a fresh machine lacks them:
// curl (the guide's curl samples), openssl (the TLS test), Debian's python3-requests and python3-websocket
// (the guide's Python client, run by /usr/bin/python3), and Debian's chromium (the admin page's
// browser tests drive /usr/bin/chromium with playwright-core, which cannot download a browser here);
// and promtool, Prometheus' checker of /metrics, unpacked from Debian's prometheus package.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const checks = [
  { pkg: 'curl', present: () => existsSync('/usr/bin/curl') },
  // The TLS test makes a throw-away certificate.
  { pkg: 'openssl', present: () => existsSync('/usr/bin/openssl') },
  { pkg: 'python3-requests', present: () => pythonHas('requests') },
  { pkg: 'python3-websocket', present: () => pythonHas('websocket') },
  { pkg: 'chromium', present: () => existsSync('/usr/bin/chromium') },
];

function pythonHas(module) {
  if (!existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

const missing = checks.filter((c) => !c.present()).map((c) => c.pkg);
if (missing.length > 0) installPackages(missing);
installPromtool();

function installPackages(packages) {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    console.error(`test-prereqs: missing ${packages.join(', ')}; install them (Debian: apt-get install -y ${packages.join(' ')}).`);
    process.exit(1);
  }
  console.error(`test-prereqs: installing ${packages.join(', ')} with apt-get`);
  aptUpdate();
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: aptEnv(),
  });
}

function aptEnv() {
  return { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
}

function aptUpdate() {
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env: aptEnv() });
}

/**
 * The metrics test runs `promtool check metrics` on /metrics. Only the promtool binary is taken out
 * of Debian's prometheus package (into node_modules/.cache, where @keruta/testing looks for it):
 * installing the package would also set up a Prometheus server on the machine.
 */
function installPromtool() {
  const target = resolve(import.meta.dirname, '../node_modules/.cache/keruta-promtool/promtool');
  if (existsSync('/usr/bin/promtool') || existsSync(target)) return;
  if (!existsSync('/usr/bin/apt-get')) {
    console.error('test-prereqs: missing promtool; put Prometheus\' promtool on the PATH as /usr/bin/promtool.');
    process.exit(1);
  }
  console.error('test-prereqs: unpacking promtool from Debian\'s prometheus package');
  const work = mkdtempSync(join(tmpdir(), 'keruta-promtool-'));
  try {
    const download = () =>
      spawnSync('apt-get', ['download', '-qq', 'prometheus'], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], env: aptEnv(), encoding: 'utf8' });
    let fetched = download();
    if (fetched.status !== 0 && process.getuid?.() === 0) {
      // No package lists yet (a fresh machine): read them, then try again.
      aptUpdate();
      fetched = download();
    }
    const deb = readdirSync(work).find((name) => name.endsWith('.deb'));
    if (fetched.status !== 0 || deb === undefined) {
      console.error(`test-prereqs: could not download Debian's prometheus package: ${fetched.stderr.trim()}`);
      process.exit(1);
    }
    execFileSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" ./usr/bin/promtool', 'sh', join(work, deb), work]);
    mkdirSync(dirname(target), { recursive: true });
    // Copied, not renamed: the temporary directory may be on another file system.
    copyFileSync(join(work, 'usr/bin/promtool'), target);
    chmodSync(target, 0o755);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
