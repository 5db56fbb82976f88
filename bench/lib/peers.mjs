// The programs keruta is compared with, found or installed by the bench itself (never by the
// tests): websocketd from Debian, frontail from npm into bench/.peers (not a devDependency, so
// `npm ci` stays lean and frontail's old socket.io 2 tree never reaches the workspace).
// A peer that cannot be had is reported as skipped with the reason; the run goes on.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const PEERS_DIR = join(benchDir, '.peers');
export const FRONTAIL_VERSION = '4.9.2';

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const cache = new Map();

function once(key, find) {
  if (!cache.has(key)) cache.set(key, find());
  return cache.get(key);
}

/** `{ path }` of websocketd, installed with apt-get when missing and we are root; else `{ skipped }`. */
export function findWebsocketd() {
  return once('websocketd', () => {
    const found = onPath('websocketd');
    if (found !== undefined) return { path: found };
    if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
      return { skipped: 'websocketd is not installed and the bench is not root on Debian (apt-get install -y websocketd)' };
    }
    try {
      process.stderr.write('bench: installing websocketd with apt-get …\n');
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'websocketd'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    } catch (error) {
      return { skipped: `apt-get install websocketd failed: ${String(error?.message ?? error).split('\n')[0]}` };
    }
    const installed = onPath('websocketd');
    return installed === undefined ? { skipped: 'websocketd not on PATH after apt-get install' } : { path: installed };
  });
}

/**
 * `{ bin, ioClient }`: frontail's CLI and the socket.io client of its own version (2.x; a 4.x
 * client cannot talk to a 2.x server), installed into bench/.peers/frontail on first use.
 */
export function findFrontail() {
  return once('frontail', () => {
    const prefix = join(PEERS_DIR, 'frontail');
    const bin = join(prefix, 'node_modules', 'frontail', 'bin', 'frontail');
    if (!existsSync(bin)) {
      try {
        process.stderr.write(`bench: installing frontail@${FRONTAIL_VERSION} into ${prefix} …\n`);
        mkdirSync(prefix, { recursive: true });
        execFileSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', `frontail@${FRONTAIL_VERSION}`], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
      } catch (error) {
        return { skipped: `npm install frontail failed: ${String(error?.message ?? error).split('\n')[0]}` };
      }
    }
    try {
      const require = createRequire(join(prefix, 'node_modules', 'frontail', 'index.js'));
      return { bin, ioClient: require('socket.io-client') };
    } catch (error) {
      return { skipped: `frontail's socket.io-client cannot be loaded: ${String(error?.message ?? error)}` };
    }
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a peer server process and waits for its port; `stop()` ends it and waits. */
export async function startPeer(command, args, port, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await Promise.race([
      waitForPort(port),
      exited.then((code) => {
        throw new Error(`${command} exited with ${code} before listening: ${stderr}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    pid: child.pid,
    get stderr() {
      return stderr;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The socket.io namespace frontail serves a set of files on: md5 of their names joined by spaces. */
export function frontailNamespace(files) {
  return `/${createHash('md5').update(files.join(' ')).digest('hex')}`;
}
