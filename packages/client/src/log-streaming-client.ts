// LogStreamingClient: the usage guide's class, with the same constructor, methods and events, so
// the guide's page runs on it unchanged — and underneath, a subscriber that never loses, repeats
// or reorders a line: it tracks the last `seq` and resumes with `since` after every reconnect
// (server restart, network loss, SLOW_CONSUMER), receives `logs` batches, backs off with jitter,
// and reports its connection state. A class, not a factory, because the guide's page calls `new`.
import {
  ERROR_CODES,
  MAX_TAIL,
  backoffDelay,
  isFinalError,
  SubscribeOptionsSchema,
  createValidator,
  type ErrorCode,
  type ErrorMessage,
  type LogEntry,
  type LogLevel,
  type LogMessage,
  type LogSource,
  type LogsMessage,
  type PartialMessage,
  type PongMessage,
  type ServerMessage,
  type ServerPingMessage,
  type SubscribeMessage,
  type SubscribeOptions,
  type SubscribedMessage,
  type TaskMessage,
  type UnsubscribedMessage,
} from '@keruta/protocol';
import { createListeners, type Listener } from './listeners.js';
import { parseFrameText, parseServerMessage } from './server-message.js';
import { checkTaskId, defaultWebSocketUrl, normalizeWebSocketUrl, taskSocketUrl } from './urls.js';
import {
  WS_CLOSED,
  WS_CONNECTING,
  WS_OPEN,
  resolveWebSocket,
  type WebSocketConstructor,
  type WebSocketLike,
} from './websocket-like.js';

/**
 * `connecting`: the first connection is being opened (also after `connect()` following `disconnect()`).
 * `open`: connected; the subscription is sent on open.
 * `reconnecting`: the connection was lost; waiting for, or making, the next attempt.
 * `closed`: `disconnect()` was called, the attempts ran out, or the server refused for good.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionStateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /** The close code that caused the change, when a connection closed. */
  code?: number;
  reason?: string;
  /** With `reconnecting`: the attempt about to be made (1, 2, …) and the wait before it, in ms. */
  attempt?: number;
  delayMs?: number;
}

/** Every event the client emits, with its data. */
export interface LogStreamingEvents {
  /** One per entry, in `seq` order, shaped like the usage guide's messages: `{type: 'log', …LogEntry}`. */
  log: LogMessage;
  /** The same entries a batch at a time, for consumers that render in bulk. Listen to `log` or `logs`, not both. */
  logs: LogsMessage;
  subscribed: SubscribedMessage;
  unsubscribed: UnsubscribedMessage;
  /** The server's heartbeat. */
  ping: ServerPingMessage;
  pong: PongMessage;
  /** A task started or finished: `{taskId, status, exitCode?}`. */
  task: TaskMessage;
  /**
   * The line a script is still writing, as a terminal shows it now (docs/live-partial-lines.md);
   * never stored, and gone once the line itself (same runId, source, lineNumber) arrives. Asked
   * for only when a `partial` listener is there when the client subscribes (connect after `on`).
   */
  partial: PartialMessage;
  /**
   * An error frame from the server (`{type, code, message, timestamp}`), or one the client makes
   * in the same shape: INVALID_MESSAGE_FORMAT for a frame it cannot read,
   * WEBSOCKET_CONNECTION_FAILED when no WebSocket can be opened. SLOW_CONSUMER is followed by an
   * automatic resume with `since`: nothing is lost.
   */
  error: ErrorMessage;
  state: ConnectionStateChange;
  /** The reconnect attempts ran out; the client is closed. */
  maxReconnectAttemptsReached: undefined;
}

export type LogStreamingEventName = keyof LogStreamingEvents;

export interface LogStreamingClientOptions {
  /**
   * The WebSocket endpoint without the task id, e.g. `ws://keruta-api:8080/ws/tasks`
   * (`http(s)://` is accepted and turned into `ws(s)://`). Default: the page's own host in a
   * browser (`ws(s)://<host>/ws/tasks`), `ws://127.0.0.1:8080/ws/tasks` elsewhere.
   */
  url?: string;
  /** The wait before the first reconnect attempt, in ms (the guide's 5000). Later attempts double it, with jitter. */
  reconnectInterval?: number;
  /** The longest wait between reconnect attempts, in ms. Default 30000. */
  maxReconnectInterval?: number;
  /** Attempts in a row without getting subscribed before giving up; `Infinity` never gives up. Default 10. */
  maxReconnectAttempts?: number;
  /** Only these sources (filtered by the server). Default: all. */
  sources?: LogSource[];
  /** Only these levels (filtered by the server). Default: all. */
  levels?: LogLevel[];
  /** Start after this seq: every stored entry with a larger seq first, then live ones. */
  since?: number;
  /** Start with the last N stored entries, then live ones. Without `since` and `tail`: live entries only. */
  tail?: number;
  /** Credentials, sent as the `token` query parameter (browsers cannot set headers on a WebSocket). */
  token?: string;
  /**
   * When nothing has arrived for this long (ms) the client sends a ping, and when nothing has
   * arrived for twice as long it drops the connection and reconnects. 0 turns it off. Default 30000.
   */
  heartbeatInterval?: number;
  /** Connect in the constructor, as the guide's class does. Default true. */
  autoConnect?: boolean;
  /** The WebSocket class to use. Default: the global one, else (Node 20) the `ws` package. */
  WebSocket?: WebSocketConstructor;
}

