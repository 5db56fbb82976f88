// The exactly-once delivery of one task: reads batches from the spool of each run in order
// (delivery-queue.ts, batch-sender.ts), sends them over the WebSocket or REST (delivery-connection.ts),
// and forgets an entry only when the server has acknowledged it (batches-in-flight.ts). After any
// failure it reconnects with jittered backoff and resends everything after the last acknowledgement;
// the server drops what it already stored (same runId and runSeq), so nothing is lost and nothing
// is stored twice. It never blocks the caller: all of it runs on callbacks and timers, and a dead
// server only makes the spool grow.
import type { AppendBatchResult } from '@keruta/protocol';
import type { AgentLog } from '../agent-log.js';
import type { AgentConfig } from '../config.js';
import { createBatchSender } from './batch-sender.js';
import type { InFlight } from './batches-in-flight.js';
import { createConnection } from './delivery-connection.js';
import { createDeliveryQueue } from './delivery-queue.js';
import { createOutageReport, type OutageEvent } from './outage-report.js';
import type { RunSpool } from './spool.js';
import type { DeliveryFailure, TransportHandlers } from './transport.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

export type DeliveryEvent = OutageEvent | 'conflict';

export interface DeliveryOptions {
  readonly taskId: string;
  readonly config: AgentConfig;
  readonly log: AgentLog;
  /** The agent's own events worth recording in the task's log (execute records them; flush does not). */
  readonly onEvent?: (event: DeliveryEvent, message: string, metadata: Record<string, unknown>) => void;
  /** A run whose entries are all acknowledged and whose spool was removed. */
  readonly onRunDelivered?: (run: RunSpool) => void;
  /** The server acknowledged a batch (and the next ones were sent): room for more. */
  readonly onAcknowledged?: () => void;
}

export interface DeliveryStats {
  /** Entries the server acknowledged (stored now or before). */
  readonly acknowledged: number;
  /** Of those, entries the server already had. */
  readonly duplicates: number;
  readonly batches: number;
  readonly reconnects: number;
}

export interface FinishResult {
  /** Entries not acknowledged, still in the spool. */
  readonly kept: number;
  /** Spool directories of the runs that still hold entries. */
  readonly dirs: readonly string[];
  /** Why delivery stopped short, when it did. */
  readonly failure: DeliveryFailure | undefined;
}

export interface Delivery {
  /** Runs are delivered one after another, in the order they are added. */
  add(run: RunSpool): void;
  /** Entries were appended to a run: send them when the connection allows. */
  notify(): void;
  /** Opens the connection now, before there is anything to send, so that the first line does not wait for the handshake. */
  connect(): void;
  /** Resolves once the server has first answered (an acknowledgement) or first failed. */
  readonly firstAnswer: Promise<void>;
  /** Entries appended to the runs and not sent yet. */
  readonly unsent: number;
  /** Sends a frame that is neither spooled nor resent (a `partial`), over an idle WebSocket only; false when dropped. */
  sendEphemeral(text: string): boolean;
  /**
   * Keeps delivering until every run is sealed and acknowledged, the deadline passes, the
   * reconnect attempts run out, or `signal` aborts; then closes everything and reports what is kept.
   */
  finish(deadlineMs: number, signal?: AbortSignal): Promise<FinishResult>;
  readonly stats: DeliveryStats;
}

interface Counts {
  acknowledged: number;
  duplicates: number;
  batches: number;
}

