// The WebSocket endpoint's heartbeat: every interval a protocol ping, to find dead peers (one that
// did not answer the last is terminated), and a JSON `ping` for clients that cannot see protocol
// pings; and the `pong` that answers a client's own `ping`.
import type { WebSocket, WebSocketServer } from 'ws';
import { frame } from './frames.js';

export interface Heartbeat {
  /** Watches `ws` from now on: it counts as alive until an interval passes without its pong. */
  watch(ws: WebSocket): void;
  stop(): void;
}

export function startHeartbeat(wss: WebSocketServer, intervalMs: number): Heartbeat {
  const alive = new WeakMap<WebSocket, boolean>();
  const timer = setInterval(() => {
    const ping = frame({ type: 'ping', timestamp: new Date().toISOString() });
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
      ws.send(ping);
    }
  }, intervalMs);
  timer.unref();
  return {
    watch(ws) {
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** The answer to a client's JSON `ping`. */
export function pongFrame(): string {
  return frame({ type: 'pong', timestamp: new Date().toISOString() });
}
