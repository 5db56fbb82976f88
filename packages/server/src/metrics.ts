// Prometheus metrics of one keruta-api instance, on a registry of its own so that several
// servers can live in one process (tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerIngestRate } from './ingest-rate.js';

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
  const recordIngest = registerIngestRate(registry);
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
    recordIngest,
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