export function createDelivery(options: DeliveryOptions): Delivery {
  const { taskId, config, log } = options;
  const queue = createDeliveryQueue(config.logStreaming.batchSize);
  const outage = createOutageReport(options.onEvent);
  const counts: Counts = { acknowledged: 0, duplicates: 0, batches: 0 };
  const settlement = createSettlement(() => queue.isDone || connection.state === 'gave-up');
  const delivered = (run: RunSpool): void => options.onRunDelivered?.(run);

  const pump = (): void => {
    if (connection.state === 'idle' && queue.hasUnsent) return connection.connect();
    const { transport } = connection;
    if (connection.state === 'open' && transport !== undefined) sender.send(transport);
  };

  /** Closes runs that are complete (but the last, which finish closes) and reports a drained outage backlog. */
  const afterAcknowledged = (): void => {
    queue.closeDelivered(delivered);
    outage.acknowledged();
    settlement.check();
  };

  const handlers: TransportHandlers = {
    onAck(batchId, result) {
      const acked = sender.acknowledged(batchId, connection.transport);
      if (acked.length === 0) return;
      countAcknowledged(counts, acked, result, options.onEvent);
      connection.acknowledged();
      afterAcknowledged();
      pump();
      options.onAcknowledged?.();
    },
    onReject(batchId, failure) {
      const retry = sender.rejected(batchId, failure);
      if (retry !== undefined) connection.fail(retry.failure, retry.delayMs);
    },
    onLost: (failure) => connection.fail(failure),
  };

  const sender = createBatchSender({ queue, config, onAckTimeout: (failure) => connection.fail(failure), onFlushDue: pump });
  const connection = createConnection({
    taskId,
    config,
    log,
    handlers,
    outage,
    live: () => queue.live,
    onOpen: pump,
    onDrop: () => sender.drop(),
    onGiveUp: () => settlement.check(),
  });

  return {
    add(run) {
      queue.add(run);
      pump();
    },
    notify() {
      if (connection.state === 'open' || connection.state === 'idle') pump();
    },
    connect: () => connection.connect(),
    firstAnswer: outage.firstAnswer,
    get unsent() {
      return queue.unsent;
    },
    sendEphemeral(text) {
      const { transport } = connection;
      return connection.state === 'open' && transport?.sendEphemeral !== undefined && transport.sendEphemeral(text);
    },
    finish(deadlineMs, signal) {
      connection.hurry();
      afterAcknowledged();
      pump();
      return settlement.wait(deadlineMs, signal, () => {
        connection.close();
        const { kept, dirs } = queue.closeAll(delivered);
        return { kept, dirs, failure: kept > 0 ? connection.failure : undefined };
      });
    },
    get stats() {
      return { ...counts, reconnects: outage.reconnects };
    },
  };
}

/** Counts what the server acknowledged, and puts on record the entries it refused to store under a runSeq already taken. */
function countAcknowledged(counts: Counts, acked: readonly InFlight[], result: AppendBatchResult, onEvent: DeliveryOptions['onEvent']): void {
  for (const batch of acked) {
    batch.cursor.run.acknowledge(batch.lastSeq);
    counts.acknowledged += batch.count;
    counts.batches++;
  }
  counts.duplicates += result.duplicates;
  const conflicts = result.conflicts ?? 0;
  if (conflicts === 0) return;
  const runId = acked.at(-1)?.cursor.run.runId;
  onEvent?.(
    'conflict',
    `${conflicts} lines of run ${runId ?? '?'} were not stored: keruta-api already held other lines under their runSeq (someone else wrote under this run's id)`,
    { count: conflicts, ...(runId === undefined ? {} : { runId }) },
  );
}

interface Settlement {
  /** Ends a wait under way when the delivery is settled. */
  check(): void;
  /** Resolves with what `end` returns once the delivery is settled, `deadlineMs` passes, or `signal` aborts. */
  wait(deadlineMs: number, signal: AbortSignal | undefined, end: () => FinishResult): Promise<FinishResult>;
}

/** The wait at finish: `isSettled` when every run is acknowledged or the delivery gave up. */
function createSettlement(isSettled: () => boolean): Settlement {
  let settle: (() => void) | undefined;
  const check = (): void => {
    if (settle !== undefined && isSettled()) settle();
  };
  return {
    check,
    wait: (deadlineMs, signal, end) =>
      new Promise<FinishResult>((resolve) => {
        const done = (): void => {
          settle = undefined;
          clearTimeout(deadline);
          signal?.removeEventListener('abort', done);
          resolve(end());
        };
        const delay = deadlineMs - Date.now();
        // Beyond setTimeout's range (flush waits "for ever"): no deadline at all.
        const deadline = delay < MAX_TIMER_MS ? setTimeout(done, Math.max(0, delay)) : undefined;
        signal?.addEventListener('abort', done, { once: true });
        settle = done;
        check();
      }),
  };
}
