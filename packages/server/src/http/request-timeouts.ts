// Deadlines for what a client sends: headers, the whole request with its body, and the idle
// time between keep-alive requests. A client that sends a byte at a time gets a 408 and is
// closed instead of holding a socket (and a file descriptor) for ever.
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config.js';

export interface HttpServerTimeouts {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  /** How often Node looks for requests past their deadline (30 s by default, too coarse for 10 s). */
  connectionsCheckingInterval: number;
}

export function httpServerTimeouts(security: ServerConfig['security']): HttpServerTimeouts {
  return {
    headersTimeout: security.headersTimeoutMs,
    requestTimeout: security.requestTimeoutMs,
    keepAliveTimeout: security.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(security.headersTimeoutMs / 4))),
  };
}

/**
 * A request answered before its body has arrived (401, 403, 413, 415 …) closes its connection
 * once the answer is written: keep-alive would have Node read, and the client send, the rest.
 */
export function registerEarlyClose(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    if (!request.raw.complete) reply.header('connection', 'close');
  });
}
