// Builds a keruta-api instance from a frozen config: store, bus, HTTP routes and the WebSocket
// endpoint, ready to listen. Tests and the CLI both start servers through here.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { createLogStore, type LogStore } from '@keruta/storage';
import { createAuthenticator, type Authenticator } from './auth/authenticator.js';
import { createFailureLimiter } from './auth/create-failure-limiter.js';
import { registerHttpAuth } from './auth/http-auth.js';
import { connectSharedCounters, type SharedCounters } from './auth/shared-counters.js';
import { createBus } from './bus/create-bus.js';
import type { LogBus } from './bus/log-bus.js';
import type { ServerConfig } from './config.js';
import { createConnectionLimits, registerAuthenticatedMarker } from './http/connection-limits.js';
import { registerJsonOnlyBodies } from './http/content-type-guard.js';
import { createFastifyApp } from './http/fastify-app.js';
import { registerOriginGuard } from './http/origin-guard.js';
import { registerEarlyClose } from './http/request-timeouts.js';
import { createTurnQueue } from './event-loop.js';
import { createIngest } from './ingest.js';
import { createWriteHealth } from './write-health.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { registerAdminPage } from './routes/admin-page.js';
import { registerLogRoutes } from './routes/logs.js';
import { registerOperationRoutes } from './routes/operations.js';
import { registerCompareRoutes } from './routes/compare.js';
import { registerSummaryRoutes } from './routes/summary.js';
import { registerSearchRoutes } from './routes/search.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { startRetention, type Retention } from './retention.js';
import { createPartialRelay } from './ws/partial-relay.js';
import { createTaskFeeds } from './ws/task-feed.js';
import { createSubscriberBudget } from './ws/subscriber-budget.js';
import { attachWebSocketEndpoint, type WsEndpoint } from './ws/ws-server.js';

export interface KerutaServer {
  readonly config: ServerConfig;
  readonly app: FastifyInstance;
  readonly store: LogStore;
  readonly bus: LogBus;
  readonly metrics: ServerMetrics;
  /** Starts listening; resolves to the base URL, e.g. http://127.0.0.1:8080. */
  listen(): Promise<string>;
  /** Stops accepting, closes subscribers with a reconnect hint, then the store and bus. */
  close(): Promise<void>;
}

export interface CreateServerOptions {
  /** Defaults to JSON lines on stderr at config.logLevel. */
  logger?: Logger;
  /** Use this store instead of opening config.databaseUrl (the server then does not close it). */
  store?: LogStore;
}

const MAX_CONNECTIONS = 10_000;

export async function createServer(config: ServerConfig, options: CreateServerOptions = {}): Promise<KerutaServer> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { name: 'keruta-api' } }, pino.destination(2));
  // First, so that a bad API keys file stops the start before anything is opened.
  const { shared, authenticator } = await openAuthentication(config, logger);
  const ownsStore = options.store === undefined;
  const store = options.store ?? (await createLogStore(config.databaseUrl, { maxMessageLength: config.maxMessageLength }));
  const metrics = createMetrics();
  const bus = createBus(config.busUrl, { logger, observeLag: (seconds) => metrics.busLag.observe(seconds) });
  const writeHealth = createWriteHealth();
  const search = store.openSearchIndex();
  // One queue of event-loop turns for storing batches and sending their frames to subscribers.
  const turns = createTurnQueue();
  const ingest = createIngest({ store, bus, metrics, writeHealth, logger, maxMessageLength: config.maxMessageLength, search, turns });

  const app = createFastifyApp(config, logger, metrics);

  const guard = { mode: config.auth.mode, allowedOrigins: config.security.allowedOrigins, allowedHosts: config.security.allowedHosts };
  registerOriginGuard(app, guard);
  if (config.auth.mode === 'none') registerJsonOnlyBodies(app);
  registerEarlyClose(app);
  const connectionLimits = createConnectionLimits(app.server, {
    maxPerAddress: config.security.maxUnauthenticatedPerAddress,
    maxTotal: config.security.maxUnauthenticatedConnections,
    logger,
  });
  await registerHttpAuth(app, config, authenticator, shared);
  registerAuthenticatedMarker(app, connectionLimits);
  registerLogRoutes(app, { store, ingest, metrics, search });
  registerTaskRoutes(app, { store });
  registerSummaryRoutes(app, { store });
  registerCompareRoutes(app, { store });
  registerSearchRoutes(app, { search });
  registerOperationRoutes(app, { store, bus, metrics, writeHealth });
  registerAdminPage(app, { logger: app.log });

  let ws: WsEndpoint | undefined;
  let retention: Retention | undefined;
  const feeds = createTaskFeeds({ bus, store, onStoreAhead: () => metrics.busStoreAhead.inc() });

  return {
    config,
    app,
    store,
    bus,
    metrics,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      ws = attachWebSocketEndpoint({
        server: app.server,
        store,
        feeds,
        ingest,
        partials: createPartialRelay({ bus, maxMessageLength: config.maxMessageLength }),
        metrics,
        logger,
        maxFrameBytes: config.maxBodyBytes,
        highWaterBytes: config.subscriberHighWaterBytes,
        slowConsumerTimeoutMs: config.slowConsumerTimeoutMs,
        budget: createSubscriberBudget(config.subscriberBufferBytes),
        turns,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        maxConnections: MAX_CONNECTIONS,
        authenticator,
        security: config.security,
        guard,
        onAuthenticated: (socket) => connectionLimits.markAuthenticated(socket),
      });
      if (config.retentionDays !== undefined) {
        retention = startRetention({ store, search, days: config.retentionDays, logger });
      }
      return listeningUrl(config, app.server.address());
    },
    async close() {
      retention?.stop();
      feeds.close();
      // No new connections from here on; requests in flight finish while WebSocket clients,
      // whose batches in flight are stored and acknowledged first, are closed with 1001.
      const httpClosed = app.close();
      await ws?.close();
      await httpClosed;
      await bus.close();
      authenticator.close();
      await shared?.close();
      await search.close();
      if (ownsStore) await store.close();
    },
  };
}

/** The authenticator, with the failure counters it shares with other instances on the bus's Redis (if any). */
async function openAuthentication(config: ServerConfig, logger: Logger): Promise<{ shared: SharedCounters | undefined; authenticator: Authenticator }> {
  const shared = await connectSharedCounters(config.busUrl);
  const authenticator = await createAuthenticator(config.auth, {
    logger,
    failures: createFailureLimiter(config.security, shared, logger),
  }).catch(async (error: unknown) => {
    await shared?.close();
    throw error;
  });
  return { shared, authenticator };
}

/** The base URL the server listens on, e.g. http://127.0.0.1:8080 or https://[::1]:8443. */
function listeningUrl(config: ServerConfig, address: AddressInfo | string | null): string {
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  return `${config.tls === undefined ? 'http' : 'https'}://${host}:${port}`;
}
