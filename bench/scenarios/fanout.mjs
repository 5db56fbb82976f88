// fan-out: one script's 20,000-line burst (64 KiB writes) to 100 subscribers at once, first line
// printed → last line on the last subscriber. keruta runs one script and stores every line once,
// then sends each batch frame, serialised once, to every subscriber. websocketd runs one process
// per connection, so it is measured wired three ways (baselines.mjs, bench/README.md): one script
// run per client (100 runs of the script); ONE shared `tail -F` of the script's file whose chunks
// a hub copies to each connection's `socat` (the fair row: one stream, as keruta has); a
// `tail -F` per client. frontail tails one file to 100 socket.io clients. Then 1,000 keruta
// subscribers on a 5,000-line burst, with keruta-api's peak RSS.
// Run alone: node bench/scenarios/fanout.mjs [--quick]   (needs `npm run build` first)
import { pathToFileURL } from 'node:url';
import { MB, ratioRow, round, row } from '../lib/measure.mjs';
import { WRITES } from '../lib/script.mjs';
import { cellOf, faultsOf, numberOf, runSides, runWebsocketdSide, spanMs } from '../lib/sides.mjs';

const SCENARIO = 'fan-out';
const PEERS = ['websocketd', 'frontail'];

export async function run({ quick = false } = {}) {
  const total = quick ? 2_000 : 20_000;
  const many = quick ? 250 : 1000;
  // The bench's own process receives for every subscriber: 1,000 × 20,000 lines (5.6 GB of
  // frames) would measure this process, which then falls behind and is closed as a slow consumer.
  const manyTotal = quick ? 1_000 : 5_000;
  const rows = [];

  const writes = WRITES.bytes64k;
  const sides = await runSides({ total, writes, subscribers: 100, peers: PEERS });
  const shared = await runWebsocketdSide({ total, writes, subscribers: 100, wiring: 'shared-tail' });
  const tailEach = await runWebsocketdSide({ total, writes, subscribers: 100, wiring: 'tail-per-client' });
  const keruta = sides.keruta;
  const time = (side) => round(spanMs(side.tallies), 1);
  const peers = (value, options) => Object.fromEntries(PEERS.map((p) => [p, cellOf(sides[p], value, options)]));
  const kerutaMs = numberOf(keruta, time);
  const faults = faultsOf(keruta.tallies);
  rows.push(
    row(SCENARIO, `${total} lines to 100 subscribers, first printed → last received on the last (${keruta.label}; websocketd: one script run per client)`, cellOf(keruta, time), 'ms', { peers: peers(time) }),
    row(SCENARIO, `the same, websocketd: ONE shared tail -F of the script's file, a hub copying its chunks to a socat per connection`, cellOf(keruta, time), 'ms', {
      peers: { websocketd: cellOf(shared, time) },
    }),
    row(SCENARIO, `the same, websocketd: a tail -F of the script's file per client (100 tails)`, cellOf(keruta, time), 'ms', { peers: { websocketd: cellOf(tailEach, time) } }),
    row(SCENARIO, '100 subscribers: lines lost or duplicated (all subscribers)', faults, 'lines', {
      target: '0',
      pass: faults === 0,
      peers: peers((s) => faultsOf(s.tallies), { evenIfLost: true }),
    }),
    row(SCENARIO, '100 subscribers: websocketd lines lost or duplicated, shared tail -F / tail -F per client', `${cellOf(shared, (s) => faultsOf(s.tallies), { evenIfLost: true })} / ${cellOf(tailEach, (s) => faultsOf(s.tallies), { evenIfLost: true })}`, 'lines'),
    ratioRow(SCENARIO, '100 subscribers: websocketd (one shared tail -F) time ÷ keruta time', numberOf(shared, time), kerutaMs, { limit: 3, atMost: false }),
    ratioRow(SCENARIO, '100 subscribers: websocketd (a tail -F per client) time ÷ keruta time', numberOf(tailEach, time), kerutaMs),
    ratioRow(SCENARIO, '100 subscribers: websocketd (one script run per client) time ÷ keruta time', numberOf(sides.websocketd, time), kerutaMs),
    ratioRow(SCENARIO, '100 subscribers: frontail time ÷ keruta time', numberOf(sides.frontail, time), kerutaMs),
    row(SCENARIO, '100 subscribers: closed by the server and resumed with since', keruta.resumes, 'times'),
    row(SCENARIO, '100 subscribers: keruta-api peak RSS', round(keruta.serverPeak / MB, 1), 'MB'),
  );

  const crowd = await runSides({ total: manyTotal, writes, subscribers: many, peers: [], timeoutMs: 300_000 });
  const crowdFaults = faultsOf(crowd.keruta.tallies);
  rows.push(
    row(SCENARIO, `${manyTotal} lines to ${many} subscribers, first printed → last received on the last`, cellOf(crowd.keruta, time), 'ms'),
    row(SCENARIO, `${many} subscribers: lines lost or duplicated (all subscribers)`, crowdFaults, 'lines', { target: '0', pass: crowdFaults === 0 }),
    row(SCENARIO, `${many} subscribers: closed by the server and resumed with since`, crowd.keruta.resumes, 'times', {
      ...(crowd.keruta.errors.length > 0 ? { note: crowd.keruta.errors.join(', ') } : {}),
    }),
    row(SCENARIO, `${many} subscribers: keruta-api RSS idle with them connected`, round(crowd.keruta.idleRss / MB, 1), 'MB'),
    row(SCENARIO, `${many} subscribers: keruta-api peak RSS`, round(crowd.keruta.serverPeak / MB, 1), 'MB', {
      target: '<= 400 MB',
      pass: crowd.keruta.serverPeak <= 400 * MB,
    }),
  );
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
