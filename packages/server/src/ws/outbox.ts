// A connection's outgoing side: sends frames in order, tells when the socket has drained, and
// counts every byte it holds unsent against the server-wide subscriber budget, frame by frame.
// Frames beyond a small amount in the socket's buffer wait in the outbox's own queue: there a
// frame shared by many subscribers costs one array slot each, and a connection cut for being
// slow drops them at once instead of holding them through its close grace.
//
// The socket's buffer says nothing about a peer that stopped reading while the kernel still takes
// its bytes (on loopback a socket absorbs megabytes): so the bytes handed to the socket are also
// counted until the peer proves it read them, by answering a WebSocket protocol ping sent after
// them (browsers, Node's ws and Python's websocket-client answer by themselves, a peer that does
// not read cannot). Past WINDOW_BYTES unconfirmed, frames wait in the queue: against the
// connection's high-water mark at once, and against the server-wide budget once the pong is
// PONG_GRACE_MS late (a reader merely behind is not cut for what the kernel used to hold for it).
//
// Writes to sockets take turns of the event loop with the server's other work (TurnQueue): a
// fan-out to a thousand sockets goes out over several turns, and requests are answered between.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { TurnQueue } from '../event-loop.js';
import { textBytes } from './frames.js';
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

/**
 * Unconfirmed bytes (handed to the socket, no pong yet for a ping sent after them) at which frames
 * stop going to the socket. At 50 ms round trip that still lets ~5 MB/s (20,000 lines/s) through
 * to one reader, and a reader slower than that catches up from the store; 1,000 subscribers that
 * never read cost 256 KiB of copying each instead of all the kernel takes (with 1 MiB, 100,000
 * lines past them were written 4x slower than with none; with 256 KiB 1.0-1.2x).
 */
export const WINDOW_BYTES = 256 * 1024;
/** Bytes written between two window pings: a reader's pong arrives long before the window fills. */
export const PING_EVERY_BYTES = 64 * 1024;
/**
 * Window pings carry this and the count of bytes written before them, so the pong says exactly
 * what it confirms (a peer may answer only the latest of several pings). The heartbeat's pings
 * carry nothing and only tell that the peer is alive.
 */
const PING_TAG = 'w';
/**
 * How long a window ping may go unanswered before the frames the window holds count against the
 * server-wide budget: a reader merely behind (in a burst, or a process that serves a thousand
 * sockets) answers late but answers, and was never cut for what the kernel held for it.
 */
export const PONG_GRACE_MS = 2000;

/** A frame for `ws.send`, or bytes already framed for the socket itself. */
interface Pending {
  bytes: Buffer;
  wire: boolean;
}

