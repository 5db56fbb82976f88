// The Redis connection that instances sharing a Redis bus (KERUTA_BUS_URL=redis://…) also use for
// their rate-limit counters, so that a client's budget is one budget however many instances it
// spreads its requests over. Keys carry the bus's channel prefix (default `keruta:`).
import { once } from 'node:events';
import { Redis } from 'ioredis';

export interface SharedCounters {
  readonly redis: Redis;
  /** Prepended to every key, like the bus's channels. */
  readonly prefix: string;
  close(): Promise<void>;
}

/** Longest a start-up waits for Redis before counting in this process until it answers. */
const CONNECT_WAIT_MS = 2000;

/** A connection for the counters when the bus is Redis; undefined for the memory bus. */
export async function connectSharedCounters(busUrl: string): Promise<SharedCounters | undefined> {
  if (!/^rediss?:\/\//i.test(busUrl)) return undefined;
  // create-bus has already refused a URL that does not parse.
  const url = new URL(busUrl);
  const prefix = url.searchParams.get('channelPrefix') ?? 'keruta:';
  url.searchParams.delete('channelPrefix');
  const redis = new Redis(url.toString(), {
    connectionName: `${prefix}limits:${process.pid}`.replace(/\s/g, '_'),
    // A limit is checked on the request's path: while Redis is away, answer from this process
    // at once instead of queueing the request behind a reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
  });
  // Errors are seen by each command that fails, which falls back; the event must have a listener.
  redis.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    once(redis, 'ready').catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, CONNECT_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
  return {
    redis,
    prefix,
    async close() {
      redis.disconnect();
    },
  };
}
