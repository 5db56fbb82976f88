// Picks the bus from KERUTA_BUS_URL.
import type { LogBus } from './log-bus.js';
import { createMemoryBus } from './memory-bus.js';
import { ConfigError } from '../config.js';

export function createBus(url: string): LogBus {
  if (url === 'memory' || url === 'memory:') return createMemoryBus();
  throw new ConfigError(`KERUTA_BUS_URL: unsupported bus ${JSON.stringify(url)}; this version supports "memory"`);
}
