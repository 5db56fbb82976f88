// Writes numbered lines to keruta-api at a fixed rate over the WebSocket agent path (batches with
// a runId/runSeq, as keruta-agent sends them), for a set time: a steady burst rather than "as fast
// as possible".
import WebSocket from 'ws';
import { lineOf } from './agent-writer.mjs';

/**
 * Sends `ratePerSecond` lines a second for `seconds`, a tick every `tickMs`. Resolves once every
 * line is acknowledged, with the wall-clock time (Date.now()) the last line was sent and acked,
 * and how far the writer fell behind its schedule.
 */
export async function writePaced({ wsUrl, taskId, ratePerSecond, seconds, batchSize = 1000, tickMs = 100, runId = `paced-${Date.now()}` }) {
  const ws = new WebSocket(`${wsUrl}/${taskId}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const total = Math.round(ratePerSecond * seconds);
  const perTick = Math.round((ratePerSecond * tickMs) / 1000);
  let next = 1;
  let acked = 0;
  let lastSentAt = 0;
  let behindMs = 0;
  const ackedAll = new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'ack') {
        acked += message.accepted + message.duplicates;
        if (acked >= total) resolve(Date.now());
      } else if (message.type === 'error') {
        reject(new Error(`${message.code}: ${message.message}`));
      }
    });
  });
  const started = performance.now();
  for (let tick = 0; next <= total; tick++) {
    const due = started + tick * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else behindMs = Math.max(behindMs, -wait);
    const end = Math.min(total, next + perTick - 1);
    while (next <= end) {
      const count = Math.min(batchSize, end - next + 1);
      const entries = new Array(count);
      for (let i = 0; i < count; i++) {
        const n = next + i;
        entries[i] = { source: n % 7 === 0 ? 'stderr' : 'stdout', level: n % 50 === 0 ? 'WARN' : 'INFO', message: lineOf(n), timestamp: new Date().toISOString(), lineNumber: n, runId, runSeq: n };
      }
      ws.send(JSON.stringify({ type: 'logs', batchId: String(next), entries }));
      next += count;
    }
    lastSentAt = Date.now();
  }
  const ackedAt = await ackedAll;
  ws.close();
  return { total, lastSentAt, ackedAt, behindMs };
}
