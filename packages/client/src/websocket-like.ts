// The part of the WebSocket API the client uses, which browsers' WebSocket and Node's `ws` both
// offer. Node 20 has no global WebSocket, so `ws` is loaded on first use, hidden from bundlers
// so that a browser build never pulls it in.

export const WS_CONNECTING = 0;
export const WS_OPEN = 1;
export const WS_CLOSED = 3;

export interface WebSocketMessageEventLike {
  readonly data: unknown;
}

export interface WebSocketCloseEventLike {
  readonly code: number;
  readonly reason: string;
}

export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: WebSocketMessageEventLike) => void) | null;
  onclose: ((event: WebSocketCloseEventLike) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drop the connection without a closing handshake. */
  terminate?(): void;
}

/** A WebSocket class: the browser's, `ws`'s, or any other with the same shape. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

let loadingWs: Promise<WebSocketConstructor> | undefined;
let loadedWs: WebSocketConstructor | undefined;

/** The given class, else the global WebSocket, else (Node 20) the `ws` package, loaded once. */
export function resolveWebSocket(given: WebSocketConstructor | undefined): WebSocketConstructor | Promise<WebSocketConstructor> {
  if (given !== undefined) return given;
  const native = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof native === 'function') return native as WebSocketConstructor;
  if (loadedWs !== undefined) return loadedWs;
  loadingWs ??= loadWsPackage().then((constructor) => (loadedWs = constructor));
  return loadingWs;
}

async function loadWsPackage(): Promise<WebSocketConstructor> {
  // A specifier in a variable keeps bundlers from following it into the browser build.
  const specifier = 'ws';
  let module: { WebSocket?: unknown; default?: unknown };
  try {
    module = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as typeof module;
  } catch (error) {
    // Let a later connection try again (e.g. after the package has been installed).
    loadingWs = undefined;
    throw new Error('no WebSocket available: this runtime has no global WebSocket and the "ws" package cannot be loaded; install ws or pass options.WebSocket', { cause: error });
  }
  const constructor = module.WebSocket ?? module.default;
  if (typeof constructor !== 'function') throw new Error('the "ws" package does not export a WebSocket class');
  return constructor as WebSocketConstructor;
}
