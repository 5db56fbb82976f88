// burst: a script prints 200,000 lines of 100 bytes as fast as it can; one subscriber; the time
// from the first line printed to the last line received. keruta runs the whole path —
// keruta-agent → keruta-api → SQLite → a `batch:true` subscriber — beside websocketd (the
// script's stdout straight to one WebSocket client, nothing stored), frontail (the script
// appends to a file that frontail tails to a socket.io client) and a raw pipe (the floor), all
// in this run. Also the peak RSS of keruta-api and of keruta-agent during the burst.
// Run alone: node bench/scenarios/burst.mjs [--quick]   (needs `npm run build` first)
import { pathToFileURL } from 'node:url';
import { MB, ratioRow, round, row } from '../lib/measure.mjs';
import { PEERS, cellOf, faultsOf, numberOf, runSides, spanMs } from '../lib/sides.mjs';

const SCENARIO = 'burst';

export async function run({ quick = false } = {}) {
  const total = quick ? 50_000 : 200_000;
  const sides = await runSides({ total });
  const keruta = sides.keruta;
  const time = (side) => round(spanMs(side.tallies), 1);
  const peers = (value, options) => Object.fromEntries(PEERS.map((p) => [p, cellOf(sides[p], value, options)]));
  const kerutaMs = numberOf(keruta, time);
  const faults = faultsOf(keruta.tallies);
  return [
    row(SCENARIO, `${total} lines, first printed → last received (${keruta.label})`, cellOf(keruta, time), 'ms', { peers: peers(time) }),
    row(SCENARIO, 'lines lost or duplicated', faults, 'lines', { target: '0', pass: faults === 0, peers: peers((s) => faultsOf(s.tallies), { evenIfLost: true }) }),
    ratioRow(SCENARIO, 'keruta time ÷ websocketd time', kerutaMs, numberOf(sides.websocketd, time), { limit: 0.4 }),
    ratioRow(SCENARIO, 'keruta time ÷ raw pipe time', kerutaMs, numberOf(sides['raw pipe'], time), { limit: 5 }),
    ratioRow(SCENARIO, 'keruta time ÷ frontail time', kerutaMs, numberOf(sides.frontail, time)),
    row(SCENARIO, 'keruta-api peak RSS during the burst', round(keruta.serverPeak / MB, 1), 'MB', { target: '<= 200 MB', pass: keruta.serverPeak <= 200 * MB }),
    keruta.agentPeak === undefined
      ? row(SCENARIO, 'keruta-agent peak RSS during the burst', 'n/a (no agent built)', 'MB')
      : row(SCENARIO, 'keruta-agent peak RSS during the burst', round(keruta.agentPeak / MB, 1), 'MB', { target: '<= 80 MB', pass: keruta.agentPeak <= 80 * MB }),
    row(SCENARIO, 'CPU time of keruta-api during the burst (informative: 2 cores are shared by all)', keruta.serverCpuMs, 'ms'),
    row(SCENARIO, 'CPU time of keruta-agent during the burst (informative)', keruta.agentCpuMs ?? 'n/a', 'ms'),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
