// Runs one task script through keruta and through each peer, one after another in this process,
// and returns what each side delivered: per-subscriber tallies (and latency histograms), or why
// a peer did not run. Scenarios turn the result into rows.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeTempDir, spawnServer } from '@keruta/testing';
import { runFrontail, runRawPipe, runWebsocketd } from './baselines.mjs';
import { findAgentCli, runAgent, subscribeLines, writeScriptLines, writerLabel } from './keruta.mjs';
import { createLatencyRecorder, samplePeakRss } from './measure.mjs';
import { findFrontail, findWebsocketd } from './peers.mjs';
import { WRITES, createLineTally, createTaskScript } from './script.mjs';

export const PEERS = ['websocketd', 'frontail', 'raw pipe'];

/**
 * `{ keruta, websocketd, frontail, 'raw pipe' }`, each `{ tallies, latency? , … }` or
 * `{ skipped }` / `{ failed }`. `intervalMs` 0 is a burst, written as `writes` says (WRITES in
 * script.mjs; every side runs the same script with the same writes); `latency` records per-line
 * latency. `websocketd` is `{ wiring }` for the fan-out's other wirings (baselines.mjs).
 */
export async function runSides({ total, intervalMs = 0, writes = WRITES.lines500, subscribers = 1, latency = false, peers = PEERS, timeoutMs = 120_000, serverEnv = {}, websocketd = {}, agentStartup = false }) {
  const script = createTaskScript();
  const args = [String(total), String(intervalMs), writes];
  const newTallies = (recorder) => Array.from({ length: subscribers }, () => createLineTally(total, { latency: recorder }));
  try {
    const result = {};
    const recorder = latency ? createLatencyRecorder() : undefined;
    result.keruta = { ...(await runKeruta({ script: script.path, args, tallies: newTallies(recorder), timeoutMs, serverEnv, agentStartup })), latency: recorder };
    for (const peer of peers) {
      result[peer] = await peerRun(async () => {
        const recorder = latency ? createLatencyRecorder() : undefined;
        const tallies = newTallies(recorder);
        if (peer === 'websocketd') {
          const found = findWebsocketd();
          if (found.skipped !== undefined) return found;
          await runWebsocketd({ websocketd: found.path, script: script.path, args, tallies, timeoutMs, ...websocketd });
        } else if (peer === 'frontail') {
          const found = findFrontail();
          if (found.skipped !== undefined) return found;
          await runFrontail({ frontail: found, script: script.path, args, tallies, timeoutMs });
        } else if (peer === 'raw pipe') {
          if (subscribers !== 1) return { skipped: 'a pipe has one reader' };
          await runRawPipe({ script: script.path, args, tally: tallies[0] });
        }
        return { tallies, latency: recorder };
      });
    }
    return result;
  } finally {
    script.remove();
  }
}

/**
 * websocketd alone, wired as `wiring` says (WEBSOCKETD_WIRINGS in baselines.mjs), with one client
 * per subscriber: a side `{ tallies }`, or `{ skipped }` / `{ failed }`.
 */
export async function runWebsocketdSide({ total, writes = WRITES.lines500, subscribers = 1, wiring, timeoutMs = 120_000 }) {
  const script = createTaskScript();
  try {
    return await peerRun(async () => {
      const found = findWebsocketd();
      if (found.skipped !== undefined) return found;
      const tallies = Array.from({ length: subscribers }, () => createLineTally(total));
      await runWebsocketd({ websocketd: found.path, script: script.path, args: [String(total), '0', writes], tallies, timeoutMs, wiring });
      return { tallies };
    });
  } finally {
    script.remove();
  }
}

/**
 * keruta's whole path: subscribers on a fresh keruta-api (SQLite), then keruta-agent runs the
 * script. Returns the tallies, the peak RSS and CPU time of keruta-api and of the agent meanwhile
 * (with `agentStartup`, `agentStartupCpuMs`: the CPU of an agent run whose script prints one line,
 * after the measured run: its start-up, to take from the per-line cost; and `serverIdleCpuMs`,
 * keruta-api's CPU over IDLE_MS before it, with the subscribers connected),
 * and the bytes the SQLite store holds once keruta-api has stopped (`storedBytes`, for
 * `storedLines`: the warm-up's and the script's).
 */
