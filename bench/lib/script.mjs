// The task script every scenario runs, written once per run as an executable file so that
// keruta-agent, websocketd, a shell pipe and a file tail all run the very same program.
// Each line is 100 bytes with its newline: `<n> <t> <build-log text>`, where n counts from 1 and t is
// process.hrtime.bigint() in nanoseconds when the line was made. hrtime is CLOCK_MONOTONIC,
// one clock for every process on the machine, so the bench compares it with its own hrtime
// on arrival without the wall clock's steps or rounding.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LINE_BYTES = 100;

const BUILD_LOG_URL = new URL('./build-log.mjs', import.meta.url).href;

/** How a burst is written: `lines:500` (500 lines per write) or `bytes:65536` (64 KiB writes). */
export const WRITES = { lines500: 'lines:500', bytes64k: 'bytes:65536' };

const SOURCE = `#!${process.execPath}
// keruta bench task script: lines.mjs TOTAL [INTERVAL_MS [WRITES]]
// INTERVAL_MS 0 (default): as fast as it can; WRITES is lines:N (N whole lines per write, default
// lines:500) or bytes:N (writes of exactly N bytes, lines cut across writes, as a block-buffered
// program's stdout is). Else one line per write, one every INTERVAL_MS.
// Lines are build-log-like text (bench/lib/build-log.mjs), ${LINE_BYTES} bytes with the newline.
import { buildLogLine } from '${BUILD_LOG_URL}';
const total = Number(process.argv[2]);
const intervalMs = Number(process.argv[3] ?? 0);
const [unit, size] = (process.argv[4] ?? 'lines:500').split(':');
const lineOf = (n, stamp) => buildLogLine(n, stamp, ${LINE_BYTES}) + '\\n';
// process.stdout on a pipe or a file is synchronous on Linux: one write(2) per call.
const write = (text) => process.stdout.write(Buffer.from(text, 'latin1'));
if (intervalMs <= 0 && unit === 'bytes') {
  // Writes of exactly size bytes (the last one shorter), lines cut across them.
  const bytes = Number(size);
  let pending = '';
  let n = 1;
  while (n <= total || pending.length > 0) {
    const stamp = process.hrtime.bigint();
    while (pending.length < bytes && n <= total) pending += lineOf(n++, stamp);
    write(pending.slice(0, bytes));
    pending = pending.slice(bytes);
  }
} else if (intervalMs <= 0) {
  // One stamp per write: the lines of a write are printed together.
  const perWrite = Number(size);
  let n = 1;
  while (n <= total) {
    const stamp = process.hrtime.bigint();
    let chunk = '';
    for (let i = 0; i < perWrite && n <= total; i++, n++) chunk += lineOf(n, stamp);
    write(chunk);
  }
} else {
  const start = performance.now();
  let n = 1;
  const tick = () => {
    write(lineOf(n, process.hrtime.bigint()));
    n += 1;
    if (n <= total) setTimeout(tick, Math.max(0, start + (n - 1) * intervalMs - performance.now()));
  };
  tick();
}
`;

/** Writes the script into a new temp dir; `remove()` deletes it. */
export function createTaskScript() {
  const dir = mkdtempSync(join(tmpdir(), 'keruta-bench-script-'));
  const path = join(dir, 'lines.mjs');
  writeFileSync(path, SOURCE);
  chmodSync(path, 0o755);
  return { dir, path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** process.hrtime.bigint() as a Number of milliseconds, the unit every scenario compares in. */
export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Checks a stream of received lines: each number once, none missing. Records when line 1 was
 * printed, when the last line arrived, and (with `latency`) each line's printed→received time.
 */
export function createLineTally(total, { latency } = {}) {
  const seen = new Uint8Array(total + 1);
  let distinct = 0;
  let duplicates = 0;
  let foreign = 0;
  let firstPrintedMs = Infinity;
  let lastArrivalMs = 0;
  const waiters = [];
  return {
    /** One line as printed (without its newline), received at `arrivedMs` (nowMs()). */
    take(text, arrivedMs = nowMs()) {
      const space = text.indexOf(' ');
      const n = Number(text.slice(0, space));
      if (!(n >= 1 && n <= total)) {
        foreign += 1;
        return;
      }
      if (seen[n] === 1) {
        duplicates += 1;
        return;
      }
      seen[n] = 1;
      distinct += 1;
      if (n === 1 || latency !== undefined) {
        const printedMs = Number(text.slice(space + 1, text.indexOf(' ', space + 1))) / 1e6;
        if (n === 1) firstPrintedMs = printedMs;
        latency?.record(arrivedMs - printedMs);
      }
      lastArrivalMs = arrivedMs;
      if (distinct === total) for (const resolve of waiters.splice(0)) resolve();
    },
    get received() {
      return distinct;
    },
    get lost() {
      return total - distinct;
    },
    get duplicates() {
      return duplicates;
    },
    /** Lines that are not of the script (should stay 0). */
    get foreign() {
      return foreign;
    },
    /** From line 1 printed to the last line received, in ms. */
    get elapsedMs() {
      return lastArrivalMs - firstPrintedMs;
    },
    get firstPrintedMs() {
      return firstPrintedMs;
    },
    get lastArrivalMs() {
      return lastArrivalMs;
    },
    /**
     * Resolves once every line arrived; rejects, saying how many did, when lines stopped coming
     * for `idleMs` (counted from the first line: starting a script may take long on a busy
     * machine) or after `timeoutMs` in all.
     */
    complete(timeoutMs, idleMs = 10_000) {
      if (distinct === total) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const started = Date.now();
        let last = distinct;
        let lastChange = started;
        const timer = setInterval(() => {
          const now = Date.now();
          if (distinct !== last) {
            last = distinct;
            lastChange = now;
          }
          if ((distinct > 0 && now - lastChange > idleMs) || now - started > timeoutMs) {
            clearInterval(timer);
            reject(new Error(`received ${distinct} of ${total} lines (${duplicates} duplicates)`));
          }
        }, 250);
        waiters.push(() => {
          clearInterval(timer);
          resolve();
        });
      });
    },
  };
}

/** Splits a byte stream into lines and hands each to `onLine(text)`. */
export function createLineSplitter(onLine) {
  let rest = '';
  return (chunk) => {
    const text = rest + chunk.toString('latin1');
    let start = 0;
    let nl;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      onLine(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
  };
}
