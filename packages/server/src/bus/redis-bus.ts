// The bus of several keruta-api instances on one Redis: every event goes on its task's channel,
// `<prefix>task:<taskId>`; an instance listens to a task's channel only while one of its
// subscribers watches that task, and to all of them (one pattern) while something watches '*'.
//
// Pub/sub rather than Streams. The store is the truth and the bus only a hint that it grew: a
// subscriber that sees a seq gap reads the missing entries from the store, and the task feeds
// look at the store on every resync this bus reports (after a reconnect, when a channel becomes
// active) and every second, so a lost message costs latency, never an entry. Streams would keep
// a second copy of every line in Redis, need trimming and a read loop per instance, to replay
// what the store replays already. Pub/sub keeps nothing in Redis and adds one hop of latency.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BusEvent, BusListener, LogBus } from './log-bus.js';

/** The part of a pino logger the bus writes to. */
export interface BusLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface RedisBusOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  url: string;
  /**
   * Prepended to every channel (default `keruta:`): instances see each other only with the same
   * prefix, so that several deployments, or parallel test files, can share one Redis.
   */
  channelPrefix?: string;
  /** Called for each message from another instance with the seconds it took since it was published. */
  observeLag?: (seconds: number) => void;
  logger?: BusLogger;
}

/** What travels on a channel. `at` is the publisher's clock, for the lag metric. */
interface WireMessage {
  from: string;
  at: number;
  event: BusEvent;
}

const DEFAULT_PREFIX = 'keruta:';
const PING_TIMEOUT_MS = 2000;
/** Reconnect attempts are spaced 100 ms, 200 ms, … up to this. */
const MAX_RECONNECT_DELAY_MS = 2000;

