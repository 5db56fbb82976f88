// One WebSocket connection on /ws/tasks/{taskId}: parses each frame, answers pings, runs the
// subscriptions it asks for, and appends what an agent sends, in order, acknowledging each batch
// only once it is stored.
import type { WebSocket } from 'ws';
import {
  ERROR_CODES,
  KerutaError,
  assertTaskId,
  isKerutaError,
  parseClientMessage,
  type ClientMessage,
  type ErrorCode,
} from '@keruta/protocol';
import type { LogStore } from '@keruta/storage';
import type { Logger } from 'pino';
import { authorize, mayAccessTask, type Principal } from '../auth/principal.js';
import type { TurnQueue } from '../event-loop.js';
import { batchAnswer, type Ingest } from '../ingest.js';
import type { ServerMetrics } from '../metrics.js';
import { errorFrame, frame } from './frames.js';
import { createOutbox } from './outbox.js';
import type { PartialRelay } from './partial-relay.js';
import type { SubscriberBudget } from './subscriber-budget.js';
import { createSubscription, type Subscription } from './subscription.js';
import type { TaskFeeds } from './task-feed.js';

export interface ConnectionDeps {
  store: LogStore;
  feeds: TaskFeeds;
  ingest: Ingest;
  partials: PartialRelay;
  metrics: ServerMetrics;
  logger: Logger;
  maxFrameBytes: number;
  highWaterBytes: number;
  slowConsumerTimeoutMs: number;
  /** What all connections together may hold unsent. */
  budget: SubscriberBudget;
  /** Turns of the event loop, shared with ingest: frames go to sockets a turn's worth at a time. */
  turns: TurnQueue;
}

/** Who may use a connection, and how its credentials arrive. */
export interface ConnectionAccess {
  /**
   * The principal of the credential sent with the upgrade (header or `token` query); undefined
   * when none was sent, so the first message must be `auth`. Rejects with UNAUTHORIZED.
   */
  initial: Promise<Principal | undefined>;
  /** Checks the token of an `auth` message; RATE_LIMIT_EXCEEDED closes the connection. */
  authenticate(token: string): Promise<Principal>;
  /** Checks again the credential in use (after the keys file changed), not counted as an attempt. */
  recheck(): Promise<Principal>;
  authTimeoutMs: number;
  messagesPerSecond: number;
}

export interface ConnectionHandle {
  /**
   * For shutdown: stops taking frames (a batch that arrives from now on is neither stored nor
   * acknowledged, so its agent sends it again) and resolves once every batch already taken is
   * stored and acknowledged, or refused.
   */
  drain(): Promise<void>;
  /** Closes with UNAUTHORIZED if the credential no longer passes, FORBIDDEN if no longer covers a subscription. */
  recheck(): Promise<void>;
}

/** Subscriptions one connection may hold at once. */
const MAX_SUBSCRIPTIONS = 64;
/**
 * Agent batches received but not yet stored. Beyond this the connection stops reading, so that
 * a writer faster than the store waits in TCP instead of in the server's memory.
 */
const MAX_PENDING_WRITES = 4;

