// Shared measuring tools for the benchmarks: latency histograms (HdrHistogram), peak RSS of a
// process from /proc, and the row shape every scenario returns.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import hdr from 'hdr-histogram-js';

/** Records durations in microseconds; reports milliseconds. */
export function createLatencyRecorder() {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  return {
    /** `ms` may be fractional. */
    record(ms) {
      histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
    },
    percentile(p) {
      return histogram.getValueAtPercentile(p) / 1000;
    },
    get max() {
      return histogram.maxValue / 1000;
    },
    get count() {
      return histogram.totalCount;
    },
  };
}

/**
 * Runs `measure` while `count` busy loops at this process's priority keep cores busy: keruta-api
 * ingesting on the same machine, or a parallel build beside the agent.
 */
export async function besideBusyLoops(count, measure) {
  const loops = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  try {
    return await measure();
  } finally {
    for (const loop of loops) loop.kill('SIGKILL');
  }
}

/** Current resident set of a process, in bytes. */
export function rssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) a live process has used so far, in ms; undefined once it is gone. */
export function cpuMsOf(pid) {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces: utime is the
    // 12th, stime the 13th of them, in clock ticks (100 per second on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * Samples a process every `intervalMs` until stopped; `stop()` returns its peak RSS in bytes and
 * `cpuMs` the CPU time it used meanwhile (as of the last sample, for a process that has exited).
 */
export function samplePeakRss(pid, intervalMs = 20) {
  let peak = rssOf(pid);
  const cpuAtStart = cpuMsOf(pid) ?? 0;
  let cpuNow = cpuAtStart;
  const sample = () => {
    peak = Math.max(peak, rssOf(pid));
    cpuNow = cpuMsOf(pid) ?? cpuNow;
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
    get cpuMs() {
      return cpuNow - cpuAtStart;
    },
  };
}

export const MB = 1024 * 1024;

/**
 * One line of the results table. `value` is keruta's; `peers` holds the same measure for each
 * peer run alongside (`{ websocketd: 812, 'raw pipe': 41 }`, or a string saying why not).
 * `target` is a human-readable goal ("<= 20 ms"); `pass` is true/false when the row has a
 * target, undefined otherwise.
 */
export function row(scenario, metric, value, unit, extra = {}) {
  return { scenario, metric, value, unit, ...extra };
}

/**
 * keruta's measure divided by a peer's, against `limit` (`atMost`: ratio <= limit passes; else
 * ratio >= limit passes). A peer that did not run gives a row without a verdict.
 */
export function ratioRow(scenario, metric, kerutaValue, peerValue, { limit, atMost = true, peers } = {}) {
  const target = limit === undefined ? undefined : `${atMost ? '<=' : '>='} ${limit}×`;
  if (typeof peerValue !== 'number' || typeof kerutaValue !== 'number' || peerValue <= 0) {
    return row(scenario, metric, 'n/a', '×', { target, peers, note: 'a side did not run' });
  }
  const ratio = kerutaValue / peerValue;
  const shown = ratio < 0.1 ? round(ratio, 3) : round(ratio, 2);
  return row(scenario, metric, shown, '×', {
    target,
    pass: limit === undefined ? undefined : atMost ? ratio <= limit : ratio >= limit,
    peers,
  });
}

export function round(value, digits = 2) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Mulberry32: the same "random" pages in every run, so runs compare. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
