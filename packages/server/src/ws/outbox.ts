// A connection's outgoing side: sends frames in order, tells when the socket has drained, and
// counts every byte it holds unsent against the server-wide subscriber budget, frame by frame.
// Frames beyond a small amount in the socket's buffer wait in the outbox's own queue: there a
// frame shared by many subscribers costs one array slot each, and a connection cut for being
// slow drops them at once instead of holding them through its close grace.
//
// Frames also wait in the queue while the peer has not confirmed reading WINDOW_BYTES handed to
// its socket (pong-window.ts): against the connection's high-water mark at once, and against the
// server-wide budget once the pong is PONG_GRACE_MS late (a reader merely behind is not cut for
// what the kernel used to hold for it).
//
// Writes to sockets take turns of the event loop with the server's other work (TurnQueue): a
// fan-out to a thousand sockets goes out over several turns, and requests are answered between.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { TurnQueue } from '../event-loop.js';
import { createDrainWaiters } from './drain-waiters.js';
import { createFrameQueue, type Pending } from './frame-queue.js';
import { textBytes } from './frames.js';
import { createPongWindow } from './pong-window.js';
import type { SubscriberBudget } from './subscriber-budget.js';

export interface Outbox {
  /**
   * Sends a text frame. A Buffer is sent as it is: one frame serialised once and shared by many
   * subscribers costs its bytes once, while a string would be encoded again for every socket.
   */
  send(frame: string | Buffer): void;
  /**
   * Sends bytes that are already whole WebSocket frames (`wireFrames`), in order with `send`:
   * a batch sent one line a frame, shared by every subscriber, in one socket write.
   */
  sendWire(frames: Buffer): void;
  /** Bytes accepted by `send` that the socket has not yet handed to the kernel. */
  readonly buffered: number;
  /** True until the connection closes or begins to. */
  readonly open: boolean;
  /**
   * Resolves once no frame waits for a turn of the event loop (frames held for the socket's room or
   * the window still wait): for shutdown, whose close would otherwise drop an ack sent just before.
   */
  sentWhatWaitsForTurns(): Promise<void>;
  /** Resolves true once `buffered` is at most `lowWater`, false after `timeoutMs` without that. */
  waitForDrain(lowWater: number, timeoutMs: number): Promise<boolean>;
  /**
   * Closes the connection after `lastFrame` (an error saying why). With `discard`, frames still
   * queued are dropped (a subscriber cut for being slow resumes with `since` from what it got);
   * otherwise they are sent first. The peer has `CLOSE_GRACE_MS` to read the close.
   */
  close(options: { code: number; reason: string; lastFrame?: string; discard: boolean }): void;
}

export interface OutboxOptions {
  budget: SubscriberBudget;
  /**
   * The server-wide budget is exceeded and this connection holds the most: its queued frames are
   * already dropped and nothing more is sent; close it with SLOW_CONSUMER.
   */
  onOverBudget(): void;
  /** The server's turns: frames wait for the next one once this one has no time left. */
  turns: TurnQueue;
}

/** How long a connection closed by the server may take to read its last frames. */
export const CLOSE_GRACE_MS = 5000;

/**
 * Bytes handed to the socket before frames wait in the queue. Enough to keep a fast reader's
 * kernel buffer fed between two write callbacks; little enough that a cut connection, which keeps
 * these through its close grace, holds next to nothing.
 */
const SOCKET_WATER_BYTES = 64 * 1024;

