// Picks the bus from KERUTA_BUS_URL: `memory` for one process, `redis://…` for several.
import type { LogBus } from './log-bus.js';
import { createMemoryBus } from './memory-bus.js';
import { createRedisBus, type BusLogger } from './redis-bus.js';
import { ConfigError } from '../config.js';

export interface CreateBusOptions {
  /** Seconds from publish on another instance to receipt here, per message. */
  observeLag?: (seconds: number) => void;
  logger?: BusLogger;
}

/**
 * `memory`, or `redis://[user:password@]host:port[/db][?channelPrefix=P]` (also `rediss://`):
 * instances that share live traffic use the same Redis and the same channel prefix (default
 * `keruta:`). Pub/sub ignores the database number, so deployments sharing a Redis need prefixes.
 */
export function createBus(url: string, options: CreateBusOptions = {}): LogBus {
  if (url === 'memory' || url === 'memory:') return createMemoryBus();
  if (/^rediss?:\/\//i.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      // The URL may hold a password: name only its scheme.
      throw new ConfigError(`KERUTA_BUS_URL: "${url.slice(0, url.indexOf('://'))}://…" is not a valid URL`);
    }
    const channelPrefix = parsed.searchParams.get('channelPrefix');
    parsed.searchParams.delete('channelPrefix');
    return createRedisBus({
      url: parsed.toString(),
      ...(channelPrefix === null ? {} : { channelPrefix }),
      ...(options.observeLag === undefined ? {} : { observeLag: options.observeLag }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }
  // Only what precedes "//" is echoed: the rest of a URL may hold a password.
  const shown = url.includes('//') ? `${url.slice(0, url.indexOf('//'))}//…` : url;
  throw new ConfigError(`KERUTA_BUS_URL: unsupported bus ${JSON.stringify(shown)}; use "memory" or "redis://host:port"`);
}
