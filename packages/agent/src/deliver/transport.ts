// What the delivery state machine needs from a way of reaching keruta-api: send a batch, hear its
// acknowledgement or rejection, hear that the connection is gone. WebSocket and REST both fit.
import { isFinalError, type AppendBatchResult } from '@keruta/protocol';

export interface DeliveryFailure {
  /** A protocol ErrorCode (UNAUTHORIZED, DATABASE_ERROR …) or NETWORK, TIMEOUT, CLOSED, HTTP_<status>. */
  readonly code: string;
  readonly message: string;
  /** From Retry-After, for RATE_LIMIT_EXCEEDED. */
  readonly retryAfterMs?: number;
}

export interface TransportHandlers {
  onAck(batchId: string, result: AppendBatchResult): void;
  /** The server refused one batch; the connection may still be usable. */
  onReject(batchId: string, failure: DeliveryFailure): void;
  /** The connection is gone; nothing more will arrive on it. */
  onLost(failure: DeliveryFailure): void;
}

/** The bytes around a batch's entries (their JSON joined by commas). */
export interface Framing {
  readonly head: Buffer;
  readonly tail: Buffer;
}

export interface Transport {
  readonly kind: 'websocket' | 'rest';
  frame(batchId: string): Framing;
  /** `body` is head + entries + tail; `release` is called once the transport no longer needs it. */
  send(batchId: string, body: Buffer, release: () => void): void;
  /** Sends a frame that is never acknowledged nor resent, if the connection can take it now (WebSocket only). */
  sendEphemeral?(text: string): boolean;
  close(): void;
}

export type OpenResult = { ok: true; transport: Transport } | { ok: false; failure: DeliveryFailure };

/** Refusals that sending again cannot fix until someone changes the configuration or the server (the protocol's table decides). */
export function isPermanent(failure: DeliveryFailure): boolean {
  return isFinalError(failure.code);
}

export function describeError(error: unknown): DeliveryFailure {
  const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.cause?.code ?? err.code;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return { code: 'TIMEOUT', message: 'no answer in time' };
  return { code: 'NETWORK', message: code ?? err.message ?? String(error) };
}
