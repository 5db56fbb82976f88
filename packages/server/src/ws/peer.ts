// What every part of one WebSocket connection answers its peer through: error frames, failures
// reported without the server's internals, and the close with a code from the table. Once the
// connection is closing, no part takes anything more from it.
import { ERROR_CODES, isKerutaError, type ErrorCode } from '@keruta/protocol';
import type { Logger } from 'pino';
import { errorFrame } from './frames.js';
import type { Outbox } from './outbox.js';

export interface Peer {
  readonly outbox: Outbox;
  /** True once the connection closes or begins to (or the server drains it). */
  readonly closing: boolean;
  sendError(code: ErrorCode, message: string, batchId?: string): void;
  /** Sends a KerutaError as it is; anything else is logged and sent as DATABASE_ERROR. */
  report(error: unknown, batchId?: string): void;
  /** Closes with `code` after an error frame saying `message`; once closing, does nothing. */
  close(code: ErrorCode, message: string): void;
  /** Closes with `code` after the frames already queued, the last of which said why. */
  closeAfterReport(code: ErrorCode): void;
  /** Takes nothing more, without closing: the socket has closed, or the server is draining it. */
  stopTaking(): void;
}

export function createPeer(outbox: Outbox, logger: Logger): Peer {
  let closing = false;

  const sendError = (code: ErrorCode, message: string, batchId?: string): void => {
    outbox.send(errorFrame(code, message, batchId));
  };

  return {
    outbox,
    get closing() {
      return closing;
    },
    sendError,
    report(error, batchId) {
      if (isKerutaError(error)) {
        sendError(error.code, error.message, batchId);
        return;
      }
      logger.error({ err: error }, 'websocket message failed');
      sendError('DATABASE_ERROR', 'the server could not complete the request', batchId);
    },
    close(code, message) {
      if (closing) return;
      closing = true;
      // A subscriber cut for being slow resumes from what it got: what is still queued is dropped.
      outbox.close({ code: ERROR_CODES[code].closeCode, reason: code, lastFrame: errorFrame(code, message), discard: code === 'SLOW_CONSUMER' });
    },
    closeAfterReport(code) {
      closing = true;
      outbox.close({ code: ERROR_CODES[code].closeCode, reason: code, discard: false });
    },
    stopTaking() {
      closing = true;
    },
  };
}
