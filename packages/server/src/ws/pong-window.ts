// The bytes a connection handed its socket that the peer has not yet proved it read. The socket's
// buffer says nothing about a peer that stopped reading while the kernel still takes its bytes (on
// loopback a socket absorbs megabytes): so every PING_EVERY_BYTES written, a WebSocket protocol
// ping goes after them, and its pong (browsers, Node's ws and Python's websocket-client answer by
// themselves; a peer that does not read cannot) confirms them. The outbox stops writing while
// WINDOW_BYTES are unconfirmed.
import type { WebSocket } from 'ws';

export interface PongWindow {
  /** WINDOW_BYTES or more written and not confirmed. */
  readonly full: boolean;
  /** The oldest unanswered ping is more than PONG_GRACE_MS old. */
  readonly pongLate: boolean;
  /** Counts `bytes` just handed to the socket, and pings after them when PING_EVERY_BYTES went since the last ping. */
  wrote(bytes: number): void;
  /** Frames wait for the window: calls `onLate` once the oldest ping may have become late. */
  watchLate(): void;
  /** The connection has closed. */
  stop(): void;
}

export interface PongWindowOptions {
  /** A pong confirmed more bytes: the window may have room again. */
  onConfirmed(): void;
  /** The time a pong may take has passed since `watchLate`: frames the window held now count. */
  onLate(): void;
}

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

export function createPongWindow(ws: WebSocket, { onConfirmed, onLate }: PongWindowOptions): PongWindow {
  /** Bytes handed to the socket, ever; those the peer confirmed by a pong; where the last ping was. */
  let written = 0;
  let confirmed = 0;
  let pingedAt = 0;
  /** Window pings not yet answered, oldest first. */
  let unanswered: { upTo: number; sentMs: number }[] = [];
  /** Tells again when the oldest ping becomes late (nothing else may be sent by then). */
  let lateTimer: NodeJS.Timeout | undefined;

  const full = (): boolean => written - confirmed >= WINDOW_BYTES;

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
    onConfirmed();
  });

  return {
    get full() {
      return full();
    },
    get pongLate() {
      return unanswered.length > 0 && performance.now() - unanswered[0]!.sentMs > PONG_GRACE_MS;
    },
    wrote(bytes) {
      written += bytes;
      if (written - pingedAt >= PING_EVERY_BYTES) {
        pingedAt = written;
        unanswered.push({ upTo: written, sentMs: performance.now() });
        ws.ping(`${PING_TAG}${written}`);
      }
    },
    watchLate() {
      if (lateTimer !== undefined || !full()) return;
      lateTimer = setTimeout(() => {
        lateTimer = undefined;
        onLate();
      }, PONG_GRACE_MS + 10);
      lateTimer.unref();
    },
    stop() {
      clearTimeout(lateTimer);
    },
  };
}
