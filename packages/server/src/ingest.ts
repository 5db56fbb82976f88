// The one write path, shared by REST POST and the WebSocket agent path: validate, store in one
// transaction, then publish what was stored. Nothing is published before it is committed.
import {
  AGENT_EVENTS,
  isKerutaError,
  KerutaError,
  MAX_BATCH_ENTRIES,
  parseLogRequest,
  type NormalizedLogRequest,
} from '@keruta/protocol';
import type { AppendResult, LogStore, SearchIndex } from '@keruta/storage';
import type { Logger } from 'pino';
import type { LogBus } from './bus/log-bus.js';
import type { ServerMetrics } from './metrics.js';
import type { WriteHealth } from './write-health.js';

export interface Ingest {
  /**
   * Validates every entry (naming the first bad one, as `field[i].name`, or just `name` when
   * `field` is undefined for a single entry), then appends them all or none. `writer` is the
   * credential's subject: a run is written by the credential that started it (FORBIDDEN otherwise).
   */
  append(
    taskId: string,
    entries: readonly unknown[],
    path: 'ws' | 'rest',
    field: string | undefined,
    writer: string | undefined,
  ): Promise<AppendResult>;
}

export interface IngestDeps {
  store: LogStore;
  bus: LogBus;
  metrics: ServerMetrics;
  writeHealth: WriteHealth;
  logger: Logger;
  maxMessageLength: number;
  /** Told of every stored line, which it takes into the index soon after. */
  search: SearchIndex;
}

export function createIngest({ store, bus, metrics, writeHealth, logger, maxMessageLength, search }: IngestDeps): Ingest {
  return {
    async append(taskId, entries, path, field, writer) {
      if (entries.length > MAX_BATCH_ENTRIES) {
        throw new KerutaError('MESSAGE_TOO_LARGE', `${field ?? 'entries'}: at most ${MAX_BATCH_ENTRIES} entries in one batch, got ${entries.length}`);
      }
      const now = Date.now();
      const requests: NormalizedLogRequest[] = entries.map((entry, i) =>
        parseLogRequest(entry, { maxMessageLength, now, ...(field === undefined ? {} : { field: `${field}[${i}]` }) }),
      );
      let result: AppendResult;
      try {
        result = await metrics.timeStore('append', () => store.append(taskId, requests, writer === undefined ? {} : { writer }));
      } catch (error) {
        if (isKerutaError(error) && error.code === 'FORBIDDEN') {
          metrics.runConflicts.inc({ kind: 'writer' });
        } else {
          metrics.ingestFailures.inc({ path });
          writeHealth.failed(error);
          // The message names the operation and the driver's code, never SQL, values or secrets.
          logger.error({ taskId, path, entries: entries.length, reason: (error as Error).message }, 'could not store entries');
        }
        throw error;
      }
      writeHealth.stored();
      if (result.stored.length > 0) {
        bus.publish({ kind: 'entries', taskId, entries: result.stored });
        search.advanced(taskId, result.lastSeq);
        metrics.entriesAppended.inc({ path }, result.stored.length);
        metrics.recordIngest(result.stored.length);
        for (const entry of result.stored) {
          const event = entry.source === 'agent' ? entry.metadata.event : undefined;
          if (typeof event === 'string' && (AGENT_EVENTS as readonly string[]).includes(event)) metrics.agentEvents.inc({ event });
        }
      }
      if (result.duplicates > 0) metrics.duplicatesSkipped.inc(result.duplicates);
      if (result.conflicts > 0) metrics.runConflicts.inc({ kind: 'line' }, result.conflicts);
      if (result.taskChanged !== undefined) bus.publish({ kind: 'task', taskId, task: result.taskChanged });
      return result;
    },
  };
}

/**
 * What a batch's writer is told, over REST and in a WebSocket `ack`: `conflicts` only when there
 * were any, so that every other answer stays as it always was.
 */
export function batchAnswer(result: AppendResult): { accepted: number; duplicates: number; lastSeq: number; conflicts?: number } {
  const answer = { accepted: result.stored.length, duplicates: result.duplicates, lastSeq: result.lastSeq };
  return result.conflicts > 0 ? { ...answer, conflicts: result.conflicts } : answer;
}
