// The Fastify instance keruta-api's routes are registered on, with the conventions every route
// shares: deadlines and body limit, JSON bodies whatever their Content-Type, errors and unknown
// routes answered from the error table, and every response counted in /metrics.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { KerutaError } from '@keruta/protocol';
import type { ServerConfig } from '../config.js';
import { errorHandler } from '../http-errors.js';
import type { ServerMetrics } from '../metrics.js';
import { httpServerTimeouts } from './request-timeouts.js';

export function createFastifyApp(config: ServerConfig, logger: Logger, metrics: ServerMetrics): FastifyInstance {
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
  parseEveryBodyAsJson(app);
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
  return app;
}

/**
 * Every body is JSON, whatever Content-Type the client sent (curl -d says form-urlencoded);
 * in auth mode none only `application/json` gets this far (registerJsonOnlyBodies).
 * An empty body is no body: the guide's Python client sends `Content-Type: application/json`
 * with an empty DELETE; the routes that need a body say so themselves.
 */
function parseEveryBodyAsJson(app: FastifyInstance): void {
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
}