export function handleConnection(
  ws: WebSocket,
  pathTaskId: string | undefined,
  deps: ConnectionDeps,
  access: ConnectionAccess,
): ConnectionHandle {
  const outbox = createOutbox(ws, {
    budget: deps.budget,
    turns: deps.turns,
    onOverBudget: () => {
      deps.metrics.slowConsumers.inc();
      close('SLOW_CONSUMER', 'the server holds too much unsent data and this connection held the most; reconnect and resume with "since"');
    },
  });
  let principal: Principal | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  /** A token bucket of messages: a second's worth, refilled continuously. */
  let allowance = access.messagesPerSecond;
  let allowanceAt = Date.now();
  const subscriptions = new Map<string, Subscription>();
  /** Agent writes run one after another so that batches are stored in the order they were sent. */
  let writes: Promise<void> = Promise.resolve();
  let pendingWrites = 0;
  let closing = false;

  const sendError = (code: ErrorCode, message: string, batchId?: string): void => {
    outbox.send(errorFrame(code, message, batchId));
  };

  const close = (code: ErrorCode, message: string): void => {
    if (closing) return;
    closing = true;
    // A subscriber cut for being slow resumes from what it got: what is still queued is dropped.
    outbox.close({ code: ERROR_CODES[code].closeCode, reason: code, lastFrame: errorFrame(code, message), discard: code === 'SLOW_CONSUMER' });
  };

  const report = (error: unknown, batchId?: string): void => {
    if (isKerutaError(error)) {
      sendError(error.code, error.message, batchId);
      return;
    }
    deps.logger.error({ err: error }, 'websocket message failed');
    sendError('DATABASE_ERROR', 'the server could not complete the request', batchId);
  };

  const taskIdOf = (message: { taskId?: string | undefined }): string => {
    const taskId = message.taskId ?? pathTaskId;
    if (taskId === undefined) throw new KerutaError('INVALID_TASK_ID', 'taskId: is required on /ws/tasks');
    return assertTaskId(taskId);
  };

  const unsubscribe = (taskId: string): boolean => {
    const existing = subscriptions.get(taskId);
    if (existing === undefined) return false;
    existing.stop();
    subscriptions.delete(taskId);
    deps.metrics.subscribers.dec();
    return true;
  };

  const subscribe = (message: Extract<ClientMessage, { type: 'subscribe' }>, who: Principal): void => {
    const taskId = taskIdOf(message);
    authorize(who, 'logs:read', taskId);
    unsubscribe(taskId);
    if (subscriptions.size >= MAX_SUBSCRIPTIONS) {
      throw new KerutaError('RATE_LIMIT_EXCEEDED', `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
    }
    const subscription = createSubscription({
      taskId,
      options: message.options ?? {},
      store: deps.store,
      feeds: deps.feeds,
      outbox,
      highWaterBytes: deps.highWaterBytes,
      slowConsumerTimeoutMs: deps.slowConsumerTimeoutMs,
      onSlowConsumer: () => {
        deps.metrics.slowConsumers.inc();
        close('SLOW_CONSUMER', `subscriber to ${taskId} fell behind; reconnect and resume with "since"`);
      },
      onFailure: (error) => {
        if (subscriptions.get(taskId) === subscription) unsubscribe(taskId);
        if (isKerutaError(error) && error.code !== 'DATABASE_ERROR') {
          report(error);
          return;
        }
        // The store failed under the subscription. A closed connection makes every client
        // reconnect with backoff and resume with `since` once the store is back.
        deps.logger.error({ err: error, taskId }, 'subscription stopped: the log store failed');
        close('WEBSOCKET_CONNECTION_FAILED', `the log store is unavailable; reconnect and resume ${taskId} with "since"`);
      },
      onDone: () => {
        if (subscriptions.get(taskId) === subscription) unsubscribe(taskId);
      },
    });
    subscriptions.set(taskId, subscription);
    deps.metrics.subscribers.inc();
    void subscription.start();
  };

  /** Writes wait here when they come faster than the rate allows: an agent is slowed, never refused. */
  const throttle = async (): Promise<void> => {
    if (takeAllowance()) return;
    const waitMs = Math.ceil(((1 - allowance) / access.messagesPerSecond) * 1000);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    takeAllowance(true);
  };

  const write = (who: Principal, taskId: string, entries: unknown[], batchId: string, field: string | undefined): void => {
    try {
      authorize(who, 'logs:write', taskId);
    } catch (error) {
      report(error, batchId);
      return;
    }
    pendingWrites += 1;
    if (pendingWrites >= MAX_PENDING_WRITES) ws.pause();
    writes = writes.then(async () => {
      try {
        // After a failed batch nothing more is stored from this connection: a batch stored behind
        // one that failed would be out of order once the writer resends the failed one.
        if (closing) return;
        await throttle();
        const result = await deps.ingest.append(taskId, entries, 'ws', field, who.subject);
        outbox.send(frame({ type: 'ack', batchId, ...batchAnswer(result) }));
      } catch (error) {
        report(error, batchId);
        // A batch that can never be stored (bad entries) says so and the connection goes on; any
        // other failure closes it, and the writer resends from its first unacknowledged batch.
        if (!isKerutaError(error) || !['INVALID_LOG_FORMAT', 'MESSAGE_TOO_LARGE', 'INVALID_TASK_ID'].includes(error.code)) {
          const code = isKerutaError(error) ? error.code : 'DATABASE_ERROR';
          closing = true;
          outbox.close({ code: ERROR_CODES[code].closeCode, reason: code, discard: false });
        }
      } finally {
        pendingWrites -= 1;
        if (pendingWrites < MAX_PENDING_WRITES && ws.isPaused) ws.resume();
      }
    });
  };

  const becomeAuthenticated = (who: Principal): void => {
    principal = who;
    clearTimeout(authTimer);
    clearTimeout(expiryTimer);
    if (who.expiresAt !== undefined) {
      // A subscription outliving its token is closed so that the client renews it.
      expiryTimer = setTimeout(() => close('UNAUTHORIZED', 'the token has expired; reconnect with a new one'), Math.max(0, who.expiresAt - Date.now()));
      expiryTimer.unref();
    }
  };

  const dispatch = (message: ClientMessage): void => {
    if (message.type === 'auth') {
      access.authenticate(message.token).then(becomeAuthenticated, (error: unknown) => {
        if (isKerutaError(error) && error.code === 'RATE_LIMIT_EXCEEDED') close(error.code, error.message);
        else report(error);
      });
      return;
    }
    const who = principal;
    if (who === undefined) {
      throw new KerutaError('UNAUTHORIZED', 'authenticate first: send {"type":"auth","token":"…"}, an Authorization header or ?token=');
    }
    switch (message.type) {
      case 'ping':
        outbox.send(frame({ type: 'pong', timestamp: new Date().toISOString() }));
        return;
      case 'subscribe':
        subscribe(message, who);
        return;
      case 'unsubscribe': {
        const taskId = taskIdOf(message);
        unsubscribe(taskId);
        outbox.send(frame({ type: 'unsubscribed', taskId, timestamp: new Date().toISOString() }));
        return;
      }
      case 'log': {
        const { type: _type, taskId: _taskId, batchId, ...entry } = message as typeof message & { batchId?: unknown };
        const id = typeof batchId === 'string' ? batchId : entry.runId === undefined ? '' : `${entry.runId}:${entry.runSeq}`;
        write(who, taskIdOf(message), [entry], id, undefined);
        return;
      }
      case 'logs':
        write(who, taskIdOf(message), message.entries, message.batchId, 'entries');
        return;
      case 'partial':
        deps.partials.publish(who, taskIdOf(message), message);
        return;
    }
  };

  /** Takes one message from the bucket; `force` takes it even into debt (a write that waited). */
  const takeAllowance = (force = false): boolean => {
    const now = Date.now();
    allowance = Math.min(access.messagesPerSecond, allowance + ((now - allowanceAt) / 1000) * access.messagesPerSecond);
    allowanceAt = now;
    if (allowance < 1 && !force) return false;
    allowance -= 1;
    return true;
  };

  const onMessage = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void => {
    if (closing) return;
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > deps.maxFrameBytes) {
      sendError('MESSAGE_TOO_LARGE', `frame: at most ${deps.maxFrameBytes} bytes, got ${size}`);
      return;
    }
    if (isBinary) {
      sendError('INVALID_MESSAGE_FORMAT', 'frame: must be text (JSON), not binary');
      return;
    }
    let message: ClientMessage;
    try {
      message = parseClientMessage(data.toString());
    } catch (error) {
      report(error);
      return;
    }
    // Writes are throttled in order (see `throttle`); anything else over the rate is refused.
    if (message.type !== 'log' && message.type !== 'logs' && !takeAllowance()) {
      sendError('RATE_LIMIT_EXCEEDED', `at most ${access.messagesPerSecond} messages per second; slow down`);
      return;
    }
    try {
      dispatch(message);
    } catch (error) {
      report(error);
    }
  };

  const authTimer = setTimeout(() => {
    if (principal === undefined) close('UNAUTHORIZED', `no valid credentials within ${access.authTimeoutMs} ms`);
  }, access.authTimeoutMs);
  authTimer.unref();
  /** Frames wait for the upgrade's credential check, in the order they came. */
  const ready = access.initial.then(
    (who) => {
      if (who !== undefined) becomeAuthenticated(who);
    },
    (error: unknown) => {
      close(isKerutaError(error) ? error.code : 'UNAUTHORIZED', isKerutaError(error) ? error.message : 'credentials not accepted');
    },
  );

  deps.metrics.connections.inc();
  ws.on('message', (data, isBinary) => {
    if (principal !== undefined) onMessage(data as Buffer, isBinary);
    else void ready.then(() => onMessage(data as Buffer, isBinary));
  });
  ws.on('close', () => {
    closing = true;
    clearTimeout(authTimer);
    clearTimeout(expiryTimer);
    for (const taskId of [...subscriptions.keys()]) unsubscribe(taskId);
    deps.metrics.connections.dec();
  });
  ws.on('error', (error) => {
    deps.logger.debug({ err: error }, 'websocket error');
  });
  return {
    async drain() {
      closing = true;
      while (pendingWrites > 0) await writes;
      // The last acks may still wait for a turn to reach the socket; the close must not drop them.
      await outbox.sentWhatWaitsForTurns();
    },
    async recheck() {
      if (principal === undefined || closing) return;
      let who: Principal;
      try {
        who = await access.recheck();
      } catch (error) {
        close('UNAUTHORIZED', `the credential is no longer accepted (${isKerutaError(error) ? error.message : 'revoked'}); reconnect with a valid one`);
        return;
      }
      const uncovered = [...subscriptions.keys()].find((taskId) => !who.scopes.has('logs:read') || !mayAccessTask(who, taskId));
      if (uncovered !== undefined) close('FORBIDDEN', `the credential no longer covers reading ${uncovered}`);
      else becomeAuthenticated(who);
    },
  };
}
