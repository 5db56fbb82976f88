// Picks where refused credentials are counted: in Redis when the instances share one, else here.
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import { createMemoryFailureLimiter, createRedisFailureLimiter, type FailureLimiter } from './failure-limiter.js';
import type { SharedCounters } from './shared-counters.js';

/** Redis errors are logged at most this often: every request would log one during an outage. */
const LOG_EVERY_MS = 30_000;

export function createFailureLimiter(
  security: ServerConfig['security'],
  shared: SharedCounters | undefined,
  logger: Pick<Logger, 'warn'>,
): FailureLimiter {
  const limits = { limit: security.authFailureLimit, windowMs: security.authFailureWindowMs };
  const local = createMemoryFailureLimiter(limits);
  if (shared === undefined) return local;
  let loggedAt = 0;
  return createRedisFailureLimiter({
    ...limits,
    redis: shared.redis,
    prefix: shared.prefix,
    fallback: local,
    onRedisError: (error) => {
      if (Date.now() - loggedAt < LOG_EVERY_MS) return;
      loggedAt = Date.now();
      logger.warn({ err: error }, 'refused credentials are counted in this process only: redis does not answer');
    },
  });
}