/** The options with every default filled in, as `client.options` shows them. */
export interface ResolvedLogStreamingClientOptions {
  readonly url: string;
  readonly reconnectInterval: number;
  readonly maxReconnectInterval: number;
  readonly maxReconnectAttempts: number;
  readonly sources: readonly LogSource[] | undefined;
  readonly levels: readonly LogLevel[] | undefined;
  readonly since: number | undefined;
  readonly tail: number | undefined;
  readonly token: string | undefined;
  readonly heartbeatInterval: number;
  readonly autoConnect: boolean;
  readonly WebSocket: WebSocketConstructor | undefined;
}

export const LOG_STREAMING_DEFAULTS = {
  reconnectInterval: 5000,
  maxReconnectInterval: 30_000,
  maxReconnectAttempts: 10,
  heartbeatInterval: 30_000,
} as const;

/** Close codes after which reconnecting cannot help: the request itself is refused (the protocol's table decides). */
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set(
  Object.entries(ERROR_CODES)
    .filter(([code]) => isFinalError(code))
    .map(([, { closeCode }]) => closeCode),
);
const SLOW_CONSUMER_CLOSE = ERROR_CODES.SLOW_CONSUMER.closeCode;
/** Our own close code when the heartbeat finds a dead connection. */
const HEARTBEAT_TIMEOUT_CLOSE = 4000;
/** How long `disconnect()` waits for the closing handshake before dropping the connection. */
const CLOSE_GRACE_MS = 1000;

const filterValidator = createValidator(SubscribeOptionsSchema);

type Timer = ReturnType<typeof setTimeout>;

export class LogStreamingClient {
  readonly taskId: string;
  readonly options: ResolvedLogStreamingClientOptions;
  /** Attempts made since the last successful subscription (the guide's field). */
  reconnectAttempts = 0;

  #ws: WebSocketLike | null = null;
  #state: ConnectionState = 'closed';
  #everOpened = false;
  #closedByUser = false;
  /** Bumped for every socket, so that events of a socket already given up on are ignored. */
  #generation = 0;
  /** The highest seq delivered (or `since`): anything at or below it is never delivered again. */
  #lastSeq: number;
  /** The `since` of the next subscription; undefined until the first one tells where the stream stands. */
  #resumeSince: number | undefined;
  #delivered = 0;
  #lastFrameAt = 0;
  #reconnectTimer: Timer | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #closeWaiters: (() => void)[] = [];
  readonly #listeners = createListeners<LogStreamingEvents>();

  constructor(taskId: string, options: LogStreamingClientOptions = {}) {
    this.taskId = checkTaskId(taskId);
    this.options = resolveOptions(options);
    this.#lastSeq = this.options.since ?? 0;
    this.#resumeSince = undefined;
    if (this.options.autoConnect) this.connect();
  }

  /** The connection state; every change is also a `state` event. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The highest `seq` delivered so far (or `since` before any): a reconnect resumes after it. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** How many entries have been delivered. */
  get deliveredCount(): number {
    return this.#delivered;
  }

  /** The current socket, as in the guide's class (`this.ws`); null between connections. */
  get ws(): WebSocketLike | null {
    return this.#ws;
  }