export async function runKeruta({ script, args, tallies, timeoutMs = 120_000, taskId = 'bench', serverEnv = {}, serverNodeArgs = [], agentNodeArgs = [], agentStartup = false }) {
  const cli = findAgentCli();
  const dataDir = await makeTempDir('keruta-bench-data-');
  let server;
  const sockets = [];
  try {
    server = await spawnServer({ env: serverEnv, nodeArgs: serverNodeArgs, dataDir: dataDir.path });
    await warmUp(server);
    // Subscribers connect 50 at a time: a thousand upgrades at once is not what is measured.
    for (let i = 0; i < tallies.length; i += 50) {
      sockets.push(...(await Promise.all(tallies.slice(i, i + 50).map((tally) => subscribeLines({ wsUrl: server.wsUrl, taskId, tally })))));
    }
    const idleRss = samplePeakRss(server.pid).stop();
    let serverIdleCpuMs;
    if (agentStartup) {
      // keruta-api's CPU over IDLE_MS with the subscribers connected and nothing written: its
      // timers, to take from the per-line cost of lines that come alone.
      const idle = samplePeakRss(server.pid);
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      idle.stop();
      serverIdleCpuMs = idle.cpuMs;
    }
    const serverRss = samplePeakRss(server.pid);
    let agentPeak;
    let agentCpuMs;
    let agentStartupCpuMs;
    if (cli === undefined) {
      await writeScriptLines({ server, taskId, total: Number(args[0]) });
    } else {
      const agent = runAgent({ cli, server, taskId, script, args, nodeArgs: agentNodeArgs });
      const agentRss = samplePeakRss(agent.pid);
      try {
        const code = await agent.exited;
        if (code !== 0) throw new Error(`keruta-agent exited with ${code}: ${agent.stderr}`);
      } finally {
        agentPeak = agentRss.stop();
        agentCpuMs = agentRss.cpuMs;
        await agent.stop();
      }
    }
    // Lines that never come are reported as lost, not as a crash of the scenario.
    await Promise.allSettled(tallies.map((tally) => tally.complete(timeoutMs)));
    const serverPeak = serverRss.stop();
    let extraLines = 0;
    if (agentStartup && cli !== undefined) {
      agentStartupCpuMs = await agentStartupCpu({ cli, server, taskId: `${taskId}-start-up`, script, args });
      extraLines += 1;
    }
    const resumes = sockets.reduce((n, s) => n + s.resumes, 0);
    const errors = [...new Set(sockets.flatMap((s) => s.errors))];
    for (const socket of sockets) socket.close();
    await server.stop();
    const storedBytes = serverEnv.KERUTA_DATABASE_URL === undefined ? storedBytesOf(join(dataDir.path, 'keruta.db')) : undefined;
    const storedLines = WARM_UP_LINES + Number(args[0]) + extraLines;
    return { label: writerLabel(cli), tallies, idleRss, serverPeak, serverCpuMs: serverRss.cpuMs, serverIdleCpuMs, agentPeak, agentCpuMs, agentStartupCpuMs, resumes, errors, storedBytes, storedLines };
  } finally {
    for (const socket of sockets) socket.close();
    await server?.stop();
    await dataDir.remove();
  }
}

export const IDLE_MS = 2000;

/** CPU of a whole agent run (sampled every 5 ms until it exits) of `script` printing one line. */
async function agentStartupCpu({ cli, server, taskId, script, args }) {
  const agent = runAgent({ cli, server, taskId, script, args: ['1', ...args.slice(1)] });
  const sampler = samplePeakRss(agent.pid, 5);
  try {
    const code = await agent.exited;
    if (code !== 0) throw new Error(`keruta-agent exited with ${code}: ${agent.stderr}`);
    sampler.stop();
    return sampler.cpuMs;
  } finally {
    await agent.stop();
  }
}

/**
 * The SQLite database file plus its WAL after a checkpoint, in bytes: what the lines cost on
 * disk. keruta-api has stopped; the checkpoint moves whatever the WAL still holds into the file.
 */
function storedBytesOf(file) {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const size = (path) => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    return size(file) + size(`${file}-wal`);
  } finally {
    db.close();
  }
}

/**
 * keruta-api is a long-running server; a fresh process would time its JIT compiling the write
 * and fan-out paths on the first batches. One burst of 20,000 lines on another task, with a
 * subscriber, warms them first (the agent, started per run in real use too, stays cold).
 */
const WARM_UP_LINES = 20_000;

async function warmUp(server) {
  const total = WARM_UP_LINES;
  const tally = createLineTally(total);
  const subscriber = await subscribeLines({ wsUrl: server.wsUrl, taskId: 'warm-up', tally });
  try {
    await writeScriptLines({ server, taskId: 'warm-up', total });
    await tally.complete(60_000);
  } finally {
    subscriber.close();
  }
}

/** A peer's run, or why it did not run: its result, `{ skipped }` or `{ failed }`. */
export async function peerRun(fn) {
  try {
    return await fn();
  } catch (error) {
    return { failed: String(error?.message ?? error).split('\n')[0] };
  }
}

/** From the first line printed (on any subscriber's run) to the last line on the last subscriber. */
export function spanMs(tallies) {
  const first = Math.min(...tallies.map((t) => t.firstPrintedMs));
  const last = Math.max(...tallies.map((t) => t.lastArrivalMs));
  return last - first;
}

/** Lines lost, duplicated or foreign over all of a side's subscribers. */
export function faultsOf(tallies) {
  return tallies.reduce((n, t) => n + t.lost + t.duplicates + t.foreign, 0);
}

/** A side's cell for the table: `value(side)` when it ran and delivered every line, else why not. */
export function cellOf(side, value, { evenIfLost = false } = {}) {
  if (side === undefined) return undefined;
  if (side.skipped !== undefined) return `skipped: ${side.skipped}`;
  if (side.failed !== undefined) return `failed: ${side.failed}`;
  const lost = side.tallies.reduce((n, t) => n + t.lost, 0);
  if (lost > 0 && !evenIfLost) return `incomplete: ${lost} lines lost`;
  return value(side);
}

/** A side's number for a ratio, or undefined when it has none. */
export function numberOf(side, value) {
  const cell = cellOf(side, value);
  return typeof cell === 'number' ? cell : undefined;
}
