// Shared by keruta-client's tests: numbered lines, what a client delivers, and the waiting helpers.
// (The writer that posts lines continuously through a real server is @keruta/testing/base's startWriter.)
import type { LogEntry, LogRequest } from '@keruta/protocol';
import type { LogStreamingClient } from '../src/index.js';

// The shared waiting helpers, under the names this package's tests import from here.
export { sleep, waitUntil } from '@keruta/testing/base';

/** 1, 2, … n. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

export function lines(count: number, make: (i: number) => Partial<LogRequest> = () => ({})): LogRequest[] {
  return range(1, count).map((i) => ({ source: 'stdout', level: 'INFO', message: `line ${i}`, ...make(i) }));
}

/** Everything a client delivers, through `log` and through `logs`, in order. */
export function record(client: LogStreamingClient): { log: LogEntry[]; logs: LogEntry[] } {
  const seen = { log: [] as LogEntry[], logs: [] as LogEntry[] };
  client.on('log', ({ type: _type, ...entry }) => seen.log.push(entry));
  client.on('logs', (message) => seen.logs.push(...message.entries));
  return seen;
}

export function subscribedOnce(client: LogStreamingClient): Promise<number> {
  return new Promise((resolve) => {
    const off = client.on('subscribed', (message) => {
      off();
      resolve(message.lastSeq);
    });
  });
}
