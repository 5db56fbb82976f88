// One WebSocket connection on /ws/tasks/{taskId}: wires its parts (who it is, how fast it may
// send, what it subscribes to, what an agent writes on it) and hands each message to the one it is for.
import type { WebSocket } from 'ws';
import { KerutaError, assertTaskId, type ClientMessage } from '@keruta/protocol';
import type { LogStore } from '@keruta/storage';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import type { TurnQueue } from '../event-loop.js';
import type { Ingest } from '../ingest.js';
import type { ServerMetrics } from '../metrics.js';
import { createAgentWrites, type AgentWrites } from './agent-writes.js';
import { createConnectionAuth, type ConnectionAuth } from './connection-auth.js';
import { createConnectionSubscriptions, type ConnectionSubscriptions } from './connection-subscriptions.js';
import { frame } from './frames.js';
import { pongFrame } from './heartbeat.js';
import { createMessageRate } from './message-rate.js';
import { createOutbox } from './outbox.js';
import type { PartialRelay } from './partial-relay.js';
import { createPeer, type Peer } from './peer.js';
import { createReceiver } from './receiver.js';
import type { SubscriberBudget } from './subscriber-budget.js';
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

export function handleConnection(
  ws: WebSocket,
  pathTaskId: string | undefined,
  deps: ConnectionDeps,
  access: ConnectionAccess,
): ConnectionHandle {
  const outbox = createOutbox(ws, {
    budget: deps.budget,
    turns: deps.turns,
    // Called in a microtask (outbox.ts), by which time `peer` below exists.
    onOverBudget: () => {
      deps.metrics.slowConsumers.inc();
      peer.close('SLOW_CONSUMER', 'the server holds too much unsent data and this connection held the most; reconnect and resume with "since"');
    },
  });
  const peer = createPeer(outbox, deps.logger);
  const rate = createMessageRate(access.messagesPerSecond);
  const subscriptions = createConnectionSubscriptions(peer, deps);
  const writes = createAgentWrites({ ws, peer, ingest: deps.ingest, rate });
  const auth = createConnectionAuth(peer, access);
  const parts: ConnectionParts = { peer, auth, subscriptions, writes, partials: deps.partials, pathTaskId };
  const onMessage = createReceiver({ peer, rate, maxFrameBytes: deps.maxFrameBytes, take: (message) => dispatch(message, parts) });

  deps.metrics.connections.inc();
  ws.on('message', (data, isBinary) => {
    if (auth.principal !== undefined) onMessage(data as Buffer, isBinary);
    else void auth.ready.then(() => onMessage(data as Buffer, isBinary));
  });
  ws.on('close', () => {
    peer.stopTaking();
    auth.stop();
    subscriptions.stopAll();
    deps.metrics.connections.dec();
  });
  ws.on('error', (error) => {
    deps.logger.debug({ err: error }, 'websocket error');
  });
  return {
    async drain() {
      peer.stopTaking();
      await writes.settled();
      // The last acks may still wait for a turn to reach the socket; the close must not drop them.
      await outbox.sentWhatWaitsForTurns();
    },
    async recheck() {
      if (auth.principal === undefined || peer.closing) return;
      const who = await auth.recheck();
      if (who === undefined) return;
      const uncovered = subscriptions.uncoveredBy(who);
      if (uncovered !== undefined) peer.close('FORBIDDEN', `the credential no longer covers reading ${uncovered}`);
      else auth.accept(who);
    },
  };
}

/** What a connection's messages go to. */
interface ConnectionParts {
  peer: Peer;
  auth: ConnectionAuth;
  subscriptions: ConnectionSubscriptions;
  writes: AgentWrites;
  partials: PartialRelay;
  /** The task of the URL, for messages that name none. */
  pathTaskId: string | undefined;
}

/** Hands one message to the part it is for; every message but `auth` needs a principal. */
function dispatch(message: ClientMessage, { peer, auth, subscriptions, writes, partials, pathTaskId }: ConnectionParts): void {
  if (message.type === 'auth') {
    auth.authenticate(message.token);
    return;
  }
  const who = auth.principal;
  if (who === undefined) {
    throw new KerutaError('UNAUTHORIZED', 'authenticate first: send {"type":"auth","token":"…"}, an Authorization header or ?token=');
  }
  const taskIdOf = (named: { taskId?: string | undefined }): string => {
    const taskId = named.taskId ?? pathTaskId;
    if (taskId === undefined) throw new KerutaError('INVALID_TASK_ID', 'taskId: is required on /ws/tasks');
    return assertTaskId(taskId);
  };
  switch (message.type) {
    case 'ping':
      peer.outbox.send(pongFrame());
      return;
    case 'subscribe':
      subscriptions.subscribe(who, taskIdOf(message), message.options ?? {});
      return;
    case 'unsubscribe': {
      const taskId = taskIdOf(message);
      subscriptions.unsubscribe(taskId);
      peer.outbox.send(frame({ type: 'unsubscribed', taskId, timestamp: new Date().toISOString() }));
      return;
    }
    case 'log': {
      const { type: _type, taskId: _taskId, batchId, ...entry } = message as typeof message & { batchId?: unknown };
      const id = typeof batchId === 'string' ? batchId : entry.runId === undefined ? '' : `${entry.runId}:${entry.runSeq}`;
      writes.write(who, taskIdOf(message), [entry], id, undefined);
      return;
    }
    case 'logs':
      writes.write(who, taskIdOf(message), message.entries, message.batchId, 'entries');
      return;
    case 'partial':
      partials.publish(who, taskIdOf(message), message);
      return;
  }
}