export function createOutbox(ws: WebSocket, { budget, onOverBudget, turns }: OutboxOptions): Outbox {
  // ws without compression writes each frame to the socket at once, so bytes written here
  // beside it keep their order, and count in its `bufferedAmount`.
  const socket = (ws as unknown as { _socket: Socket })._socket;
  const waiters = new Set<{ lowWater: number; resolve: (drained: boolean) => void }>();
  /** Frames not yet handed to the socket, from `head` on; sent ones are cleared for the GC. */
  let queue: (Pending | undefined)[] = [];
  let head = 0;
  let queuedBytes = 0;
  /** Bytes handed to the socket, ever; those the peer confirmed by a pong; where the last ping was. */
  let written = 0;
  let confirmed = 0;
  let pingedAt = 0;
  /** Window pings not yet answered, oldest first. */
  let unanswered: { upTo: number; sentMs: number }[] = [];
  /** Tells the budget again when the oldest ping becomes late (nothing else may be sent by then). */
  let lateTimer: NodeJS.Timeout | undefined;
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

  const buffered = (): number => queuedBytes + ws.bufferedAmount;
  /**
   * Tells the budget what this connection holds. `bufferedAmount` is exact at once: a write the
   * kernel takes whole leaves nothing (counting until the write callback, which comes a tick later,
   * would count a whole fan-out of healthy subscribers as unsent).
   */
  const tellBudget = (): void =>
    // Frames that wait for a turn wait for the server, not for the peer: they count as the window's do.
    account.set((windowFull() && !pongLate()) || waitingTurn ? ws.bufferedAmount : buffered(), buffered());

  const windowFull = (): boolean => written - confirmed >= WINDOW_BYTES;
  const pongLate = (): boolean => unanswered.length > 0 && performance.now() - unanswered[0]!.sentMs > PONG_GRACE_MS;

  const dropQueue = (): void => {
    queue = [];
    head = 0;
    queuedBytes = 0;
    tellBudget();
  };

  /**
   * The socket may take more: little in its own buffer, and the window not full (the frame that
   * crosses it goes whole: after the pong of the last ping less than PING_EVERY_BYTES is
   * unconfirmed, so a connection that reads never waits for a ping that was not sent).
   */
  const roomInSocket = (): boolean => ws.bufferedAmount < SOCKET_WATER_BYTES && !windowFull();

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
    written += pending.bytes.length;
    if (written - pingedAt >= PING_EVERY_BYTES) {
      pingedAt = written;
      unanswered.push({ upTo: written, sentMs: performance.now() });
      ws.ping(`${PING_TAG}${written}`);
    }
  };

  const enqueue = (pending: Pending): void => {
    if (stopped || ws.readyState !== ws.OPEN) return;
    if (head === queue.length && roomInSocket() && turns.hasTime()) {
      write(pending);
    } else {
      // Behind frames already queued, the socket's write callback, a pong or a turn moves it on.
      if (head === queue.length && roomInSocket()) waitForTurn();
      queue.push(pending);
      queuedBytes += pending.bytes.length;
      if (lateTimer === undefined && windowFull()) {
        lateTimer = setTimeout(() => {
          lateTimer = undefined;
          if (!stopped) tellBudget();
        }, PONG_GRACE_MS + 10);
        lateTimer.unref();
      }
    }
    tellBudget();
  };

  /** Moves queued frames to the socket while it has room, then wakes whoever waits for a drain. */
  const pump = (): void => {
    while (head < queue.length && ws.readyState === ws.OPEN && roomInSocket()) {
      if (!turns.hasTime()) {
        waitForTurn();
        break;
      }
      const pending = queue[head]!;
      queue[head] = undefined;
      head += 1;
      queuedBytes -= pending.bytes.length;
      write(pending);
    }
    if (head === queue.length && head > 0) {
      queue = [];
      head = 0;
    }
    tellBudget();
    if (waiters.size === 0) return;
    for (const waiter of waiters) {
      if (buffered() <= waiter.lowWater) {
        waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  };

  ws.on('pong', (data: Buffer) => {
    const text = data.toString('latin1');
    if (!text.startsWith(PING_TAG)) return;
    const upTo = Number(text.slice(PING_TAG.length));
    // A pong the peer made up confirms at most what was written; it only lifts its own window.
    if (!Number.isSafeInteger(upTo) || upTo <= confirmed) return;
    confirmed = Math.min(upTo, written);
    unanswered = unanswered.filter((ping) => ping.upTo > confirmed);
    clearTimeout(lateTimer);
    lateTimer = undefined;
    if (!stopped) pump();
  });

  ws.once('close', () => {
    stopped = true;
    clearTimeout(lateTimer);
    dropQueue();
    account.close();
    for (const waiter of waiters) waiter.resolve(false);
    waiters.clear();
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
    close({ code, reason, lastFrame, discard }) {
      if (ws.readyState === ws.OPEN) {
        if (discard) dropQueue();
        // What is still queued goes to the socket now, in order, ahead of the close.
        while (head < queue.length) {
          const pending = queue[head]!;
          head += 1;
          queuedBytes -= pending.bytes.length;
          write(pending);
        }
        queue = [];
        head = 0;
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
