// The WebSocket endpoint /ws/tasks/{taskId} on the HTTP server: which upgrades it takes (path,
// browser rules, connection limits), the heartbeat of what it took, and shutdown.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ERROR_CODES, TASK_ID_PATTERN } from '@keruta/protocol';
import type { ServerConfig } from '../config.js';
import type { Authenticator } from '../auth/authenticator.js';
import { credentialFromHeaders, credentialFromUrl, credentialKey } from '../auth/credentials.js';
import { browserRefusal, originAllowed, refuseUpgrade, type OriginGuardOptions } from '../http/origin-guard.js';
import { handleConnection, type ConnectionDeps, type ConnectionHandle } from './connection.js';
import { createConnectionAccess } from './connection-access.js';
import { createCredentialSlots } from './credential-slots.js';
import { watchCredentials } from './credential-watch.js';
import { errorFrame } from './frames.js';
import { startHeartbeat } from './heartbeat.js';

export interface WsEndpoint {
  /** Closes every connection with 1001 (going away: reconnect) and stops accepting new ones. */
  close(): Promise<void>;
  readonly clients: number;
}

export interface WsEndpointOptions extends ConnectionDeps {
  server: Server;
  heartbeatIntervalMs: number;
  maxConnections: number;
  authenticator: Authenticator;
  security: ServerConfig['security'];
  /** Host and Origin rules for browsers (auth mode none: loopback Host, own or allowed Origin). */
  guard: OriginGuardOptions;
  /** The connection has authenticated: it no longer counts as an unauthenticated socket. */
  onAuthenticated(socket: Duplex): void;
}

/** Longest a shutdown waits for batches in flight to be stored; the CLI exits 10 s after SIGTERM. */
const DRAIN_TIMEOUT_MS = 5000;

const PATH = /^\/ws\/tasks(?:\/([^/?#]*))?\/?$/;

export function attachWebSocketEndpoint(options: WsEndpointOptions): WsEndpoint {
  // Frames up to twice the limit are read and answered with MESSAGE_TOO_LARGE; beyond that
  // ws closes the connection (1009) before buffering more.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes * 2, perMessageDeflate: false });
  let shuttingDown = false;
  const connections = new Map<WebSocket, ConnectionHandle>();
  const { authenticator, security } = options;

  const slots = createCredentialSlots(security.maxConnectionsPerCredential);
  const unwatch = watchCredentials(authenticator, () => connections.values());
  const tooManyMessage = `at most ${security.maxConnectionsPerCredential} connections per credential`;
  const heartbeat = startHeartbeat(wss, options.heartbeatIntervalMs);

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const match = PATH.exec(path);
    if (match === null) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const refusal = browserRefusal(request, options.guard, false);
    if (refusal !== undefined) {
      refuseUpgrade(socket, refusal);
      return;
    }
    const fromHeaders = credentialFromHeaders(request.headers);
    const fromUrl = fromHeaders === undefined ? credentialFromUrl(request.url) : undefined;
    if (fromUrl !== undefined && !tokenOriginAllowed(request, authenticator.mode, security.allowedOrigins)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const credential = fromHeaders ?? fromUrl;
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (shuttingDown || wss.clients.size > options.maxConnections) {
        refuse(ws, 'WEBSOCKET_CONNECTION_FAILED', shuttingDown ? 'the server is shutting down; reconnect shortly' : 'too many connections; retry later');
        return;
      }
      const taskId = decodeSegment(match[1]);
      if (taskId !== undefined && !TASK_ID_PATTERN.test(taskId)) {
        refuse(ws, 'INVALID_TASK_ID', 'taskId must be 1-128 characters of A-Z, a-z, 0-9, ".", "_" or "-"');
        return;
      }
      if (credential !== undefined && !slots.claim(ws, credentialKey(credential))) {
        refuse(ws, 'RATE_LIMIT_EXCEEDED', tooManyMessage);
        return;
      }
      heartbeat.watch(ws);
      const access = createConnectionAccess({
        ws,
        credential,
        address: request.socket.remoteAddress ?? 'unknown',
        authenticator,
        slots,
        tooManyMessage,
        authTimeoutMs: security.wsAuthTimeoutMs,
        messagesPerSecond: security.wsMessagesPerSecond,
        onAuthenticated: () => options.onAuthenticated(socket),
      });
      connections.set(ws, handleConnection(ws, taskId, options, access));
      ws.once('close', () => connections.delete(ws));
    });
  };
  options.server.on('upgrade', onUpgrade);
  // What connections hold unsent, in their outboxes and their sockets.
  options.metrics.setWsBufferedSource(() => options.budget.held);

  return {
    get clients() {
      return wss.clients.size;
    },
    async close() {
      shuttingDown = true;
      unwatch();
      heartbeat.stop();
      options.server.off('upgrade', onUpgrade);
      await closeConnections(wss, connections.values());
    },
  };
}

/**
 * A token in the URL can be replayed by any page that learns it; a browser always says which
 * page opens the socket, so only the server's own origin (or those configured) may use one.
 */
function tokenOriginAllowed(request: IncomingMessage, mode: Authenticator['mode'], allowedOrigins: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || mode === 'none') return true;
  return originAllowed(origin, request.headers.host, allowedOrigins);
}

function refuse(ws: WebSocket, code: 'WEBSOCKET_CONNECTION_FAILED' | 'INVALID_TASK_ID' | 'RATE_LIMIT_EXCEEDED', message: string): void {
  ws.send(errorFrame(code, message));
  ws.close(ERROR_CODES[code].closeCode, code);
}

/** The task id segment of the path, decoded (as it came when it is not valid percent-encoding); undefined on /ws/tasks. */
function decodeSegment(segment: string | undefined): string | undefined {
  if (segment === undefined || segment === '') return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Agents' batches already received are stored and acknowledged, then every socket is closed with 1001. */
async function closeConnections(wss: WebSocketServer, connections: Iterable<ConnectionHandle>): Promise<void> {
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all([...connections].map((connection) => connection.drain())),
    new Promise((resolve) => (drainTimer = setTimeout(resolve, DRAIN_TIMEOUT_MS))),
  ]);
  clearTimeout(drainTimer);
  const closed = [...wss.clients].map(
    (ws) =>
      new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1001, 'server shutting down');
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 2000).unref();
      }),
  );
  await Promise.all(closed);
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}
