// A connection's incoming side: each frame checked (size, text) and parsed into a client message,
// and messages other than writes refused over the connection's rate. What passes goes to `take`.
import { parseClientMessage, type ClientMessage } from '@keruta/protocol';
import type { MessageRate } from './message-rate.js';
import type { Peer } from './peer.js';

export interface ReceiverOptions {
  peer: Peer;
  rate: MessageRate;
  maxFrameBytes: number;
  /** Handles one message; what it throws is reported to the peer. */
  take(message: ClientMessage): void;
}

/** Returns the handler of the socket's `message` events. */
export function createReceiver({ peer, rate, maxFrameBytes, take }: ReceiverOptions): (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void {
  return (data, isBinary) => {
    if (peer.closing) return;
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > maxFrameBytes) {
      peer.sendError('MESSAGE_TOO_LARGE', `frame: at most ${maxFrameBytes} bytes, got ${size}`);
      return;
    }
    if (isBinary) {
      peer.sendError('INVALID_MESSAGE_FORMAT', 'frame: must be text (JSON), not binary');
      return;
    }
    let message: ClientMessage;
    try {
      message = parseClientMessage(data.toString());
    } catch (error) {
      peer.report(error);
      return;
    }
    // Writes wait for the rate in order (agent-writes.ts); anything else over it is refused.
    if (message.type !== 'log' && message.type !== 'logs' && !rate.take()) {
      peer.sendError('RATE_LIMIT_EXCEEDED', `at most ${rate.perSecond} messages per second; slow down`);
      return;
    }
    try {
      take(message);
    } catch (error) {
      peer.report(error);
    }
  };
}
