// Where the server is: defaults for browsers (the page's own origin) and Node, and the URLs the
// clients derive from one another.
import { TASK_ID_PATTERN } from '@keruta/protocol';
import { KerutaClientError } from './client-error.js';

/** keruta-api's default address outside a browser. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

interface LocationLike {
  protocol?: string;
  host?: string;
}

function pageLocation(): LocationLike | undefined {
  const location = (globalThis as { location?: LocationLike }).location;
  return location !== undefined && (location.protocol === 'http:' || location.protocol === 'https:') && location.host
    ? location
    : undefined;
}

/** `ws(s)://<the page's host>/ws/tasks` in a browser, `ws://127.0.0.1:8080/ws/tasks` elsewhere. */
export function defaultWebSocketUrl(): string {
  const location = pageLocation();
  if (location === undefined) return webSocketUrlFromServer(DEFAULT_SERVER_URL);
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/tasks`;
}

/** `/api/v1` (same origin) in a browser, `http://127.0.0.1:8080/api/v1` elsewhere. */
export function defaultApiUrl(): string {
  return pageLocation() === undefined ? apiUrlFromServer(DEFAULT_SERVER_URL) : '/api/v1';
}

function withoutTrailingSlash(path: string): string {
  return path.replace(/\/+$/, '');
}

/** `http://host:port[/prefix]` → `http://host:port[/prefix]/api/v1`. */
export function apiUrlFromServer(server: string): string {
  const url = new URL(server);
  return `${url.origin}${withoutTrailingSlash(url.pathname)}/api/v1`;
}

/** `http://host:port[/prefix]` → `ws://host:port[/prefix]/ws/tasks` (https → wss). */
export function webSocketUrlFromServer(server: string): string {
  const url = new URL(server);
  const scheme = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
  return `${scheme}//${url.host}${withoutTrailingSlash(url.pathname)}/ws/tasks`;
}

/** `http://host:port[/prefix]/api/v1` → `ws://host:port[/prefix]/ws/tasks`. */
export function webSocketUrlFromApiUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  url.pathname = withoutTrailingSlash(url.pathname).replace(/\/api\/v1$/, '');
  url.search = '';
  return webSocketUrlFromServer(url.href);
}

/** A WebSocket endpoint as given (ws, wss, http or https), normalised to ws/wss without a trailing slash. */
export function normalizeWebSocketUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name}: must be an absolute ws:// or wss:// URL such as ws://keruta-api:8080/ws/tasks, got ${JSON.stringify(value)}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new TypeError(`${name}: must be a ws:// or wss:// URL, got ${JSON.stringify(value)}`);
  }
  url.pathname = withoutTrailingSlash(url.pathname);
  return url.href.replace(/\/+(\?|#|$)/, '$1');
}

/** `<endpoint>/<taskId>`, with the token as the `token` query parameter (browsers cannot set headers). */
export function taskSocketUrl(endpoint: string, taskId: string, token: string | undefined): string {
  const url = new URL(endpoint);
  url.pathname = `${withoutTrailingSlash(url.pathname)}/${encodeURIComponent(taskId)}`;
  if (token !== undefined) url.searchParams.set('token', token);
  return url.href;
}

/** The task id as given, or a KerutaClientError with INVALID_TASK_ID. */
export function checkTaskId(taskId: unknown): string {
  if (typeof taskId !== 'string' || !TASK_ID_PATTERN.test(taskId)) {
    throw new KerutaClientError(
      'INVALID_TASK_ID',
      `taskId must be 1-128 characters of A-Z, a-z, 0-9, ".", "_" or "-", got ${JSON.stringify(taskId)}`,
    );
  }
  return taskId;
}
