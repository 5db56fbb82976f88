// Prometheus metrics of one keruta-api instance, on a registry of its own so that several
// servers can live in one process (tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly entriesAppended: Counter<'path'>;
  readonly duplicatesSkipped: Counter;
  readonly subscribers: Gauge;
  readonly connections: Gauge;
  readonly slowConsumers: Counter;
  readonly storeLatency: Histogram<'operation'>;
  /** Tells the buffered-bytes gauge where to read the sum of unsent WebSocket bytes. */
  setWsBufferedSource(source: () => number): void;
  /** Times `work` into the store-latency histogram under `operation`. */
  timeStore<T>(operation: string, work: () => Promise<T>): Promise<T>;
}

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keruta_' });
  const storeLatency = new Histogram({
    name: 'keruta_store_latency_seconds',
    help: 'Time spent in the log store, by operation',
    labelNames: ['operation'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  let wsBufferedSource = (): number => 0;
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
    subscribers: new Gauge({ name: 'keruta_subscribers', help: 'Live WebSocket subscriptions', registers: [registry] }),
    connections: new Gauge({ name: 'keruta_ws_connections', help: 'Open WebSocket connections', registers: [registry] }),
    slowConsumers: new Counter({
      name: 'keruta_slow_consumers_total',
      help: 'Subscribers closed with SLOW_CONSUMER',
      registers: [registry],
    }),
    storeLatency,
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
