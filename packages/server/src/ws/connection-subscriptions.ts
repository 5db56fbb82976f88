// The subscriptions one connection holds, at most one per task: started after the read check,
// counted in the subscribers gauge, and ended with the connection. A subscription whose store
// fails closes the connection, so that its client resumes with `since` once the store is back.
import { KerutaError, isKerutaError, type SubscribeOptions } from '@keruta/protocol';
import { authorize, mayAccessTask, type Principal } from '../auth/principal.js';
import type { ConnectionDeps } from './connection.js';
import type { Peer } from './peer.js';
import { createSubscription, type Subscription } from './subscription.js';

export interface ConnectionSubscriptions {
  /** Replaces the connection's subscription to `taskId`, if any, with one reading as `options` say. */
  subscribe(who: Principal, taskId: string, options: SubscribeOptions): void;
  /** Ends the subscription to `taskId`; false when there was none. */
  unsubscribe(taskId: string): boolean;
  /** A task subscribed to that `who` may not read, if any. */
  uncoveredBy(who: Principal): string | undefined;
  /** Ends every subscription: the connection has closed. */
  stopAll(): void;
}

export type SubscriptionsDeps = Pick<ConnectionDeps, 'store' | 'feeds' | 'metrics' | 'logger' | 'highWaterBytes' | 'slowConsumerTimeoutMs'>;

/** Subscriptions one connection may hold at once. */
const MAX_SUBSCRIPTIONS = 64;

export function createConnectionSubscriptions(peer: Peer, deps: SubscriptionsDeps): ConnectionSubscriptions {
  const subscriptions = new Map<string, Subscription>();

  const unsubscribe = (taskId: string): boolean => {
    const existing = subscriptions.get(taskId);
    if (existing === undefined) return false;
    existing.stop();
    subscriptions.delete(taskId);
    deps.metrics.subscribers.dec();
    return true;
  };

  const onFailure = (taskId: string, error: unknown): void => {
    if (isKerutaError(error) && error.code !== 'DATABASE_ERROR') {
      peer.report(error);
      return;
    }
    // The store failed under the subscription. A closed connection makes every client
    // reconnect with backoff and resume with `since` once the store is back.
    deps.logger.error({ err: error, taskId }, 'subscription stopped: the log store failed');
    peer.close('WEBSOCKET_CONNECTION_FAILED', `the log store is unavailable; reconnect and resume ${taskId} with "since"`);
  };

  return {
    subscribe(who, taskId, options) {
      authorize(who, 'logs:read', taskId);
      unsubscribe(taskId);
      if (subscriptions.size >= MAX_SUBSCRIPTIONS) {
        throw new KerutaError('RATE_LIMIT_EXCEEDED', `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
      }
      /** Ends this subscription, not one that replaced it since. */
      const forget = (): void => {
        if (subscriptions.get(taskId) === subscription) unsubscribe(taskId);
      };
      const subscription = createSubscription({
        taskId,
        options,
        store: deps.store,
        feeds: deps.feeds,
        outbox: peer.outbox,
        highWaterBytes: deps.highWaterBytes,
        slowConsumerTimeoutMs: deps.slowConsumerTimeoutMs,
        onSlowConsumer: () => {
          deps.metrics.slowConsumers.inc();
          peer.close('SLOW_CONSUMER', `subscriber to ${taskId} fell behind; reconnect and resume with "since"`);
        },
        onFailure: (error) => {
          forget();
          onFailure(taskId, error);
        },
        onDone: forget,
      });
      subscriptions.set(taskId, subscription);
      deps.metrics.subscribers.inc();
      void subscription.start();
    },
    unsubscribe,
    uncoveredBy(who) {
      return [...subscriptions.keys()].find((taskId) => !who.scopes.has('logs:read') || !mayAccessTask(who, taskId));
    },
    stopAll() {
      for (const taskId of [...subscriptions.keys()]) unsubscribe(taskId);
    },
  };
}
