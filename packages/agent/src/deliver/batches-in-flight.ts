// The batches sent on the current connection and not acknowledged yet, oldest first. The server
// stores a connection's batches in order, so an acknowledgement covers every batch sent before it.
// Over the WebSocket the oldest must be acknowledged within websocket.timeoutMs, or the connection
// counts as lost (REST requests have their own timeout).
import type { Cursor } from './delivery-queue.js';
import { createTimer } from './timer.js';
import type { DeliveryFailure, Transport } from './transport.js';

export interface InFlight {
  readonly batchId: string;
  readonly cursor: Cursor;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly count: number;
  readonly sentAt: number;
}

export interface BatchesInFlight {
  add(batch: InFlight): void;
  has(batchId: string): boolean;
  /** Takes off `batchId` and every batch sent before it; none when it is not in flight. */
  takeUpTo(batchId: string): InFlight[];
  readonly oldest: InFlight | undefined;
  readonly length: number;
  /** The entries of all of them. */
  readonly entries: number;
  /** Over the WebSocket: starts waiting for the oldest batch's acknowledgement, unless a wait runs already. */
  watch(kind: Transport['kind'] | undefined): void;
  /** Stops the wait and starts it again for the batch that is the oldest now. */
  watchAgain(kind: Transport['kind'] | undefined): void;
  /** The connection is gone, and these batches with it. */
  clear(): void;
}

export function createBatchesInFlight(options: { readonly timeoutMs: number; readonly onTimeout: (failure: DeliveryFailure) => void }): BatchesInFlight {
  const batches: InFlight[] = [];
  const ackWait = createTimer();

  const watch = (kind: Transport['kind'] | undefined): void => {
    if (ackWait.running || batches.length === 0 || kind !== 'websocket') return;
    const oldest = batches[0] as InFlight;
    const remaining = Math.max(0, oldest.sentAt + options.timeoutMs - Date.now());
    ackWait.start(remaining, () => options.onTimeout({ code: 'TIMEOUT', message: `no acknowledgement within ${options.timeoutMs} ms` }));
  };

  return {
    add(batch) {
      batches.push(batch);
    },
    has(batchId) {
      return batches.some((b) => b.batchId === batchId);
    },
    takeUpTo(batchId) {
      const index = batches.findIndex((b) => b.batchId === batchId);
      return index === -1 ? [] : batches.splice(0, index + 1);
    },
    get oldest() {
      return batches[0];
    },
    get length() {
      return batches.length;
    },
    get entries() {
      return batches.reduce((n, b) => n + b.count, 0);
    },
    watch,
    watchAgain(kind) {
      ackWait.stop();
      watch(kind);
    },
    clear() {
      batches.length = 0;
      ackWait.stop();
    },
  };
}