  /**
   * Opens the connection (the constructor does this unless `autoConnect: false`). While connected
   * it does nothing; while waiting to reconnect it connects at once; after `disconnect()` or after
   * the attempts ran out it starts again with a fresh count, resuming after `lastSeq`.
   */
  connect(): void {
    if (this.#ws !== null && (this.#ws.readyState === WS_CONNECTING || this.#ws.readyState === WS_OPEN)) return;
    this.#clearReconnectTimer();
    if (this.#closedByUser || this.#state === 'closed') {
      // A disconnect() still closing its socket is overtaken: that socket is left to close alone.
      for (const resolve of this.#closeWaiters.splice(0)) resolve();
      this.#closedByUser = false;
      this.reconnectAttempts = 0;
      this.#setState(this.#everOpened ? 'reconnecting' : 'connecting');
    }
    this.#openSocket();
  }

  /**
   * Sends the subscription for this task (done automatically on every open). It asks for `batch`
   * frames and, after the first subscription, resumes with `since` = the last seq delivered.
   * Does nothing while the socket is not open.
   */
  subscribe(): void {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== WS_OPEN) return;
    const { sources, levels, since, tail } = this.options;
    const options: SubscribeOptions = { realtime: true, batch: true };
    if (sources !== undefined) options.sources = [...sources];
    if (levels !== undefined) options.levels = [...levels];
    if (this.#listeners.has('partial')) options.partial = true;
    if (this.#resumeSince !== undefined) {
      options.since = this.#resumeSince;
    } else {
      if (tail !== undefined) options.tail = tail;
      if (since !== undefined) options.since = since;
    }
    const message: SubscribeMessage = { type: 'subscribe', taskId: this.taskId, options };
    ws.send(JSON.stringify(message));
  }

  /**
   * Acts on one message from the server (already parsed from JSON), as the guide's class does:
   * emits `log` per entry (skipping any seq already delivered), and `ping`, `error`,
   * `subscribed`, `task`… Messages that do not fit their schema become an `error` event
   * (INVALID_MESSAGE_FORMAT); types this client does not know are ignored.
   */
  handleMessage(message: unknown): void {
    const parsed = parseServerMessage(message);
    if (parsed.kind === 'unknown') return;
    if (parsed.kind === 'invalid') {
      this.#emitClientError('INVALID_MESSAGE_FORMAT', `the server sent a message this client cannot read: ${parsed.problem}`);
      return;
    }
    this.#dispatch(parsed.message);
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends LogStreamingEventName>(event: E, callback: Listener<LogStreamingEvents[E]>): () => void {
    return this.#listeners.on(event, callback);
  }

  off<E extends LogStreamingEventName>(event: E, callback: Listener<LogStreamingEvents[E]>): void {
    this.#listeners.off(event, callback);
  }

  /** Calls every listener of `event` with `data` (the guide's `emit`). */
  emit<E extends LogStreamingEventName>(
    event: E,
    ...data: LogStreamingEvents[E] extends undefined ? [data?: undefined] : [data: LogStreamingEvents[E]]
  ): void {
    this.#listeners.emit(event, data[0] as LogStreamingEvents[E]);
  }

  /**
   * Closes the connection for good (no reconnect — unlike the guide's class, whose `onclose`
   * reconnects). Entries that arrive before the socket has closed are still delivered. Resolves
   * once the socket is closed.
   */
  disconnect(): Promise<void> {
    this.#closedByUser = true;
    this.#clearReconnectTimer();
    this.#stopHeartbeat();
    const ws = this.#ws;
    if (ws === null || ws.readyState === WS_CLOSED) {
      this.#ws = null;
      this.#generation += 1;
      this.#setState('closed');
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#closeWaiters.push(resolve);
      ws.close(1000, 'client disconnect');
      const timer = setTimeout(() => {
        // The peer never finished the closing handshake (a dead network): stop waiting for it.
        if (this.#ws !== ws) return;
        ws.terminate?.();
        this.#handleClose(ws, 1006, 'closing handshake timed out');
      }, CLOSE_GRACE_MS);
      unrefTimer(timer);
    });
  }

  #openSocket(): void {
    const generation = ++this.#generation;
    const resolved = resolveWebSocket(this.options.WebSocket);
    if (typeof resolved === 'function') {
      this.#startSocket(resolved, generation);
      return;
    }
    resolved.then(
      (constructor) => {
        if (generation === this.#generation && !this.#closedByUser) this.#startSocket(constructor, generation);
      },
      (error: unknown) => {
        if (generation !== this.#generation || this.#closedByUser) return;
        this.#emitClientError('WEBSOCKET_CONNECTION_FAILED', errorText(error));
        this.#setState('closed');
      },
    );
  }

  #startSocket(constructor: WebSocketConstructor, generation: number): void {
    let ws: WebSocketLike;
    try {
      ws = new constructor(taskSocketUrl(this.options.url, this.taskId, this.options.token));
    } catch (error) {
      // E.g. a page's Content-Security-Policy refusing the address: report it, then retry as the guide does.
      this.#emitClientError('WEBSOCKET_CONNECTION_FAILED', `cannot open ${this.options.url}: ${errorText(error)}`);
      this.#scheduleReconnect(undefined, undefined);
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      if (generation !== this.#generation) return;
      this.#everOpened = true;
      this.#lastFrameAt = Date.now();
      this.#setState('open');
      this.subscribe();
      this.#startHeartbeat(ws);
    };
    ws.onmessage = (event) => {
      if (generation !== this.#generation) return;
      this.#lastFrameAt = Date.now();
      const value = parseFrameText(event.data);
      if (value === undefined) {
        this.#emitClientError('INVALID_MESSAGE_FORMAT', 'the server sent a frame that is not JSON text');
        return;
      }
      this.handleMessage(value);
    };
    // The close event that always follows decides what happens next; error events carry no detail.
    ws.onerror = () => undefined;
    ws.onclose = (event) => {
      if (generation !== this.#generation) return;
      this.#handleClose(ws, event.code, event.reason);
    };
  }

  #dispatch(message: ServerMessage): void {
    switch (message.type) {
      case 'log': {
        if (message.seq <= this.#lastSeq) return;
        this.#advance(message.seq);
        if (this.#listeners.has('logs')) {
          const { type: _type, ...entry } = message;
          this.#listeners.emit('logs', { type: 'logs', taskId: message.taskId, entries: [entry] });
        }
        this.#listeners.emit('log', message);
        return;
      }
      case 'logs': {
        const fresh = this.#freshEntries(message.entries);
        if (fresh.length === 0) return;
        this.#advance((fresh[fresh.length - 1] as LogEntry).seq, fresh.length);
        this.#listeners.emit('logs', fresh.length === message.entries.length ? message : { ...message, entries: fresh });
        if (this.#listeners.has('log')) {
          for (const entry of fresh) this.#listeners.emit('log', { type: 'log', ...entry });
        }
        return;
      }
      case 'subscribed':
        // Getting subscribed is what counts as a successful (re)connection.
        this.reconnectAttempts = 0;
        if (this.#resumeSince === undefined && this.options.tail === undefined) {
          // Live only (or `since`): after a reconnect, resume where this subscription started.
          this.#resumeSince = Math.max(this.options.since ?? message.lastSeq, this.#lastSeq);
        }
        this.#listeners.emit('subscribed', message);
        return;
      case 'error':
        this.#listeners.emit('error', message);
        return;
      case 'ping':
        this.#listeners.emit('ping', message);
        return;
      case 'pong':
        this.#listeners.emit('pong', message);
        return;
      case 'task':
        this.#listeners.emit('task', message);
        return;
      case 'unsubscribed':
        this.#listeners.emit('unsubscribed', message);
        return;
      case 'partial':
        this.#listeners.emit('partial', message);
        return;
      case 'ack':
        // Acknowledgements answer writers; a watcher sends no logs and has nothing to match them to.
        return;
    }
  }

  /** The entries of a batch not delivered yet, in seq order. */
  #freshEntries(entries: readonly LogEntry[]): LogEntry[] {
    const fresh: LogEntry[] = [];
    let last = this.#lastSeq;
    for (const entry of entries) {
      if (entry.seq <= last) continue;
      fresh.push(entry);
      last = entry.seq;
    }
    return fresh;
  }

  #advance(seq: number, count = 1): void {
    this.#lastSeq = seq;
    this.#resumeSince = seq;
    this.#delivered += count;
  }

  #handleClose(ws: WebSocketLike, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = null;
    this.#generation += 1;
    this.#stopHeartbeat();
    if (this.#closedByUser) {
      this.#setState('closed', { code, reason });
      const waiters = this.#closeWaiters.splice(0);
      for (const resolve of waiters) resolve();
      return;
    }
    if (FINAL_CLOSE_CODES.has(code)) {
      // The server has said why in an error frame (already emitted); asking again would get the same answer.
      this.#setState('closed', { code, reason });
      return;
    }
    this.#scheduleReconnect(code, reason);
  }

  #scheduleReconnect(code: number | undefined, reason: string | undefined): void {
    if (this.reconnectAttempts >= this.options.maxReconnectAttempts) {
      this.#setState('closed', closeDetail(code, reason));
      this.#listeners.emit('maxReconnectAttemptsReached', undefined);
      return;
    }
    this.reconnectAttempts += 1;
    const attempt = this.reconnectAttempts;
    // The server cut a slow subscriber and asks it to resume at once; anything else backs off.
    const delayMs =
      code === SLOW_CONSUMER_CLOSE && attempt === 1
        ? 0
        : backoffDelay(attempt, {
            baseMs: this.options.reconnectInterval,
            maxMs: Math.max(this.options.maxReconnectInterval, this.options.reconnectInterval),
          });
    this.#setState('reconnecting', { ...closeDetail(code, reason), attempt, delayMs });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#openSocket();
    }, delayMs);
  }

