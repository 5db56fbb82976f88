// burst: a script prints 200,000 build-log lines of 100 bytes as fast as it can; one subscriber;
// the time from the first line printed to the last line received. Twice: written in 64 KiB
// writes (lines cut across writes, as a block-buffered program prints) and in writes of 500 whole
// lines; every side runs the same script with the same writes. keruta runs the whole path —
// keruta-agent → keruta-api → SQLite → a `batch:true` subscriber — beside websocketd (the
// script's stdout straight to one WebSocket client, nothing stored), frontail (the script
// appends to a file that frontail tails to a socket.io client) and a raw pipe (the floor), all
// in this run. Also, per line, the CPU time of keruta-api and of keruta-agent, the bytes the
// SQLite store holds (file + WAL after a checkpoint) beside the raw text's, and their peak RSS.
// Run alone: node bench/scenarios/burst.mjs [--quick]   (needs `npm run build` first)
import { pathToFileURL } from 'node:url';
import { MB, ratioRow, round, row } from '../lib/measure.mjs';
import { LINE_BYTES, WRITES } from '../lib/script.mjs';
import { PEERS, cellOf, faultsOf, numberOf, runSides, spanMs } from '../lib/sides.mjs';

const SCENARIO = 'burst';

/** The rows of one burst, written as `writes` says; `targets` on the run the targets name. */
async function burstRows(total, writes, label, targets) {
  const sides = await runSides({ total, writes, agentStartup: true });
  const keruta = sides.keruta;
  const time = (side) => round(spanMs(side.tallies), 1);
  const peers = (value, options) => Object.fromEntries(PEERS.map((p) => [p, cellOf(sides[p], value, options)]));
  const kerutaMs = numberOf(keruta, time);
  const faults = faultsOf(keruta.tallies);
  const perLine = (ms) => (ms === undefined ? 'n/a' : round((ms * 1000) / total, 2));
  const apiPerLine = perLine(keruta.serverCpuMs);
  const agentAfterStart = keruta.agentCpuMs === undefined || keruta.agentStartupCpuMs === undefined ? undefined : keruta.agentCpuMs - keruta.agentStartupCpuMs;
  const rows = [
    row(SCENARIO, `${label}: ${total} lines, first printed → last received (${keruta.label})`, cellOf(keruta, time), 'ms', { peers: peers(time) }),
    row(SCENARIO, `${label}: lines lost or duplicated`, faults, 'lines', { target: '0', pass: faults === 0, peers: peers((s) => faultsOf(s.tallies), { evenIfLost: true }) }),
    ratioRow(SCENARIO, `${label}: keruta time ÷ websocketd time`, kerutaMs, numberOf(sides.websocketd, time), targets ? { limit: 1 } : {}),
    ratioRow(SCENARIO, `${label}: keruta time ÷ raw pipe time`, kerutaMs, numberOf(sides['raw pipe'], time), targets ? { limit: 6 } : {}),
    ratioRow(SCENARIO, `${label}: keruta time ÷ frontail time`, kerutaMs, numberOf(sides.frontail, time)),
    row(SCENARIO, `${label}: CPU of keruta-api per line (user + system, from /proc; 2 cores are shared by all)`, apiPerLine, 'µs', {
      ...(targets ? { target: '<= 4 µs', pass: typeof apiPerLine === 'number' && apiPerLine <= 4 } : {}),
    }),
    row(SCENARIO, `${label}: CPU of keruta-agent per line (after its start-up: less a one-line run's CPU)`, agentAfterStart === undefined ? 'n/a' : perLine(agentAfterStart), 'µs'),
    row(SCENARIO, `${label}: CPU time of keruta-api / keruta-agent during the burst (a one-line agent run)`, `${keruta.serverCpuMs} / ${keruta.agentCpuMs ?? 'n/a'} (${keruta.agentStartupCpuMs ?? 'n/a'})`, 'ms'),
  ];
  if (targets) {
    const perStored = keruta.storedBytes === undefined ? undefined : keruta.storedBytes / keruta.storedLines;
    rows.push(
      row(SCENARIO, `stored bytes per line: SQLite file + WAL after a checkpoint ÷ ${keruta.storedLines} lines stored (the warm-up's ${keruta.storedLines - total} and the burst's)`, perStored === undefined ? 'n/a' : round(perStored, 1), 'B', {
        target: `<= ${LINE_BYTES} B (the raw text's)`,
        ...(perStored === undefined ? {} : { pass: perStored <= LINE_BYTES }),
      }),
      row(SCENARIO, 'raw text bytes per line (build-log lines, newline included)', LINE_BYTES, 'B'),
      row(SCENARIO, 'stored bytes ÷ raw text bytes', perStored === undefined ? 'n/a' : round(perStored / LINE_BYTES, 2), '×'),
      row(SCENARIO, 'keruta-api peak RSS during the burst', round(keruta.serverPeak / MB, 1), 'MB', { target: '<= 200 MB', pass: keruta.serverPeak <= 200 * MB }),
      keruta.agentPeak === undefined
        ? row(SCENARIO, 'keruta-agent peak RSS during the burst', 'n/a (no agent built)', 'MB')
        : row(SCENARIO, 'keruta-agent peak RSS during the burst', round(keruta.agentPeak / MB, 1), 'MB', { target: '<= 80 MB', pass: keruta.agentPeak <= 80 * MB }),
    );
  }
  return rows;
}

export async function run({ quick = false } = {}) {
  const total = quick ? 50_000 : 200_000;
  return [...(await burstRows(total, WRITES.bytes64k, '64 KiB writes', true)), ...(await burstRows(total, WRITES.lines500, '500-line writes', false))];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
