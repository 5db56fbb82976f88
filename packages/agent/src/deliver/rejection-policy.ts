// How the delivery answers a batch the server refused: after MESSAGE_TOO_LARGE, batches half as big
// (a single entry still too large at the smallest size is invalid); after a transient refusal, the
// same batch again up to logStreaming.maxRetries times, then a reconnection with backoff; after a
// final one (the protocol's table decides), nothing more.
import { isPermanent, type DeliveryFailure } from './transport.js';

/** First limit on a batch's bytes; halved when the server answers MESSAGE_TOO_LARGE. */
export const INITIAL_BATCH_BYTES = 1024 * 1024;
const MIN_BATCH_BYTES = 64 * 1024;

/** Connect again after `failure`, once `delayMs` has passed; without it after the backoff, and the attempt counts. */
export interface Retry {
  readonly failure: DeliveryFailure;
  readonly delayMs?: number;
}

export interface RejectionPolicy {
  /** The most bytes a batch may have now. */
  readonly batchBytes: number;
  /** The server refused a batch; the oldest batch in flight holds `oldestCount` entries. */
  rejected(failure: DeliveryFailure, oldestCount: number | undefined): Retry;
  /** A batch went through: transient refusals are counted from 0 again. */
  acknowledged(): void;
}

export function createRejectionPolicy(options: { readonly maxRetries: number; readonly retryIntervalMs: number }): RejectionPolicy {
  let batchBytes = INITIAL_BATCH_BYTES;
  /** Times the batch at the head was refused with a transient error. */
  let retries = 0;
  return {
    get batchBytes() {
      return batchBytes;
    },
    rejected(failure, oldestCount) {
      if (failure.code === 'MESSAGE_TOO_LARGE') {
        if (batchBytes <= MIN_BATCH_BYTES && oldestCount === 1) return { failure: { ...failure, code: 'INVALID_LOG_FORMAT' } };
        batchBytes = Math.max(MIN_BATCH_BYTES, Math.floor(batchBytes / 2));
        return { failure, delayMs: 0 };
      }
      if (isPermanent(failure)) return { failure };
      retries++;
      if (retries <= options.maxRetries) return { failure, delayMs: failure.retryAfterMs ?? options.retryIntervalMs };
      retries = 0;
      return { failure };
    },
    acknowledged() {
      retries = 0;
    },
  };
}
