// Writes numbered lines to keruta-api over the WebSocket agent path, as keruta-agent does:
// batches with a runId/runSeq, a few in flight, each forgotten only when acknowledged.
import WebSocket from 'ws';

export function lineOf(n, width = 100) {
  const head = `line ${n} `;
  return head + 'x'.repeat(Math.max(0, width - head.length));
}

/** Resolves once `total` lines are acknowledged; returns the milliseconds that took. */
/** `messageOf(n)` makes line n's text (default: `lineOf(n)`). */
export async function writeLines({ wsUrl, taskId, total, batchSize = 1000, inFlight = 4, runId = `bench-${Date.now()}`, messageOf = lineOf }) {
  const ws = new WebSocket(`${wsUrl}/${taskId}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const started = performance.now();
  let next = 1;
  let acked = 0;
  let pending = 0;
  await new Promise((resolve, reject) => {
    const sendMore = () => {
      while (pending < inFlight && next <= total) {
        const count = Math.min(batchSize, total - next + 1);
        const entries = new Array(count);
        for (let i = 0; i < count; i++) {
          entries[i] = { source: 'stdout', level: 'INFO', message: messageOf(next + i), timestamp: new Date().toISOString(), lineNumber: next + i, runId, runSeq: next + i };
        }
        ws.send(JSON.stringify({ type: 'logs', batchId: String(next), entries }));
        next += count;
        pending += 1;
      }
    };
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'ack') {
        pending -= 1;
        acked += message.accepted + message.duplicates;
        if (acked >= total) resolve();
        else sendMore();
      } else if (message.type === 'error') {
        reject(new Error(`${message.code}: ${message.message}`));
      }
    });
    sendMore();
  });
  const elapsed = performance.now() - started;
  ws.close();
  return elapsed;
}

/** A subscriber that counts entries and checks they arrive contiguous from `since`+1. */
export async function subscribe({ wsUrl, taskId, since = 0, batch = true }) {
  const ws = new WebSocket(`${wsUrl}/${taskId}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let expected = since + 1;
  let received = 0;
  let disorder = 0;
  let lastArrival = 0;
  const waiters = [];
  const onEntry = (seq) => {
    if (seq !== expected) disorder += 1;
    expected = seq + 1;
    received += 1;
  };
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === 'logs') for (const e of message.entries) onEntry(e.seq);
    else if (message.type === 'log') onEntry(message.seq);
    else return;
    lastArrival = performance.now();
    for (const w of [...waiters]) if (received >= w.count) w.resolve();
  });
  ws.send(JSON.stringify({ type: 'subscribe', taskId, options: { since, batch } }));
  await new Promise((resolve) => ws.on('message', function first(data) {
    if (JSON.parse(data.toString()).type === 'subscribed') {
      ws.off('message', first);
      resolve();
    }
  }));
  return {
    get received() {
      return received;
    },
    get disorder() {
      return disorder;
    },
    get lastArrival() {
      return lastArrival;
    },
    waitFor(count, timeoutMs = 120_000) {
      if (received >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`subscriber got ${received} of ${count}`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () => ws.close(),
  };
}
