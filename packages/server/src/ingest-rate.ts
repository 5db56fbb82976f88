// keruta_ingest_entries_per_second: entries stored per second over the last INGEST_WINDOW_S whole
// seconds, for dashboards without Prometheus's rate(); keruta_entries_appended_total stays the source.
import { Gauge, type Registry } from 'prom-client';

/** Seconds over which keruta_ingest_entries_per_second averages. */
const INGEST_WINDOW_S = 10;

/** Registers the gauge on `registry`; returns the function that counts `count` entries stored just now. */
export function registerIngestRate(registry: Registry): (count: number) => void {
  // One bucket a second, in a ring; the one of the current second is not averaged yet.
  const buckets = new Float64Array(INGEST_WINDOW_S + 1);
  let current = Math.floor(Date.now() / 1000);
  const advance = (now: number): void => {
    const second = Math.floor(now / 1000);
    for (let s = current + 1; s <= Math.min(second, current + buckets.length); s++) buckets[s % buckets.length] = 0;
    current = Math.max(current, second);
  };
  new Gauge({
    name: 'keruta_ingest_entries_per_second',
    help: `Entries stored per second by this instance, averaged over the last ${INGEST_WINDOW_S} s`,
    registers: [registry],
    collect() {
      advance(Date.now());
      let sum = 0;
      for (let s = current - INGEST_WINDOW_S; s < current; s++) sum += buckets[s % buckets.length] ?? 0;
      this.set(sum / INGEST_WINDOW_S);
    },
  });
  return (count) => {
    const now = Date.now();
    advance(now);
    const slot = Math.floor(now / 1000) % buckets.length;
    buckets[slot] = (buckets[slot] ?? 0) + count;
  };
}
