// Authentication and rate limits on the HTTP routes: each route names the scope it needs in its
// config; the principal is found once per request, before the body is read. The rate-limit
// bucket is the credential only where one is checked (a route with a scope, a mode with keys);
// anywhere else it is the address, so that a made-up header buys no fresh bucket.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KerutaError, TASK_ID_PATTERN } from '@keruta/protocol';
import type { ServerConfig } from '../config.js';
import type { Authenticator } from './authenticator.js';
import type { SharedCounters } from './shared-counters.js';
import { credentialFromHeaders, credentialFromUrl, credentialKey, type Credential } from './credentials.js';
import { authorize, type Principal, type Scope } from './principal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one (health) are open. */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The credential of a request: headers, or a `token` query parameter (for downloads from the page). */
export function requestCredential(request: FastifyRequest): Credential | undefined {
  return credentialFromHeaders(request.headers) ?? (request.method === 'GET' ? credentialFromUrl(request.url) : undefined);
}

export async function registerHttpAuth(
  app: FastifyInstance,
  config: ServerConfig,
  authenticator: Authenticator,
  shared?: SharedCounters,
): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    // Shared by the instances on one Redis; while Redis does not answer, requests are let through
    // rather than refused (the limit guards capacity, and the store is still there).
    ...(shared === undefined ? {} : { redis: shared.redis, nameSpace: `${shared.prefix}rate-limit:`, skipOnError: true }),
    max: config.security.rateLimitPerMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    allowList: (request) => request.url === '/health',
    keyGenerator: (request) => {
      const checked = authenticator.mode !== 'none' && request.routeOptions.config.scope !== undefined;
      const credential = checked ? requestCredential(request) : undefined;
      // A credential that turns out to be bad is refused and counted against the address.
      return credential === undefined ? `ip:${request.ip}` : credentialKey(credential);
    },
    errorResponseBuilder: (_request, context) =>
      new KerutaError('RATE_LIMIT_EXCEEDED', `at most ${context.max} requests per minute; retry in ${context.after}`, {
        retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  });

  app.addHook('onRequest', async (request) => {
    let scope = request.routeOptions.config.scope;
    if (request.routeOptions.url === '/metrics' && !config.security.metricsPublic) scope = 'logs:read';
    if (scope === undefined) return;
    const principal = await authenticator.authenticate(requestCredential(request), { address: request.ip });
    const taskId = (request.params as { taskId?: unknown } | undefined)?.taskId;
    // A malformed task id is the route's INVALID_TASK_ID to give, not a FORBIDDEN.
    authorize(principal, scope, typeof taskId === 'string' && TASK_ID_PATTERN.test(taskId) ? taskId : undefined);
    request.principal = principal;
  });
}