export function createOutbox(ws: WebSocket, { budget, onOverBudget, turns }: OutboxOptions): Outbox {
  // ws without compression writes each frame to the socket at once, so bytes written here
  // beside it keep their order, and count in its `bufferedAmount`.
  const socket = (ws as unknown as { _socket: Socket })._socket;
  /** Frames not yet handed to the socket. */
  const queue = createFrameQueue();
  /** No frame is taken any more: the connection is closing or was cut. */
  let stopped = false;
  /** The socket has room but the turn had no time left: frames wait in the queue for the next. */
  let waitingTurn = false;
  /** Resolved once nothing waits for a turn any more (see sentWhatWaitsForTurns). */
  let turnWatchers: (() => void)[] = [];

  const account = budget.open(() => {
    stopped = true;
    dropQueue();
    // Called from inside a send, perhaps in the middle of a feed's fan-out: close after it.
    queueMicrotask(onOverBudget);
  });
  const window = createPongWindow(ws, {
    onConfirmed: () => {
      if (!stopped) pump();
    },
    // Nothing else may be sent by then: tell the budget that the window's frames count now.
    onLate: () => {
      if (!stopped) tellBudget();
    },
  });

  const buffered = (): number => queue.bytes + ws.bufferedAmount;
  const drains = createDrainWaiters(buffered);
  /**
   * Tells the budget what this connection holds. `bufferedAmount` is exact at once: a write the
   * kernel takes whole leaves nothing (counting until the write callback, which comes a tick later,
   * would count a whole fan-out of healthy subscribers as unsent).
   */
  const tellBudget = (): void =>
    // Frames that wait for a turn wait for the server, not for the peer: they count as the window's do.
    account.set((window.full && !window.pongLate) || waitingTurn ? ws.bufferedAmount : buffered(), buffered());

  const dropQueue = (): void => {
    queue.clear();
    tellBudget();
  };

  /**
   * The socket may take more: little in its own buffer, and the window not full (the frame that
   * crosses it goes whole: after the pong of the last ping less than PING_EVERY_BYTES is
   * unconfirmed, so a connection that reads never waits for a ping that was not sent).
   */
  const roomInSocket = (): boolean => ws.bufferedAmount < SOCKET_WATER_BYTES && !window.full;

  const waitForTurn = (): void => {
    if (waitingTurn) return;
    waitingTurn = true;
    turns.wait(() => {
      waitingTurn = false;
      if (!stopped) pump();
      if (!waitingTurn) tellTurnWatchers();
    });
  };

  const tellTurnWatchers = (): void => {
    const watchers = turnWatchers;
    turnWatchers = [];
    for (const watcher of watchers) watcher();
  };

  const write = (pending: Pending): void => {
    if (pending.wire) socket.write(pending.bytes, pump);
    else ws.send(pending.bytes, { binary: false }, pump);
    window.wrote(pending.bytes.length);
  };

  const enqueue = (pending: Pending): void => {
    if (stopped || ws.readyState !== ws.OPEN) return;
    if (queue.empty && roomInSocket() && turns.hasTime()) {
      write(pending);
    } else {
      // Behind frames already queued, the socket's write callback, a pong or a turn moves it on.
      if (queue.empty && roomInSocket()) waitForTurn();
      queue.push(pending);
      window.watchLate();
    }
    tellBudget();
  };

  /** Moves queued frames to the socket while it has room, then wakes whoever waits for a drain. */
  const pump = (): void => {
    while (!queue.empty && ws.readyState === ws.OPEN && roomInSocket()) {
      if (!turns.hasTime()) {
        waitForTurn();
        break;
      }
      write(queue.shift()!);
    }
    tellBudget();
    drains.wake();
  };

  ws.once('close', () => {
    stopped = true;
    window.stop();
    dropQueue();
    account.close();
    drains.fail();
    tellTurnWatchers();
  });

  return {
    send(frame) {
      enqueue({ bytes: typeof frame === 'string' ? textBytes(frame) : frame, wire: false });
    },
    sendWire(frames) {
      enqueue({ bytes: frames, wire: true });
    },
    get buffered() {
      return buffered();
    },
    get open() {
      return !stopped && ws.readyState === ws.OPEN;
    },
    sentWhatWaitsForTurns() {
      if (!waitingTurn || stopped || ws.readyState !== ws.OPEN) return Promise.resolve();
      return new Promise((resolve) => turnWatchers.push(resolve));
    },
    waitForDrain(lowWater, timeoutMs) {
      if (stopped || ws.readyState !== ws.OPEN) return Promise.resolve(false);
      if (buffered() <= lowWater) return Promise.resolve(true);
      return drains.wait(lowWater, timeoutMs);
    },
    close({ code, reason, lastFrame, discard }) {
      if (ws.readyState === ws.OPEN) {
        if (discard) dropQueue();
        // What is still queued goes to the socket now, in order, ahead of the close.
        for (let pending = queue.shift(); pending !== undefined; pending = queue.shift()) write(pending);
        if (lastFrame !== undefined) ws.send(textBytes(lastFrame), { binary: false });
      }
      stopped = true;
      ws.close(code, reason);
      // A peer that does not read never answers the close handshake; don't wait for it forever,
      // but long enough for a merely slow one to read its error and the close.
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    },
  };
}
