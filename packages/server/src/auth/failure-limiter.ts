// Failed authentications per client address, in fixed windows: after `limit` credentials refused
// within a window, the address gets RATE_LIMIT_EXCEEDED (with the seconds left) for every
// credential until the window ends, a valid one too, so that guessing learns nothing meanwhile.
// Counted in this process, or in Redis when instances share one (then the budget is shared).
import type { Redis } from 'ioredis';

export interface FailureLimiter {
  /** Seconds until `address` may try a credential again; 0 when it may now. */
  blockedFor(address: string): Promise<number>;
  /** Counts one refused credential from `address`. */
  recordFailure(address: string): Promise<void>;
}

export interface FailureLimits {
  limit: number;
  windowMs: number;
}

/** Addresses remembered at most; beyond it, windows that ended are dropped first. */
const MAX_TRACKED = 100_000;

export function createMemoryFailureLimiter({ limit, windowMs }: FailureLimits): FailureLimiter {
  const windows = new Map<string, { count: number; endsAt: number }>();
  const current = (address: string, now: number): { count: number; endsAt: number } | undefined => {
    const window = windows.get(address);
    if (window !== undefined && window.endsAt <= now) {
      windows.delete(address);
      return undefined;
    }
    return window;
  };
  const sweep = (now: number): void => {
    for (const [address, window] of windows) if (window.endsAt <= now) windows.delete(address);
    // Still full of live windows (many addresses failing at once): forget the oldest.
    for (const address of windows.keys()) {
      if (windows.size < MAX_TRACKED) break;
      windows.delete(address);
    }
  };
  return {
    async blockedFor(address) {
      const now = Date.now();
      const window = current(address, now);
      return window === undefined || window.count < limit ? 0 : Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    },
    async recordFailure(address) {
      const now = Date.now();
      const window = current(address, now);
      if (window !== undefined) {
        window.count += 1;
        return;
      }
      if (windows.size >= MAX_TRACKED) sweep(now);
      windows.set(address, { count: 1, endsAt: now + windowMs });
    },
  };
}

export interface RedisFailureLimiterOptions extends FailureLimits {
  redis: Redis;
  /** Keys are `<prefix>auth-failures:<address>`. */
  prefix: string;
  /** Used while Redis does not answer: the budget is then this process's alone. */
  fallback: FailureLimiter;
  onRedisError?: (error: unknown) => void;
}

/** The same windows in Redis (INCR and PEXPIRE NX in one MULTI), shared by every instance. */
export function createRedisFailureLimiter(options: RedisFailureLimiterOptions): FailureLimiter {
  const { redis, limit, windowMs, fallback } = options;
  const keyOf = (address: string): string => `${options.prefix}auth-failures:${address}`;
  const failed = (error: unknown): void => options.onRedisError?.(error);
  return {
    async blockedFor(address) {
      try {
        const [count, ttl] = await Promise.all([redis.get(keyOf(address)), redis.pttl(keyOf(address))]);
        if (count === null || Number(count) < limit) return fallback.blockedFor(address);
        return Math.max(1, Math.ceil((ttl > 0 ? ttl : windowMs) / 1000));
      } catch (error) {
        failed(error);
        return fallback.blockedFor(address);
      }
    },
    async recordFailure(address) {
      // Counted here too, so that an outage of Redis starts from what this process has seen.
      await fallback.recordFailure(address);
      try {
        const key = keyOf(address);
        // A window starts with its first failure: NX sets the expiry only on a key that has none.
        const replies = await redis.multi().incr(key).pexpire(key, windowMs, 'NX').exec();
        const error = replies?.find(([failure]) => failure !== null)?.[0];
        if (error !== undefined && error !== null) throw error;
      } catch (error) {
        failed(error);
      }
    },
  };
}
