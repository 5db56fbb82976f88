// The same task script delivered without keruta: through a raw pipe (the floor), through
// websocketd (stdout straight to WebSocket clients, no storage; for a fan-out one script run per
// client, or one shared `tail -F` of the script's file, or a `tail -F` per client),
// and through frontail (the script appends to a file that frontail tails to socket.io clients).
// Every line goes to a tally, as keruta's do.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { freePort } from '@keruta/testing';
import { frontailNamespace, startPeer } from './peers.mjs';
import { createLineSplitter, nowMs } from './script.mjs';

function exitOf(child) {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`script exited with ${code ?? signal}`))));
  });
}

/** `script ARGS | counter`: the bench reads the pipe itself and hands each line to the tally. */
export async function runRawPipe({ script, args, tally }) {
  const child = spawn(script, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const split = createLineSplitter((line) => tally.take(line));
  child.stdout.on('data', (chunk) => split(chunk));
  const ended = new Promise((resolve) => child.stdout.once('end', resolve));
  await exitOf(child);
  await ended;
}

/**
 * How websocketd gets the lines to its clients in a fan-out (websocketd always runs one process
 * per connection; see bench/README.md):
 * - `script`: `websocketd SCRIPT ARGS`, one script run per client;
 * - `shared-tail`: the script appends to one file, ONE `tail -n +1 -F FILE` reads it into a hub
 *   (hub.mjs) that copies each chunk to every connection's `socat -u UNIX-CONNECT:SOCK STDOUT`;
 * - `tail-per-client`: the script appends to one file, `websocketd tail -n +1 -F FILE`: one tail
 *   per client.
 */
export const WEBSOCKETD_WIRINGS = ['script', 'shared-tail', 'tail-per-client'];

/**
 * websocketd with one client per tally, all connected before any line is printed, wired as
 * `wiring` says. Resolves when every tally is complete (or after `timeoutMs`).
 */
export async function runWebsocketd({ websocketd, script, args, tallies, timeoutMs, wiring = 'script' }) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'keruta-bench-websocketd-'));
  const file = join(dir, 'task.log');
  const socketPath = join(dir, 'hub.sock');
  writeFileSync(file, '');
  const helpers = [];
  const sockets = [];
  let peer;
  try {
    let command;
    let hubClients;
    if (wiring === 'script') {
      command = [script, ...args];
    } else if (wiring === 'tail-per-client') {
      command = ['tail', '-n', '+1', '-F', file];
    } else if (wiring === 'shared-tail') {
      const tail = spawn('tail', ['-n', '+1', '-F', file], { stdio: ['ignore', 'pipe', 'ignore'] });
      const hub = spawn(process.execPath, [HUB, socketPath], { stdio: [tail.stdout, 'pipe', 'inherit'] });
      helpers.push(tail, hub);
      hubClients = watchHub(hub);
      await waitForSocket(socketPath);
      command = ['socat', '-u', `UNIX-CONNECT:${socketPath}`, 'STDOUT'];
    } else {
      throw new Error(`unknown websocketd wiring ${wiring}`);
    }
    peer = await startPeer(websocketd, [`--port=${port}`, '--address=127.0.0.1', '--loglevel=error', ...command], port);
    await Promise.all(
      tallies.map(async (tally) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        sockets.push(ws);
        ws.on('message', (data) => tally.take(data.toString('latin1')));
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      }),
    );
    if (wiring !== 'script') {
      // Every connection's command must be reading before the script prints (tail -n +1 would
      // catch up anyway, but the time measured starts at the first line printed).
      if (hubClients !== undefined) await hubClients.reach(tallies.length, 30_000);
      else await new Promise((resolve) => setTimeout(resolve, 300));
      const fd = openSync(file, 'a');
      const child = spawn(script, args, { stdio: ['ignore', fd, 'inherit'] });
      closeSync(fd);
      await exitOf(child);
    }
    // A peer that drops lines shows up as lost lines in its tallies, not as a failed run.
    await Promise.allSettled(tallies.map((tally) => tally.complete(timeoutMs)));
  } finally {
    for (const ws of sockets) ws.terminate();
    await peer?.stop();
    for (const helper of helpers) helper.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const HUB = fileURLToPath(new URL('./hub.mjs', import.meta.url));

/** The hub's count of connected clients, from its `clients N` lines; `reach(n)` waits for n. */
function watchHub(hub) {
  let count = 0;
  const waiters = [];
  hub.stdout.on('data', createLineSplitter((line) => {
    count = Number(line.split(' ')[1]);
    for (const w of waiters.filter((w) => count >= w.n)) w.resolve();
  }));
  return {
    reach: (n, timeoutMs) =>
      count >= n
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`the hub has ${count} of ${n} clients after ${timeoutMs} ms`)), timeoutMs);
            waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
          }),
  };
}

async function waitForSocket(path, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`the hub did not listen on ${path}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * frontail tailing a file to socket.io clients (one per tally, websocket transport, as a browser
 * ends up), then `SCRIPT ARGS >> file`. frontail sends one socket.io event per line to every client.
 */
export async function runFrontail({ frontail, script, args, tallies, timeoutMs }) {
  const dir = mkdtempSync(join(tmpdir(), 'keruta-bench-frontail-'));
  const file = join(dir, 'task.log');
  writeFileSync(file, '');
  const port = await freePort();
  const peer = await startPeer(
    process.execPath,
    [frontail.bin, '--disable-usage-stats', '--host', '127.0.0.1', '--port', String(port), '--number', '0', file],
    port,
  );
  const sockets = [];
  try {
    await Promise.all(
      tallies.map(async (tally) => {
        const socket = frontail.ioClient(`http://127.0.0.1:${port}${frontailNamespace([file])}`, {
          path: '/socket.io',
          transports: ['websocket'],
          forceNew: true,
          reconnection: false,
        });
        sockets.push(socket);
        socket.on('line', (line) => tally.take(line, nowMs()));
        await new Promise((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
      }),
    );
    // frontail's `tail -F` has to have the file open before the script writes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const fd = openSync(file, 'a');
    const child = spawn(script, args, { stdio: ['ignore', fd, 'inherit'] });
    closeSync(fd);
    await exitOf(child);
    await Promise.allSettled(tallies.map((tally) => tally.complete(timeoutMs)));
  } finally {
    for (const socket of sockets) socket.close();
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
