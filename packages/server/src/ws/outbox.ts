// A connection's outgoing side: sends frames and tells when the socket has drained, so that a
// subscriber never queues more than a bounded number of bytes in the server's memory.
import type { WebSocket } from 'ws';
import { textBytes } from './frames.js';

export interface Outbox {
  /**
   * Sends a text frame. A Buffer is sent as it is: one frame serialised once and shared by many
   * subscribers costs its bytes once, while a string would be encoded again for every socket.
   */
  send(frame: string | Buffer): void;
  /** Bytes accepted by `send` that the socket has not yet handed to the kernel. */
  readonly buffered: number;
  readonly open: boolean;
  /** Resolves true once `buffered` is at most `lowWater`, false after `timeoutMs` without that. */
  waitForDrain(lowWater: number, timeoutMs: number): Promise<boolean>;
}

export function createOutbox(ws: WebSocket): Outbox {
  const waiters = new Set<{ lowWater: number; resolve: (drained: boolean) => void }>();

  const onWritten = (): void => {
    if (waiters.size === 0) return;
    for (const waiter of waiters) {
      if (ws.bufferedAmount <= waiter.lowWater) {
        waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  };
  ws.once('close', () => {
    for (const waiter of waiters) waiter.resolve(false);
    waiters.clear();
  });

  return {
    send(frame) {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(typeof frame === 'string' ? textBytes(frame) : frame, { binary: false }, onWritten);
    },
    get buffered() {
      return ws.bufferedAmount;
    },
    get open() {
      return ws.readyState === ws.OPEN;
    },
    waitForDrain(lowWater, timeoutMs) {
      if (ws.readyState !== ws.OPEN) return Promise.resolve(false);
      if (ws.bufferedAmount <= lowWater) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = {
          lowWater,
          resolve: (drained: boolean) => {
            clearTimeout(timer);
            resolve(drained);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          resolve(false);
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}
