// Refused credentials per client address, in fixed windows: once `limit` credentials have been
// refused within a window, the address gets RATE_LIMIT_EXCEEDED (with the seconds left) for every
// credential until the window ends, a valid one too, so that guessing learns nothing meanwhile.
//
// Each check takes its place in the count before the credential is verified and gives it back
// if the credential is accepted: a burst of guesses sent in parallel is held to `limit` like
// one sent in series, where "look, verify, then count" would let every guess of the burst
// through the look. Counted in this process, or in Redis when instances share one.
import type { Redis } from 'ioredis';

export interface AuthAttemptTicket {
  /** Seconds until the address may try a credential again; 0 when this attempt may go on. */
  readonly blockedFor: number;
  /** The credential was accepted (or could not be checked): it does not count as refused. */
  release(): void;
}

export interface FailureLimiter {
  /** Counts one attempt from `address` as refused until `release` says otherwise. */
  attempt(address: string): Promise<AuthAttemptTicket>;
}

export interface FailureLimits {
  limit: number;
  windowMs: number;
}

/** Addresses remembered at most; beyond it, windows that ended are dropped first. */
const MAX_TRACKED = 100_000;

const blocked = (seconds: number): AuthAttemptTicket => ({ blockedFor: Math.max(1, seconds), release: () => {} });

export function createMemoryFailureLimiter({ limit, windowMs }: FailureLimits): FailureLimiter {
  const windows = new Map<string, { count: number; endsAt: number }>();
  const sweep = (now: number): void => {
    for (const [address, window] of windows) if (window.endsAt <= now) windows.delete(address);
    // Still full of live windows (many addresses failing at once): forget the oldest.
    for (const address of windows.keys()) {
      if (windows.size < MAX_TRACKED) break;
      windows.delete(address);
    }
  };
  return {
    async attempt(address) {
      const now = Date.now();
      let window = windows.get(address);
      if (window === undefined || window.endsAt <= now) {
        if (windows.size >= MAX_TRACKED) sweep(now);
        window = { count: 0, endsAt: now + windowMs };
        windows.set(address, window);
      }
      if (window.count >= limit) return blocked(Math.ceil((window.endsAt - now) / 1000));
      window.count += 1;
      const own = window;
      return {
        blockedFor: 0,
        release: () => {
          if (own.count > 0) own.count -= 1;
        },
      };
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

/**
 * KEYS[1] the address's counter, ARGV limit and window (ms). Over the limit: {1, ms left}; else
 * the attempt is counted (INCR, PEXPIRE NX starting the window): {0, 0}. One script, so that
 * the look and the count are one step for every instance.
 */
const ATTEMPT_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then left = tonumber(ARGV[2]) end
  return {1, left}
end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2], 'NX')
return {0, 0}
`;
/** Gives an attempt back, only within the window it was counted in (no key without an expiry). */
const RELEASE_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 0
`;

export function createRedisFailureLimiter(options: RedisFailureLimiterOptions): FailureLimiter {
  const { redis, limit, windowMs, fallback } = options;
  const failed = (error: unknown): void => options.onRedisError?.(error);
  return {
    async attempt(address) {
      const key = `${options.prefix}auth-failures:${address}`;
      let reply: [number, number];
      try {
        reply = (await redis.eval(ATTEMPT_SCRIPT, 1, key, limit, windowMs)) as [number, number];
      } catch (error) {
        failed(error);
        return fallback.attempt(address);
      }
      if (reply[0] === 1) return blocked(Math.ceil(reply[1] / 1000));
      return {
        blockedFor: 0,
        release: () => {
          // Not awaited: the request goes on; a lost release leaves one attempt counted.
          redis.eval(RELEASE_SCRIPT, 1, key).catch(failed);
        },
      };
    },
  };
}
