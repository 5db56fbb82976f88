// The one subscription `keruta logs -f` reads: a LogStreamingClient over `ws` with the
// credentials as headers, the follow's filter and window, reconnecting forever.
import WebSocket from 'ws';
import { LogStreamingClient } from '../log-streaming-client.js';
import type { WebSocketConstructor } from '../websocket-like.js';
import type { ConnectionSettings } from './config.js';
import type { HistoryScope } from './print-history.js';

/** Reconnect quickly after a restart, and keep trying: a follower waits for its server. */
const RECONNECT = { reconnectInterval: 250, maxReconnectInterval: 5000, maxReconnectAttempts: Infinity } as const;

/**
 * `ws` with the credentials as headers, as on REST: in Node nothing forces the browser's
 * `?token=` (which would put the secret in the URL, and in access logs).
 */
function webSocketWithHeaders(settings: ConnectionSettings): WebSocketConstructor {
  const headers: Record<string, string> = {};
  if (settings.token !== undefined) headers['Authorization'] = `Bearer ${settings.token}`;
  if (settings.apiKey !== undefined) headers['X-API-Key'] = settings.apiKey;
  class AuthenticatedWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { headers });
    }
  }
  return AuthenticatedWebSocket as unknown as WebSocketConstructor;
}

/** The client, not connected yet: its listeners are to be added before `connect()`. */
export function createFollowClient(settings: ConnectionSettings, scope: HistoryScope): LogStreamingClient {
  const { sources, levels } = scope.filter;
  return new LogStreamingClient(scope.taskId, {
    url: settings.webSocketUrl,
    ...RECONNECT,
    autoConnect: false,
    WebSocket: webSocketWithHeaders(settings),
    ...(sources === undefined ? {} : { sources }),
    ...(levels === undefined ? {} : { levels }),
    // The whole log unless a window is asked for: `since: 0`, not the client's live-only default.
    ...(scope.since === undefined && scope.tail === undefined ? { since: 0 } : {}),
    ...(scope.since === undefined ? {} : { since: scope.since }),
    ...(scope.tail === undefined ? {} : { tail: scope.tail }),
  });
}
