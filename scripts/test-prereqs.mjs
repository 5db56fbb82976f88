#!/usr/bin/env node
// Installs the system packages the test suite needs when a fresh machine lacks them:
// curl (the guide's curl samples), openssl (the TLS test), Debian's python3-requests and python3-websocket
// (the guide's Python client, run by /usr/bin/python3), and Debian's chromium (the admin page's
// browser tests drive /usr/bin/chromium with playwright-core, which cannot download a browser here).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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
if (missing.length === 0) process.exit(0);

if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
  console.error(`test-prereqs: missing ${missing.join(', ')}; install them (Debian: apt-get install -y ${missing.join(' ')}).`);
  process.exit(1);
}
console.error(`test-prereqs: installing ${missing.join(', ')} with apt-get`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env,
});
