// Builds a keruta-api instance from a frozen config: store, bus, HTTP routes and the WebSocket
// endpoint, ready to listen. Tests and the CLI both start servers through here.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { KerutaError } from '@keruta/protocol';
import { createLogStore, type LogStore } from '@keruta/storage';
import { createAuthenticator } from './auth/authenticator.js';
import { createFailureLimiter } from './auth/create-failure-limiter.js';
import { registerHttpAuth } from './auth/http-auth.js';
import { connectSharedCounters } from './auth/shared-counters.js';
import { createBus } from './bus/create-bus.js';
import type { LogBus } from './bus/log-bus.js';
import type { ServerConfig } from './config.js';
import { errorHandler } from './http-errors.js';
import { createConnectionLimits, registerAuthenticatedMarker } from './http/connection-limits.js';
import { registerJsonOnlyBodies } from './http/content-type-guard.js';
import { registerOriginGuard } from './http/origin-guard.js';
import { httpServerTimeouts, registerEarlyClose } from './http/request-timeouts.js';
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
  const shared = await connectSharedCounters(config.busUrl);
  const authenticator = await createAuthenticator(config.auth, {
    logger,
    failures: createFailureLimiter(config.security, shared, logger),
  }).catch(async (error: unknown) => {
    await shared?.close();
    throw error;
  });
  const ownsStore = options.store === undefined;
  const store = options.store ?? (await createLogStore(config.databaseUrl, { maxMessageLength: config.maxMessageLength }));
  const metrics = createMetrics();
  const bus = createBus(config.busUrl, { logger, observeLag: (seconds) => metrics.busLag.observe(seconds) });
  const writeHealth = createWriteHealth();
  const search = store.openSearchIndex();
  // One queue of event-loop turns for storing batches and sending their frames to subscribers.
  const turns = createTurnQueue();
  const ingest = createIngest({ store, bus, metrics, writeHealth, logger, maxMessageLength: config.maxMessageLength, search, turns });

  const timeouts = httpServerTimeouts(config.security);
  const app = Fastify({
    ...(config.tls === undefined ? { http: timeouts } : { https: { cert: config.tls.cert, key: config.tls.key, ...timeouts } }),
    // Fastify sets these two on the server itself, over the options above.
    requestTimeout: timeouts.requestTimeout,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request lines would drown the server's own events at ingest rates; /metrics counts requests.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxBodyBytes,
    // Long ids must reach the handler to be answered with INVALID_TASK_ID, not a bare 404.
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    // Rate limits count per client address, so the address must be the peer's, not a header's.
    trustProxy: false,
  }) as unknown as FastifyInstance;
  // Every body is JSON, whatever Content-Type the client sent (curl -d says form-urlencoded);
  // in auth mode none only `application/json` gets this far (registerJsonOnlyBodies).
  // An empty body is no body: the guide's Python client sends `Content-Type: application/json`
  // with an empty DELETE; the routes that need a body say so themselves.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new KerutaError('INVALID_LOG_FORMAT', 'body: is not valid JSON'), undefined);
    }
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    const error = new KerutaError('INVALID_MESSAGE_FORMAT', `no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(404).type('application/json; charset=utf-8').send(error.toBody());
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unknown',
      status: String(reply.statusCode),
    });
  });

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
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
      return `${config.tls === undefined ? 'http' : 'https'}://${host}:${port}`;
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