  #startHeartbeat(ws: WebSocketLike): void {
    const interval = this.options.heartbeatInterval;
    if (interval <= 0) return;
    this.#stopHeartbeat();
    this.#heartbeatTimer = setInterval(() => {
      if (this.#ws !== ws || ws.readyState !== WS_OPEN) return;
      const silentFor = Date.now() - this.#lastFrameAt;
      if (silentFor >= 2 * interval) {
        // A dead link may take minutes to report itself; give up on it now and resume elsewhere.
        ws.onclose = null;
        ws.terminate?.();
        ws.close(HEARTBEAT_TIMEOUT_CLOSE, 'heartbeat timeout');
        this.#handleClose(ws, HEARTBEAT_TIMEOUT_CLOSE, 'heartbeat timeout');
      } else if (silentFor >= interval) {
        ws.send('{"type":"ping"}');
      }
    }, interval);
    unrefTimer(this.#heartbeatTimer);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }

  #clearReconnectTimer(): void {
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
  }

  #setState(state: ConnectionState, detail: Omit<ConnectionStateChange, 'state' | 'previous'> = {}): void {
    const previous = this.#state;
    if (previous === state && state !== 'reconnecting') return;
    this.#state = state;
    this.#listeners.emit('state', { state, previous, ...detail });
  }

  #emitClientError(code: ErrorCode, message: string): void {
    this.#listeners.emit('error', { type: 'error', code, message, timestamp: new Date().toISOString() });
  }
}

