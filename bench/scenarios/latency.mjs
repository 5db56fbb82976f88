// latency: a script prints 2,000 lines, one every 5 ms; each line's time from printed (its
// hrtime stamp) to received on one subscriber, p50/p99/max, for keruta's whole path
// (agent → keruta-api → SQLite → `batch:true` subscriber) beside websocketd, frontail and a
// raw pipe in the same run: each line is its own write, which websocketd reads straight from the
// script's stdout. keruta stores every line before it sends it on; the peers store nothing.
// Also keruta-api's and the agent's CPU per line when lines come alone (a batch per line).
// Then keruta alone on a busy machine: a line every 20 ms while busy loops hold every core (a
// parallel build beside its own log): outside a burst of output the agent runs at the normal
// priority (packages/agent/src/run/priority.ts), so a lone line must still pass at once.
// Run alone: node bench/scenarios/latency.mjs [--quick]   (needs `npm run build` first)
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { besideBusyLoops, createLatencyRecorder, round, row } from '../lib/measure.mjs';
import { createLineTally, createTaskScript } from '../lib/script.mjs';
import { IDLE_MS, PEERS, cellOf, faultsOf, numberOf, runKeruta, runSides } from '../lib/sides.mjs';

const SCENARIO = 'latency';
const INTERVAL_MS = 5;
const BUSY_INTERVAL_MS = 20;

/** keruta's whole path while busy loops hold every core: the latency recorder and the tallies. */
async function onABusyMachine(total) {
  const script = createTaskScript();
  try {
    const latency = createLatencyRecorder();
    const tallies = [createLineTally(total, { latency })];
    await besideBusyLoops(availableParallelism(), () => runKeruta({ script: script.path, args: [String(total), String(BUSY_INTERVAL_MS)], tallies }));
    return { latency, tallies };
  } finally {
    script.remove();
  }
}

export async function run({ quick = false } = {}) {
  const total = quick ? 200 : 2000;
  const sides = await runSides({ total, intervalMs: INTERVAL_MS, latency: true, agentStartup: true });
  const keruta = sides.keruta;
  const at = (p) => (side) => round(side.latency.percentile(p), 2);
  const max = (side) => round(side.latency.max, 2);
  const peers = (value, options) => Object.fromEntries(PEERS.map((p) => [p, cellOf(sides[p], value, options)]));
  const p50 = numberOf(keruta, at(50));
  const p99 = numberOf(keruta, at(99));
  const peerP99 = numberOf(sides.websocketd, at(99));
  const faults = faultsOf(keruta.tallies);
  const busyTotal = quick ? 50 : 250;
  const busy = await onABusyMachine(busyTotal);
  const busyFaults = faultsOf(busy.tallies);
  const busyLoops = `${availableParallelism()} busy loops`;
  return [
    row(SCENARIO, `${total} lines every ${INTERVAL_MS} ms, printed → received, p50 (${keruta.label})`, cellOf(keruta, at(50)), 'ms', {
      target: '<= 2 ms',
      pass: p50 !== undefined && p50 <= 2,
      peers: peers(at(50)),
    }),
    row(SCENARIO, 'printed → received, p99', cellOf(keruta, at(99)), 'ms', {
      target: "<= websocketd's p99",
      ...(p99 === undefined || peerP99 === undefined ? {} : { pass: p99 <= peerP99 }),
      peers: peers(at(99)),
    }),
    row(SCENARIO, 'printed → received, max', cellOf(keruta, max), 'ms', { peers: peers(max) }),
    row(SCENARIO, 'lines lost or duplicated', faults, 'lines', { target: '0', pass: faults === 0, peers: peers((s) => faultsOf(s.tallies), { evenIfLost: true }) }),
    row(SCENARIO, 'CPU of keruta-api per line printed alone (its idle timers included)', round((keruta.serverCpuMs * 1000) / total, 1), 'µs'),
    row(
      SCENARIO,
      'CPU of keruta-api per line printed alone, less its idle CPU over the same time',
      keruta.serverIdleCpuMs === undefined ? 'n/a' : round(((keruta.serverCpuMs - (keruta.serverIdleCpuMs * total * INTERVAL_MS) / IDLE_MS) * 1000) / total, 1),
      'µs',
    ),
    row(SCENARIO, `keruta-api's CPU idle, with the subscriber connected`, keruta.serverIdleCpuMs === undefined ? 'n/a' : round((keruta.serverIdleCpuMs * 1000) / IDLE_MS, 1), 'ms/s'),
    row(
      SCENARIO,
      'CPU of keruta-agent per line printed alone (after its start-up: less a one-line run\'s CPU)',
      keruta.agentCpuMs === undefined || keruta.agentStartupCpuMs === undefined ? 'n/a' : round(((keruta.agentCpuMs - keruta.agentStartupCpuMs) * 1000) / total, 1),
      'µs',
    ),
    row(SCENARIO, `on a busy machine (${busyLoops} hold every core): ${busyTotal} lines every ${BUSY_INTERVAL_MS} ms, printed → received, p50 (informative)`, round(busy.latency.percentile(50), 2), 'ms'),
    row(SCENARIO, `on a busy machine: printed → received, p99`, round(busy.latency.percentile(99), 2), 'ms'),
    row(SCENARIO, `on a busy machine: printed → received, max`, round(busy.latency.max, 2), 'ms'),
    row(SCENARIO, 'on a busy machine: lines lost or duplicated', busyFaults, 'lines', { target: '0', pass: busyFaults === 0 }),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
