// agent-overhead: what keruta-agent costs the task it runs (issue 4: ≤ 1.3×; PROTOCOL §5: "the
// script is never slowed or blocked by the network").
//
// What is compared, and why:
// - The producer is a realistic fast program, not a loop that makes a syscall per line: awk,
//   which like most programs (C stdio, Python, Go's bufio …) writes its output in blocks when it
//   is not a terminal. A writer that calls write(2) per line makes `| cat` alone cost ~10×, so
//   the comparison would be about pipes, not about the agent. The script prints 1,000,000 lines
//   of 100 bytes (quick: 100,000) in 4 KiB writes.
// - The script times itself: it records its start and its end (`date +%s%N`) in a file, so the
//   measure is its own run time — from its start until its last write has been taken by its
//   reader — not the reader's start-up or its work after the script has ended.
// - Side by side, the same script: to /dev/null (the baseline), `| cat` (the floor for any
//   reader of a pipe), under keruta-agent with streaming off (reading and echoing only), and under
//   keruta-agent streaming to a live keruta-api (the agent's stdout to /dev/null, as a CI
//   runner's would be). The target is the script's own run time under the streaming agent over
//   its run time to /dev/null. Each is the best of two runs: on a shared machine the neighbours'
//   load decides single runs.
// - Reported separately, and informative only: the agent's total wall time until every line is
//   stored and acknowledged and the agent has exited. That one is bound by keruta-api's ingest
//   rate (here on the same two cores as the script), not by what the script pays.
// - keruta-api runs here on the same two cores as the script and ingests at full speed for the
//   whole run: its CPU is taken from the script, which a server on its own machine would not do.
//   So the same run is also measured against a second keruta-api whose threads only get CPU that
//   would otherwise be idle (SCHED_IDLE by `chrt -i`, else nice 19: as if on its own machine), and
//   against a stand-in that never acknowledges (the agent alone). The target row is the one with
//   keruta-api as if on its own machine, as a live server is in use: the issue asks what the agent
//   costs the script, and on two cores keruta-api at the script's priority takes a whole core for
//   the whole run. What that alone costs any reader is measured too: the script through `| cat`
//   while a busy loop at the same priority holds one core (session 3: 1.4–1.5×, above the 1.3×
//   target before the agent does anything). The same-core run is reported beside it.
// - Then a 50 MB burst for the agent's peak RSS (VmHWM from /proc, every process of the agent).
// Run alone: node bench/scenarios/agent-overhead.mjs [--quick]   (needs `npm run build` first)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnServer } from '@keruta/testing';
import { WebSocketServer } from 'ws';
import { findAgentCli } from '../lib/keruta.mjs';
import { besideBusyLoops, MB, ratioRow, round, row } from '../lib/measure.mjs';

const SCENARIO = 'agent-overhead';
const LINE_BYTES = 100;
const BURST_BYTES = 50 * 1000 * 1000;
/** Each way is run this many times, round by round; the best of them counts. */
const ROUNDS = 3;

/**
 * `lines.sh TOTAL TIMING_FILE`: TOTAL lines of 100 bytes ("0000001 xxx…") as fast as awk prints
 * them, block-buffered; writes "<start ns> <end ns>" to TIMING_FILE.
 */
const SCRIPT = `#!/bin/sh
start=$(date +%s%N)
awk -v total="$1" 'BEGIN { pad = sprintf("%0${LINE_BYTES - 9}d", 0); gsub(/0/, "x", pad); for (i = 1; i <= total; i++) printf "%07d %s\\n", i, pad }'
end=$(date +%s%N)
echo "$start $end" > "$2"
`;

/** Peak resident set so far (VmHWM), in bytes; 0 once the process is gone. */
function peakRssOf(pid) {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Runs `command args` with stdout to /dev/null; resolves with its wall time and peak RSS. */
function timed(command, args, env = process.env) {
  const devNull = openSync('/dev/null', 'w');
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', devNull, 'pipe'], env });
  closeSync(devNull);
  let stderr = '';
  let peak = 0;
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const sampler = setInterval(() => (peak = Math.max(peak, peakRssOf(child.pid))), 10);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearInterval(sampler);
      resolve({ ms: performance.now() - started, code, stderr, peakRss: peak });
    });
  });
}

/**
 * Every thread of a process only on CPU time nothing else wants: SCHED_IDLE (util-linux `chrt`),
 * or where that is missing the lowest nice value (per thread on Linux). Returns which it was.
 */
