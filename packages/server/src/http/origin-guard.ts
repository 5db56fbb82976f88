// What a browser page on another site must not do: reach a server in auth mode none through a
// DNS name it controls (DNS rebinding), read its WebSocket, or make it change state with a
// cross-origin POST/DELETE a page can send without asking (no-cors, no custom headers).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { KerutaError } from '@keruta/protocol';
import { credentialFromHeaders } from '../auth/credentials.js';
import { isLoopback, type AuthMode } from '../config.js';

export interface OriginGuardOptions {
  readonly mode: AuthMode;
  /** Origins besides the server's own, e.g. `http://127.0.0.1:3000`; `null` for file:// pages. */
  readonly allowedOrigins: readonly string[];
  /** Host names besides loopback ones, as `name` (any port) or `name:port`. */
  readonly allowedHosts: readonly string[];
}

/** `127.0.0.1:8080` → `127.0.0.1`, `[::1]:8080` → `::1`, `localhost` → `localhost`. */
function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(1, end);
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** Whether a Host header names this machine's loopback interface, or a name the operator allowed. */
export function hostAllowed(host: string | undefined, allowedHosts: readonly string[]): boolean {
  if (host === undefined || host === '') return false;
  const lower = host.toLowerCase();
  const name = hostName(lower);
  if (isLoopback(name)) return true;
  return allowedHosts.some((allowed) => {
    const entry = allowed.toLowerCase();
    return entry === lower || entry === name;
  });
}

/**
 * Whether an Origin header is the server's own (same host as the request's Host), a page served
 * from this machine's loopback interface (any port: a dev server showing the usage guide's log
 * component, say — code already running here, which could read the logs with curl anyway), or
 * allowed. A page from any other site is refused; so is `null`, which a sandboxed frame of any
 * site can send.
 */
export function originAllowed(origin: string, host: string | undefined, allowedOrigins: readonly string[]): boolean {
  if (allowedOrigins.includes(origin)) return true;
  try {
    const url = new URL(origin);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && isLoopback(url.hostname)) return true;
    return host !== undefined && url.host === host.toLowerCase();
  } catch {
    // `null` (file:// pages, sandboxed frames) and other non-URLs are no origin of ours.
    return false;
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Why a request must be refused before anything else is looked at, or undefined. */
export function browserRefusal(request: IncomingMessage, options: OriginGuardOptions, stateChanging: boolean): KerutaError | undefined {
  const { host, origin } = request.headers;
  if (options.mode === 'none' && !hostAllowed(host, options.allowedHosts)) {
    return new KerutaError(
      'FORBIDDEN',
      `Host ${JSON.stringify(host ?? '')} is not served without authentication: use 127.0.0.1, localhost or [::1], or list it in KERUTA_ALLOWED_HOSTS`,
    );
  }
  if (origin === undefined || originAllowed(origin, host, options.allowedOrigins)) return undefined;
  // A page cannot set these headers without a CORS preflight, which keruta never grants.
  if (stateChanging && credentialFromHeaders(request.headers) !== undefined) return undefined;
  if (stateChanging || options.mode === 'none') {
    return new KerutaError('FORBIDDEN', `Origin ${origin} may not ${stateChanging ? request.method : 'open a WebSocket'} here: list it in KERUTA_ALLOWED_ORIGINS`);
  }
  return undefined;
}

/** The HTTP side: refuses before rate limits, auth and the body. */
export function registerOriginGuard(app: FastifyInstance, options: OriginGuardOptions): void {
  app.addHook('onRequest', async (request) => {
    const refusal = browserRefusal(request.raw, options, STATE_CHANGING.has(request.method));
    if (refusal !== undefined) throw refusal;
  });
}

/** The WebSocket side: the upgrade is answered with the error body and the socket closed. */
export function refuseUpgrade(socket: Duplex, error: KerutaError): void {
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} Forbidden\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
