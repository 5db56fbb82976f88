// One-off measurement for the server-wide subscriber buffer budget: 100,000 lines written over
// one WebSocket with no subscribers, then again (on a fresh keruta-api) with 1,000 subscribers
// that stop reading. Prints the write rate of both, keruta-api's peak RSS and /health p99.
// Run: npm run build && node bench/never-reading.mjs [--subscribers N] [--lines N]
// (subscribers ask for batch frames, as keruta's own clients do, and then for one frame per line)
// /health is probed from a worker thread: the writer's loop that builds and sends the 100 batches
// holds this process's own loop for a second or more, and a probe timed here would measure that.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { createLatencyRecorder, rssOf } from './lib/measure.mjs';

const { values } = parseArgs({ options: { subscribers: { type: 'string', default: '1000' }, lines: { type: 'string', default: '100000' } } });
const SUBSCRIBERS = Number(values.subscribers);
const LINES = Number(values.lines);
const BATCH = 1000;
const MB = 1024 * 1024;

async function startApi() {
  const dir = mkdtempSync(join(tmpdir(), 'keruta-never-reading-'));
  const child = spawn(process.execPath, ['packages/server/bin/keruta-api.js', '--port', '0', '--db', `sqlite:${join(dir, 'keruta.db')}`, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk) => {
      text += chunk;
      const match = /127\.0\.0\.1:(\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`keruta-api exited with ${code}: ${text}`)));
  });
  let errors = '';
  child.stderr.on('data', (chunk) => {
    for (const line of String(chunk).split('\n')) if (/"level":(40|50|60)/.test(line)) errors += `${line.slice(0, 2000)}\n`;
  });
  return {
    port,
    pid: child.pid,
    errors: () => errors,
    stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Probes /health every 20 ms and samples keruta-api's RSS, in its own thread, until told to stop. */
function startHealthProbe(port, pid) {
  const probe = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const { rssOf } = await import(workerData.measure);
      const latencies = [];
      let peak = 0;
      let probing = true;
      parentPort.once('message', () => (probing = false));
      while (probing) {
        const started = performance.now();
        await fetch('http://127.0.0.1:' + workerData.port + '/health').then((r) => r.arrayBuffer());
        latencies.push(performance.now() - started);
        peak = Math.max(peak, rssOf(workerData.pid));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      parentPort.postMessage({ latencies, peak });
    })();
    `,
    { eval: true, workerData: { port, pid, measure: new URL('./lib/measure.mjs', import.meta.url).href } },
  );
  return {
    stop() {
      const result = new Promise((resolve, reject) => {
        probe.once('message', resolve);
        probe.once('error', reject);
      });
      probe.postMessage('stop');
      return result.finally(() => probe.terminate());
    },
  };
}

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function measure(subscribers, batch) {
  const api = await startApi();
  const wsUrl = `ws://127.0.0.1:${api.port}/ws/tasks/crowd`;
  const idle = [];
  for (let i = 0; i < subscribers; i++) {
    const ws = await open(wsUrl);
    await new Promise((resolve) => {
      ws.on('message', function first(data) {
        if (String(data).includes('"subscribed"')) {
          ws.off('message', first);
          resolve();
        }
      });
      ws.send(JSON.stringify({ type: 'subscribe', options: { since: 0, batch } }));
    });
    ws._socket.pause();
    idle.push(ws);
  }
  const rssBefore = rssOf(api.pid);
  const probe = startHealthProbe(api.port, api.pid);

  const writer = await open(wsUrl);
  const done = new Promise((resolve, reject) => {
    writer.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'ack' && message.lastSeq === LINES) resolve();
      if (message.type === 'error') reject(new Error(`the writer got ${message.code}: ${message.message}\n${api.errors()}`));
    });
    writer.once('close', (code) => reject(new Error(`the writer was closed with ${code}\n${api.errors()}`)));
  });
  const started = performance.now();
  for (let first = 1; first <= LINES; first += BATCH) {
    const entries = Array.from({ length: Math.min(BATCH, LINES - first + 1) }, (_, i) => ({
      source: 'stdout',
      level: 'INFO',
      message: `line ${first + i} ${'x'.repeat(200)}`,
      runId: 'never-reading',
      runSeq: first + i,
    }));
    writer.send(JSON.stringify({ type: 'logs', batchId: `b${first}`, entries }));
  }
  await done;
  const writeMs = performance.now() - started;
  // A second more: the close grace of the cut subscribers and the GC after the burst.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const { latencies, peak: probedPeak } = await probe.stop();
  const health = createLatencyRecorder();
  for (const ms of latencies) health.record(ms);
  const peak = Math.max(rssBefore, probedPeak);
  const metrics = await (await fetch(`http://127.0.0.1:${api.port}/metrics`)).text();
  const slow = Number(/^keruta_slow_consumers_total (\d+)/m.exec(metrics)?.[1] ?? 0);
  for (const ws of idle) ws.terminate();
  writer.terminate();
  api.stop();
  return { subscribers, frames: batch ? 'batch' : 'line', linesPerSecond: Math.round(LINES / (writeMs / 1000)), writeMs: Math.round(writeMs), rssBeforeMb: Math.round(rssBefore / MB), peakRssMb: Math.round(peak / MB), healthP99Ms: Math.round(health.percentile(99) * 10) / 10, healthMaxMs: Math.round(health.max), slowConsumers: slow };
}

// Batch frames are what keruta's own clients (the page, the CLI, the client library) ask for;
// one frame per line is the protocol's default.
const without = await measure(0, true);
const batched = await measure(SUBSCRIBERS, true);
const perLine = await measure(SUBSCRIBERS, false);
console.table([without, batched, perLine]);
for (const crowd of [batched, perLine]) {
  console.log(`${SUBSCRIBERS} never-reading subscribers (${crowd.frames} a frame): writes ${(without.linesPerSecond / crowd.linesPerSecond).toFixed(2)}x slower than with none`);
}
