// Prometheus metrics of one keruta-api instance, on a registry of its own so that several
// servers can live in one process (tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly entriesAppended: Counter<'path'>;
  readonly duplicatesSkipped: Counter;
  /** Writes under another writer's run: a refused batch (`writer`) or a differing line (`line`). */
  readonly runConflicts: Counter<'kind'>;
  readonly subscribers: Gauge;
  readonly connections: Gauge;
  readonly slowConsumers: Counter;
  readonly storeLatency: Histogram<'operation'>;
  /** Seconds from publish on another instance to receipt on this one. */
  readonly busLag: Histogram;
  /** Times a task feed found entries in the store that the bus had not brought. */
  readonly busStoreAhead: Counter;
  /** Agents' own entries (started, exited, reconnected, spooled, delivered), by event. */
  readonly agentEvents: Counter<'event'>;
  /** Batches the store refused (DATABASE_ERROR): their agents keep the lines and send them again. */
  readonly ingestFailures: Counter<'path'>;
  /** Counts `count` entries stored just now, for the per-second ingest rate. */
  recordIngest(count: number): void;
  /** Tells the buffered-bytes gauge where to read the sum of unsent WebSocket bytes. */
  setWsBufferedSource(source: () => number): void;
  /** Times `work` into the store-latency histogram under `operation`. */
  timeStore<T>(operation: string, work: () => Promise<T>): Promise<T>;
}

/** Seconds over which keruta_ingest_entries_per_second averages. */
const INGEST_WINDOW_S = 10;

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keruta_' });
  // prom-client adds gauges named `…_total`, which Prometheus reserves for counters (promtool
  // check metrics refuses them); each is the sum of its per-type gauge, which stays.
  for (const name of ['keruta_nodejs_active_resources_total', 'keruta_nodejs_active_handles_total', 'keruta_nodejs_active_requests_total']) {
    registry.removeSingleMetric(name);
  }
  const storeLatency = new Histogram({
    name: 'keruta_store_latency_seconds',
    help: 'Time spent in the log store, by operation',
    labelNames: ['operation'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  let wsBufferedSource = (): number => 0;
  // Entries stored per second over the last INGEST_WINDOW_S whole seconds, for dashboards
  // without Prometheus's rate(); the counter keruta_entries_appended_total stays the source.
  const ingestBuckets = new Float64Array(INGEST_WINDOW_S + 1);
  let ingestSecond = Math.floor(Date.now() / 1000);
  const advanceIngest = (now: number): void => {
    const second = Math.floor(now / 1000);
    for (let s = ingestSecond + 1; s <= Math.min(second, ingestSecond + ingestBuckets.length); s++) ingestBuckets[s % ingestBuckets.length] = 0;
    ingestSecond = Math.max(ingestSecond, second);
  };
  new Gauge({
    name: 'keruta_ingest_entries_per_second',
    help: `Entries stored per second by this instance, averaged over the last ${INGEST_WINDOW_S} s`,
    registers: [registry],
    collect() {
      advanceIngest(Date.now());
      let sum = 0;
      for (let s = ingestSecond - INGEST_WINDOW_S; s < ingestSecond; s++) sum += ingestBuckets[s % ingestBuckets.length] ?? 0;
      this.set(sum / INGEST_WINDOW_S);
    },
  });
  new Gauge({
    name: 'keruta_ws_buffered_bytes',
    help: 'Bytes queued in the server for WebSocket clients and not yet handed to the kernel',
    registers: [registry],
    collect() {
      this.set(wsBufferedSource());
    },
  });
  return {
    registry,
    setWsBufferedSource(source) {
      wsBufferedSource = source;
    },
    httpRequests: new Counter({
      name: 'keruta_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    entriesAppended: new Counter({
      name: 'keruta_entries_appended_total',
      help: 'Log entries stored, by the path they came in on (ws or rest)',
      labelNames: ['path'] as const,
      registers: [registry],
    }),
    duplicatesSkipped: new Counter({
      name: 'keruta_duplicates_skipped_total',
      help: 'Entries not stored because the task already held their runId and runSeq',
      registers: [registry],
    }),
    runConflicts: new Counter({
      name: 'keruta_run_conflicts_total',
      help: "Writes that collided with another writer's run: batches refused (kind=writer) and lines whose runSeq was held with other text (kind=line)",
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    subscribers: new Gauge({ name: 'keruta_subscribers', help: 'Live WebSocket subscriptions', registers: [registry] }),
    connections: new Gauge({ name: 'keruta_ws_connections', help: 'Open WebSocket connections', registers: [registry] }),
    slowConsumers: new Counter({
      name: 'keruta_slow_consumers_total',
      help: 'Subscribers closed with SLOW_CONSUMER',
      registers: [registry],
    }),
    storeLatency,
    busLag: new Histogram({
      name: 'keruta_bus_lag_seconds',
      help: 'Time from publish on another instance to receipt on this one (Redis bus)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    busStoreAhead: new Counter({
      name: 'keruta_bus_store_ahead_total',
      help: 'Times a task feed found entries in the store that the bus had not brought (lost or late messages)',
      registers: [registry],
    }),
    agentEvents: new Counter({
      name: 'keruta_agent_events_total',
      help: 'Agents\' own entries by event; "spooled" means an agent is keeping lines on disk because it could not deliver them',
      labelNames: ['event'] as const,
      registers: [registry],
    }),
    ingestFailures: new Counter({
      name: 'keruta_ingest_failures_total',
      help: 'Batches and entries the store refused (DATABASE_ERROR), by path; their senders keep them and retry',
      labelNames: ['path'] as const,
      registers: [registry],
    }),
    recordIngest(count) {
      const now = Date.now();
      advanceIngest(now);
      const slot = Math.floor(now / 1000) % ingestBuckets.length;
      ingestBuckets[slot] = (ingestBuckets[slot] ?? 0) + count;
    },
    async timeStore(operation, work) {
      const end = storeLatency.startTimer({ operation });
      try {
        return await work();
      } finally {
        end();
      }
    },
  };
}
