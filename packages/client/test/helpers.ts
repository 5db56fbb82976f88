// Shared by keruta-client's tests: a writer that posts lines continuously through a real server
// (idempotently, with runId/runSeq, so it can retry through a restart), and waiting helpers.
import { randomUUID } from 'node:crypto';
import type { LogEntry, LogLevel, LogRequest, LogSource } from '@keruta/protocol';
import { sleep } from '@keruta/testing/base';
import { createRestClient, isKerutaClientError, type LogStreamingClient } from '../src/index.js';

// The shared waiting helpers, under the names this package's tests import from here.
export { sleep, waitUntil } from '@keruta/testing/base';

/** 1, 2, … n. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

export interface Writer {
  /** Lines acknowledged by the server so far. */
  readonly written: number;
  /** Stops after the batch in flight; resolves with the number of lines written. */
  stop(): Promise<number>;
}

export interface WriterOptions {
  apiUrl: string;
  taskId: string;
  batchSize?: number;
  pauseMs?: number;
  source?: LogSource;
  level?: LogLevel;
}

/** Posts batches back to back until stopped, retrying a batch through a server restart. */
export function startWriter(options: WriterOptions): Writer {
  const rest = createRestClient({ baseUrl: options.apiUrl });
  const runId = randomUUID();
  const batchSize = options.batchSize ?? 20;
  let written = 0;
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const entries: LogRequest[] = range(written + 1, written + batchSize).map((runSeq) => ({
        source: options.source ?? 'stdout',
        level: options.level ?? 'INFO',
        message: `line ${runSeq}`,
        runId,
        runSeq,
      }));
      try {
        await rest.postLogs(options.taskId, entries);
        written += batchSize;
      } catch (error) {
        // The server is restarting: the same batch again is stored at most once (runId, runSeq).
        if (!isKerutaClientError(error) || (error.code !== 'NETWORK_ERROR' && (error.status ?? 0) < 500)) throw error;
        await sleep(50);
        continue;
      }
      await sleep(options.pauseMs ?? 5);
    }
  })();
  return {
    get written() {
      return written;
    },
    async stop() {
      stopping = true;
      await loop;
      return written;
    },
  };
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
