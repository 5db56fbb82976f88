// The same task script delivered without keruta: through a raw pipe (the floor), through
// websocketd (stdout straight to WebSocket clients, one script run per client, no storage),
// and through frontail (the script appends to a file that frontail tails to socket.io clients).
// Every line goes to a tally, as keruta's do.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
 * `websocketd --port P SCRIPT ARGS` with one client per tally, all connected at once; websocketd
 * starts one script run per client, so each tally sees a whole run. Resolves when every tally is
 * complete (or rejects after `timeoutMs`).
 */
export async function runWebsocketd({ websocketd, script, args, tallies, timeoutMs }) {
  const port = await freePort();
  const peer = await startPeer(websocketd, [`--port=${port}`, '--address=127.0.0.1', '--loglevel=error', script, ...args], port);
  const sockets = [];
  try {
    await Promise.all(
      tallies.map(async (tally) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        sockets.push(ws);
        ws.on('message', (data) => tally.take(data.toString('latin1')));
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      }),
    );
    // A peer that drops lines shows up as lost lines in its tallies, not as a failed run.
    await Promise.allSettled(tallies.map((tally) => tally.complete(timeoutMs)));
  } finally {
    for (const ws of sockets) ws.terminate();
    await peer.stop();
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