function deprioritize(pid) {
  if (spawnSync('chrt', ['--idle', '--all-tasks', '--pid', '0', String(pid)], { stdio: 'ignore' }).status === 0) return 'SCHED_IDLE';
  for (const tid of readdirSync(`/proc/${pid}/task`)) setPriority(Number(tid), 19);
  return 'nice 19';
}

async function json(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.json();
}

export async function run({ quick = false, serverUrl } = {}) {
  const total = quick ? 100_000 : 1_000_000;
  const burstLines = Math.round(BURST_BYTES / LINE_BYTES);
  const cli = findAgentCli();
  if (cli === undefined) return [row(SCENARIO, 'keruta-agent not built', 'n/a', '', { pass: false })];
  const work = mkdtempSync(join(tmpdir(), 'keruta-bench-agent-'));
  const script = join(work, 'lines.sh');
  writeFileSync(script, SCRIPT);
  chmodSync(script, 0o755);
  const timing = join(work, 'timing');
  const spoolDir = join(work, 'spool');
  const load = loadavg()[0];
  const server = serverUrl === undefined ? await spawnServer() : undefined;
  const base = (serverUrl ?? server.baseUrl).replace(/\/+$/, '');
  const apiUrl = `${base}/api/v1`;
  const env = {
    ...process.env,
    KERUTA_WEBSOCKET_URL: `${base.replace(/^http/, 'ws')}/ws/tasks`,
    KERUTA_API_URL: apiUrl,
    KERUTA_LOG_SPOOL_DIR: spoolDir,
    // Wait as long as it takes: the total is until every line is stored.
    KERUTA_LOG_EXIT_TIMEOUT: '10m',
  };
  // The same keruta-api a second time, all of its threads at the lowest CPU priority.
  const calmServer = await spawnServer();
  const calmPolicy = deprioritize(calmServer.pid);
  const calmBase = calmServer.baseUrl.replace(/\/+$/, '');
  const calmEnv = { ...env, KERUTA_WEBSOCKET_URL: `${calmBase.replace(/^http/, 'ws')}/ws/tasks`, KERUTA_API_URL: `${calmBase}/api/v1` };
  const stamp = Date.now();
  // A WebSocket server that takes every batch and never answers: the agent's own cost, without
  // keruta-api's CPU on the same cores (the agent sends two batches, then waits; lines stay spooled).
  const standIn = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => standIn.once('listening', resolve));
  standIn.on('connection', (socket) => socket.on('message', () => undefined));
  const standInEnv = {
    ...env,
    KERUTA_WEBSOCKET_URL: `ws://127.0.0.1:${standIn.address().port}/ws/tasks`,
    KERUTA_LOG_SPOOL_DIR: join(work, 'stand-in-spool'),
    KERUTA_LOG_EXIT_TIMEOUT: '0s',
  };

  /** One run of `command args`; adds the script's own run time (ms) from its timing file. */
  const once = async (command, args, options) => {
    rmSync(timing, { force: true });
    const result = await timed(command, args, options);
    if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.code}: ${result.stderr}`);
    const [start, end] = readFileSync(timing, 'utf8').trim().split(' ').map(BigInt);
    return { ...result, scriptMs: Number(end - start) / 1e6 };
  };
  const agentArgs = (taskId, lines, ...flags) => [cli, 'execute', '--task-id', taskId, '--script', script, ...flags, '--', String(lines), timing];
  const best = (runs, key) => Math.min(...runs.map((r) => r[key]));

  try {
    // Round by round, each way once per round, so that a neighbour's burst of load hits all alike.
    const sides = { alone: [], throughCat: [], throughCatBusy: [], offline: [], standIn: [], streamed: [], calm: [] };
    const taskIds = [];
    const calmTaskIds = [];
    const throughCatArgs = ['-c', `'${script}' ${total} '${timing}' | cat > /dev/null`];
    for (let round = 1; round <= ROUNDS; round++) {
      sides.alone.push(await once('sh', ['-c', `'${script}' ${total} '${timing}' > /dev/null`]));
      sides.throughCat.push(await once('sh', throughCatArgs));
      sides.throughCatBusy.push(await besideBusyLoops(1, () => once('sh', throughCatArgs)));
      sides.offline.push(await once(process.execPath, agentArgs('offline', total, '--disable-log-streaming'), env));
      sides.standIn.push(await once(process.execPath, agentArgs(`stand-in-${round}`, total), standInEnv));
      rmSync(standInEnv.KERUTA_LOG_SPOOL_DIR, { recursive: true, force: true });
      taskIds.push(`agent-overhead-${stamp}-${round}`);
      sides.streamed.push(await once(process.execPath, agentArgs(taskIds.at(-1), total), env));
      calmTaskIds.push(`agent-overhead-calm-${stamp}-${round}`);
      sides.calm.push(await once(process.execPath, agentArgs(calmTaskIds.at(-1), total), calmEnv));
    }
    const [alone, throughCat, throughCatBusy, offline, standInMs, streamed, calm] = ['alone', 'throughCat', 'throughCatBusy', 'offline', 'standIn', 'streamed', 'calm'].map((side) => best(sides[side], 'scriptMs'));
    const streamedTotal = best(sides.streamed, 'ms');
    const peakRss = Math.max(...sides.streamed.map((r) => r.peakRss));
    let missing = 0;
    for (const taskId of taskIds) missing += Math.abs(total + 2 - (await json(`${apiUrl}/tasks/${taskId}`)).totalLogs);
    for (const taskId of calmTaskIds) missing += Math.abs(total + 2 - (await json(`${calmBase}/api/v1/tasks/${taskId}`)).totalLogs);

    const burst = await once(process.execPath, agentArgs(`agent-burst-${stamp}`, burstLines), env);
    const of = `best of ${ROUNDS}`;

    return [
      row(SCENARIO, `machine load average (1 min) at the start, ${total} lines of ${LINE_BYTES} B by awk (4 KiB writes)`, round(load, 2), ''),
      row(SCENARIO, `script's own run time, to /dev/null (${of})`, round(alone, 0), 'ms'),
      row(SCENARIO, `script's own run time, | cat > /dev/null: the floor through a pipe (${of})`, round(throughCat, 0), 'ms'),
      row(SCENARIO, `script's own run time, | cat > /dev/null while a busy loop holds the other core: the floor for any reader beside a busy keruta-api (${of})`, round(throughCatBusy, 0), 'ms'),
      row(SCENARIO, `script's own run time under keruta-agent --disable-log-streaming: reading and echoing (${of})`, round(offline, 0), 'ms'),
      row(SCENARIO, `script's own run time under keruta-agent streaming to a stand-in that never acknowledges: the agent without keruta-api's CPU (${of})`, round(standInMs, 0), 'ms'),
      row(SCENARIO, `script's own run time under keruta-agent streaming to keruta-api, on the same cores at the same priority (${of})`, round(streamed, 0), 'ms'),
      row(SCENARIO, `script's own run time under keruta-agent streaming to keruta-api at ${calmPolicy}, as if on its own machine (${of})`, round(calm, 0), 'ms'),
      ratioRow(SCENARIO, `script's own run time: under the agent streaming to keruta-api as if on its own machine (${calmPolicy}) / to /dev/null`, calm, alone, { limit: 1.3 }),
      ratioRow(SCENARIO, "script's own run time: under the agent streaming to keruta-api on the same two cores at the same priority / to /dev/null (informative)", streamed, alone),
      ratioRow(SCENARIO, "script's own run time: | cat while a busy loop holds the other core / to /dev/null (the floor of the same-core row)", throughCatBusy, alone),
      ratioRow(SCENARIO, "script's own run time: | cat / to /dev/null (for scale)", throughCat, alone),
      ratioRow(SCENARIO, "script's own run time: agent with streaming off / to /dev/null (informative)", offline, alone),
      ratioRow(SCENARIO, "script's own run time: agent streaming to the never-acknowledging stand-in / to /dev/null (informative)", standInMs, alone),
      row(SCENARIO, `keruta-agent wall time until every line is stored, acknowledged and the agent exited (informative: keruta-api's ingest rate; ${of})`, round(streamedTotal, 0), 'ms'),
      ratioRow(SCENARIO, 'agent wall time until all acknowledged / script to /dev/null (informative)', streamedTotal, alone),
      row(SCENARIO, 'delivery rate (agent → keruta-api → SQLite, acknowledged)', Math.round(total / (streamedTotal / 1000)), 'lines/s'),
      row(SCENARIO, `entries missing or extra on the servers (${2 * ROUNDS} runs)`, missing, 'entries', { target: '0', pass: missing === 0 }),
      row(SCENARIO, `keruta-agent peak RSS, ${BURST_BYTES / 1e6} MB burst (${burstLines} lines)`, round(burst.peakRss / MB, 1), 'MB', {
        target: '< 80 MB',
        pass: burst.peakRss > 0 && burst.peakRss < 80 * MB,
      }),
      row(SCENARIO, `keruta-agent peak RSS, ${total} lines`, round(peakRss / MB, 1), 'MB'),
    ];
  } finally {
    for (const client of standIn.clients) client.terminate();
    await new Promise((resolve) => standIn.close(resolve));
    await server?.stop();
    await calmServer.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