function closeDetail(code: number | undefined, reason: string | undefined): { code?: number; reason?: string } {
  return { ...(code === undefined ? {} : { code }), ...(reason === undefined || reason === '' ? {} : { reason }) };
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** Node's timers would keep a process alive for a heartbeat alone; browsers' timers have no unref. */
function unrefTimer(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer && typeof timer.unref === 'function') timer.unref();
}

function resolveOptions(options: LogStreamingClientOptions): ResolvedLogStreamingClientOptions {
  const number = (name: keyof LogStreamingClientOptions, value: number | undefined, fallback: number, allowInfinity = false): number => {
    if (value === undefined) return fallback;
    const valid = typeof value === 'number' && value >= 0 && (Number.isFinite(value) || (allowInfinity && value === Infinity));
    if (!valid) throw new RangeError(`LogStreamingClient: options.${name} must be a number ≥ 0${allowInfinity ? ' or Infinity' : ''}, got ${String(value)}`);
    return value;
  };
  const filter = {
    ...(options.sources === undefined ? {} : { sources: options.sources }),
    ...(options.levels === undefined ? {} : { levels: options.levels }),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.tail === undefined ? {} : { tail: options.tail }),
  };
  const problem = filterValidator.explain(filter);
  if (problem !== undefined) {
    throw new RangeError(`LogStreamingClient: options.${problem}${options.tail !== undefined ? ` (tail is at most ${MAX_TAIL})` : ''}`);
  }
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) {
    throw new TypeError('LogStreamingClient: options.token must be a non-empty string');
  }
  if (options.WebSocket !== undefined && typeof options.WebSocket !== 'function') {
    throw new TypeError('LogStreamingClient: options.WebSocket must be a WebSocket class');
  }
  return Object.freeze({
    url: normalizeWebSocketUrl(options.url ?? defaultWebSocketUrl(), 'LogStreamingClient: options.url'),
    reconnectInterval: number('reconnectInterval', options.reconnectInterval, LOG_STREAMING_DEFAULTS.reconnectInterval),
    maxReconnectInterval: number('maxReconnectInterval', options.maxReconnectInterval, LOG_STREAMING_DEFAULTS.maxReconnectInterval),
    maxReconnectAttempts: number('maxReconnectAttempts', options.maxReconnectAttempts, LOG_STREAMING_DEFAULTS.maxReconnectAttempts, true),
    sources: options.sources === undefined ? undefined : Object.freeze([...options.sources]),
    levels: options.levels === undefined ? undefined : Object.freeze([...options.levels]),
    since: options.since,
    tail: options.tail,
    token: options.token,
    heartbeatInterval: number('heartbeatInterval', options.heartbeatInterval, LOG_STREAMING_DEFAULTS.heartbeatInterval),
    autoConnect: options.autoConnect ?? true,
    WebSocket: options.WebSocket,
  });
}
