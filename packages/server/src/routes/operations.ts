// /health and /metrics: for load balancers and Prometheus, outside /api/v1.
import type { FastifyInstance } from 'fastify';
import type { Health } from '@keruta/protocol';
import type { LogStore } from '@keruta/storage';
import type { LogBus } from '../bus/log-bus.js';
import type { ServerMetrics } from '../metrics.js';
import type { WriteHealth } from '../write-health.js';

export interface OperationsDeps {
  store: LogStore;
  bus: LogBus;
  metrics: ServerMetrics;
  writeHealth: WriteHealth;
}

async function check(name: string, probe: () => Promise<void>): Promise<[string, Health['checks'][string]]> {
  try {
    await probe();
    return [name, { status: 'up' }];
  } catch (error) {
    return [name, { status: 'down', message: (error as Error).message }];
  }
}

export function registerOperationRoutes(app: FastifyInstance, { store, bus, metrics, writeHealth }: OperationsDeps): void {
  app.get('/health', async (_request, reply) => {
    const checks = Object.fromEntries(
      await Promise.all([
        check('store', () => store.ping()),
        check('bus', () => bus.ping()),
      ]),
    );
    // A store that answers pings but stores nothing is no healthier than one that is gone.
    checks.writes = writeHealth.check();
    const healthy = Object.values(checks).every((c) => c.status === 'up');
    const body: Health = {
      status: healthy ? 'healthy' : 'unhealthy',
      checks: {
        ...checks,
        store: { ...checks.store!, message: checks.store?.message ?? store.kind },
        bus: { ...checks.bus!, message: checks.bus?.message ?? bus.kind },
      },
    };
    return reply.code(healthy ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