export function createRedisBus(options: RedisBusOptions): LogBus {
  const prefix = options.channelPrefix ?? DEFAULT_PREFIX;
  const taskChannelPrefix = `${prefix}task:`;
  // Redis reads the pattern as a glob: the prefix must match only itself.
  const everyTaskPattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}task:*`;
  const instanceId = randomUUID();
  const logger = options.logger;
  const listeners = new Map<string, Set<BusListener>>();
  const pending = new Set<Promise<unknown>>();
  let closed = false;

  const { publisher, subscriber } = connect(options.url, (role) => `${prefix}${role}:${instanceId}`);

  const track = (work: Promise<unknown>, what: string): void => {
    const tracked = work.catch((error: unknown) => {
      // Only a bus being closed fails a subscribe here (the subscriber retries forever otherwise);
      // nothing is left to deliver to.
      if (!closed) logger?.warn({ err: error }, `redis bus: ${what} failed`);
    });
    pending.add(tracked);
    void tracked.finally(() => pending.delete(tracked));
  };

  const resync = (key: string): void => {
    const set = listeners.get(key);
    if (set === undefined) return;
    for (const listener of set) listener({ kind: 'resync', taskId: key });
  };

  const deliver = (key: string, event: BusEvent): void => {
    const set = listeners.get(key);
    if (set === undefined) return;
    for (const listener of set) listener(event);
  };

  const receive = (key: string, payload: string): void => {
    if (!listeners.has(key)) return;
    const message = readWireMessage(payload);
    if (message === undefined || message.from === instanceId) return;
    options.observeLag?.(Math.max(0, Date.now() - message.at) / 1000);
    deliver(key, message.event);
  };

  subscriber.on('message', (channel: string, payload: string) => {
    if (channel.startsWith(taskChannelPrefix)) receive(channel.slice(taskChannelPrefix.length), payload);
  });
  subscriber.on('pmessage', (_pattern: string, _channel: string, payload: string) => receive('*', payload));

  logOutages(publisher, 'publisher', logger, () => closed);
  logOutages(subscriber, 'subscriber', logger, () => closed);
  let subscriberReadyBefore = false;
  subscriber.on('ready', () => {
    if (!subscriberReadyBefore) {
      subscriberReadyBefore = true;
      return;
    }
    // ioredis has sent the SUBSCRIBEs again before 'ready'; a PING is answered after them, and
    // from then on nothing published is missed: what was published meanwhile is in the store.
    track(
      subscriber.ping().then(() => {
        for (const key of [...listeners.keys()]) resync(key);
      }),
      'resubscribe',
    );
  });

  const listen = (key: string): void => {
    const subscribed = key === '*' ? subscriber.psubscribe(everyTaskPattern) : subscriber.subscribe(taskChannelPrefix + key);
    // Whatever was published before the subscription took effect is in the store: look there once.
    track(
      subscribed.then(() => resync(key)),
      `subscribe ${key}`,
    );
  };
  const unlisten = (key: string): void => {
    if (closed) return;
    track(key === '*' ? subscriber.punsubscribe(everyTaskPattern) : subscriber.unsubscribe(taskChannelPrefix + key), `unsubscribe ${key}`);
  };

  return {
    kind: 'redis',
    lossless: false,
    publish(event) {
      if (!closed && publisher.status === 'ready') {
        // Serialised once, for every other instance; sent before local delivery so that the other
        // instances' subscribers do not wait for this one's.
        const payload = `{"from":"${instanceId}","at":${Date.now()},"event":${JSON.stringify(event)}}`;
        publisher.publish(taskChannelPrefix + event.taskId, payload).catch(() => {
          // A lost hint: the other instances' feeds find these entries in the store.
        });
      }
      deliver(event.taskId, event);
      deliver('*', event);
    },
    subscribe(taskId, listener) {
      let set = listeners.get(taskId);
      if (set === undefined) {
        set = new Set();
        listeners.set(taskId, set);
        if (!closed) listen(taskId);
      }
      set.add(listener);
      const own = set;
      return () => {
        if (!own.delete(listener) || own.size > 0 || listeners.get(taskId) !== own) return;
        listeners.delete(taskId);
        unlisten(taskId);
      };
    },
    async settled() {
      if (closed) return;
      // Redis answers a connection's commands in order: a PING on the publisher is answered once
      // every earlier PUBLISH has been fanned out, one on the subscriber once every message
      // queued for it before has been read.
      if (publisher.status === 'ready') await publisher.ping();
      while (pending.size > 0) await Promise.all([...pending]);
      await subscriber.ping();
    },
    async ping() {
      if (closed) throw new Error('the redis bus is closed');
      for (const [role, connection] of [['publisher', publisher], ['subscriber', subscriber]] as const) {
        if (connection.status !== 'ready') throw new Error(`redis ${role} connection is ${connection.status}`);
      }
      await pingWithin(publisher, PING_TIMEOUT_MS);
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      await Promise.all([publisher, subscriber].map(disconnect));
    },
  };
}

/** The bus's two connections to Redis, `name`d by their role. */
function connect(url: string, name: (role: 'pub' | 'sub') => string): { publisher: Redis; subscriber: Redis } {
  const connectionOptions = (role: 'pub' | 'sub') => ({
    // Named so that an operator (or a test) can tell keruta's connections apart in CLIENT LIST.
    connectionName: name(role).replace(/\s/g, '_'),
    retryStrategy: (attempt: number) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  });
  return {
    // Publishes made while Redis is away are dropped, not queued without bound: readers poll the store.
    publisher: new Redis(url, { ...connectionOptions('pub'), enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
    // Subscribes made while Redis is away wait for it; ioredis re-subscribes after a reconnect.
    subscriber: new Redis(url, { ...connectionOptions('sub'), maxRetriesPerRequest: null }),
  };
}

/** Logs an outage of `connection` once when it starts and once when it ends, not on every retry; nothing once `closed`. */
function logOutages(connection: Redis, role: 'publisher' | 'subscriber', logger: BusLogger | undefined, closed: () => boolean): void {
  let down = false;
  const lost = (error?: Error): void => {
    if (closed() || down) return;
    down = true;
    logger?.warn({ err: error, role }, 'redis bus: connection lost; instances find new entries by polling the store until it is back');
  };
  connection.on('error', (error: Error) => lost(error));
  connection.on('close', () => lost());
  connection.on('ready', () => {
    if (!down) return;
    down = false;
    if (!closed()) logger?.info({ role }, 'redis bus: connected again');
  });
}

/** PING, failing after `timeoutMs` without an answer. */
async function pingWithin(connection: Redis, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connection.ping(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`redis did not answer PING within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A message of another keruta-api instance; undefined for anything else on our channels. */
function readWireMessage(payload: string): WireMessage | undefined {
  let message: WireMessage;
  try {
    message = JSON.parse(payload) as WireMessage;
  } catch {
    // Not one of ours (another program on our channels): the store still has every entry.
    return undefined;
  }
  return isBusEvent(message.event) ? message : undefined;
}

/** Closes a connection without waiting for Redis; resolves once its socket is gone. */
function disconnect(connection: Redis): Promise<void> {
  const { status } = connection;
  connection.disconnect();
  // Between two reconnection attempts there is no socket, and ioredis emits no 'end'.
  if (status === 'end' || status === 'reconnecting') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    timer.unref();
    connection.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function isBusEvent(event: unknown): event is BusEvent {
  if (typeof event !== 'object' || event === null) return false;
  const { kind, taskId } = event as Partial<BusEvent>;
  if (typeof taskId !== 'string') return false;
  if (kind === 'entries') return Array.isArray((event as { entries?: unknown }).entries);
  if (kind === 'partial') return typeof (event as { partial?: unknown }).partial === 'object';
  return kind === 'task' && typeof (event as { task?: unknown }).task === 'object';
}
