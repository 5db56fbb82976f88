// Sends batches over an open connection and keeps track of them until they are acknowledged: the
// next run's unsent entries, as many as the buffer and the batch limits allow (rejection-policy.ts),
// read from its spool into reused buffers. At most two batches are in flight (batches-in-flight.ts),
// the second only over the WebSocket (it keeps order) and once the first has waited a flush
// interval, so that a lone line goes at once and a burst in large batches.
import type { AgentConfig } from '../config.js';
import { createBatchesInFlight, type InFlight } from './batches-in-flight.js';
import type { DeliveryQueue } from './delivery-queue.js';
import { createRejectionPolicy, INITIAL_BATCH_BYTES, type Retry } from './rejection-policy.js';
import { createTimer } from './timer.js';
import type { DeliveryFailure, Transport } from './transport.js';

/** Batches in flight at once. A second one is sent only when the first has waited a flush interval. */
const MAX_IN_FLIGHT = 2;
/** Batch buffers are reused: allocating a megabyte per batch lets garbage pile up outside the heap. */
const POOL_BUFFER_BYTES = INITIAL_BATCH_BYTES + 64 * 1024;

export interface BatchSenderOptions {
  readonly queue: DeliveryQueue;
  /**
   * logStreaming.bufferSize: the most entries in flight at once; maxRetries and retryIntervalMs: for
   * refused batches; websocket.timeoutMs: the longest the oldest batch waits for its acknowledgement.
   */
  readonly config: AgentConfig;
  readonly onAckTimeout: (failure: DeliveryFailure) => void;
  /** The oldest batch has waited a flush interval and more is waiting: time to send again. */
  readonly onFlushDue: () => void;
}

export interface BatchSender {
  /** Sends over `transport` whatever may go now. */
  send(transport: Transport): void;
  /**
   * The server acknowledged `batchId` on `transport`: the batches up to it, taken off (none when it
   * is not in flight). The server stores a connection's batches in order, so an ack covers everything sent before it.
   */
  acknowledged(batchId: string, transport: Transport | undefined): InFlight[];
  /** The server refused `batchId`: how to go on, or undefined when it is not in flight. */
  rejected(batchId: string, failure: DeliveryFailure): Retry | undefined;
  /** The connection is gone, and what was in flight on it: it is all sent again from the last acknowledgement. */
  drop(): void;
}

export function createBatchSender(options: BatchSenderOptions): BatchSender {
  const { queue, config } = options;
  const { bufferSize, flushIntervalMs } = config.logStreaming;
  const inFlight = createBatchesInFlight({ timeoutMs: config.websocket.timeoutMs, onTimeout: options.onAckTimeout });
  const rejections = createRejectionPolicy(config.logStreaming);
  const flushWait = createTimer();
  const pool: Buffer[] = [];
  const release = (buffer: Buffer): void => {
    if (buffer.length === POOL_BUFFER_BYTES && pool.length <= MAX_IN_FLIGHT) pool.push(buffer);
  };
  let batchCounter = 0;

  const nextBatch = (): ReturnType<DeliveryQueue['nextBatch']> => queue.nextBatch(bufferSize - inFlight.entries);

  /** Another batch may go now; when it only has to wait for the flush interval, a flush is set to come. */
  const mayPipeline = (transport: Transport): boolean => {
    if (inFlight.length >= MAX_IN_FLIGHT) return false;
    const oldest = inFlight.oldest;
    if (oldest === undefined) return true;
    // Pipelining only over the WebSocket (it keeps order) and only once a line has waited a flush interval.
    if (transport.kind !== 'websocket') return false;
    const waited = Date.now() - oldest.sentAt;
    if (waited >= flushIntervalMs) return true;
    if (!flushWait.running && nextBatch() !== undefined) flushWait.start(flushIntervalMs - waited, options.onFlushDue);
    return false;
  };

  /** Sends the next batch; false when there is none to send. */
  const sendOne = (transport: Transport): boolean => {
    const next = nextBatch();
    if (next === undefined) return false;
    const { cursor } = next;
    const batchId = `${cursor.run.runId}:${++batchCounter}`;
    const reuse = pool.pop() ?? Buffer.allocUnsafeSlow(POOL_BUFFER_BYTES);
    const batch = cursor.run.read(cursor.nextSeq, next.entries, rejections.batchBytes, transport.frame(batchId), reuse);
    if (batch === undefined) {
      release(reuse);
      return false;
    }
    if (batch.buffer !== reuse) release(reuse);
    inFlight.add({ batchId, cursor, firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, count: batch.count, sentAt: Date.now() });
    cursor.nextSeq = batch.lastSeq + 1;
    transport.send(batchId, batch.body, () => release(batch.buffer));
    inFlight.watch(transport.kind);
    return true;
  };

  return {
    send(transport) {
      let sent = true;
      while (sent && mayPipeline(transport)) sent = sendOne(transport);
    },
    acknowledged(batchId, transport) {
      const acked = inFlight.takeUpTo(batchId);
      if (acked.length === 0) return acked;
      rejections.acknowledged();
      inFlight.watchAgain(transport?.kind);
      return acked;
    },
    rejected(batchId, failure) {
      return inFlight.has(batchId) ? rejections.rejected(failure, inFlight.oldest?.count) : undefined;
    },
    drop() {
      inFlight.clear();
      flushWait.stop();
      queue.rewind();
    },
  };
}
