// One subscriber's view of one task: history from the store, then live entries from the feed,
// with no gap and no duplicate at the seam. `cursor` is the highest seq already considered;
// a live batch that does not start right after it, or a socket that is not draining, sends the
// subscriber back to the store to catch up, so its memory stays bounded whatever the write rate.
import type { SubscribeOptions } from '@keruta/protocol';
import type { EntryFilter, LogStore } from '@keruta/storage';
import { createTurnTaker } from '../event-loop.js';
import { createEntrySender } from './entry-sender.js';
import { frame, taskFrame } from './frames.js';
import type { Outbox } from './outbox.js';
import { sendPartial } from './partial-relay.js';
import type { FeedListener, TaskFeed, TaskFeeds } from './task-feed.js';

/** Entries read from the store at a time while catching up. */
const CATCH_UP_CHUNK = 1000;

export interface SubscriptionDeps {
  taskId: string;
  options: SubscribeOptions;
  store: LogStore;
  feeds: TaskFeeds;
  outbox: Outbox;
  highWaterBytes: number;
  slowConsumerTimeoutMs: number;
  /** The socket did not drain in time: the connection must be closed with SLOW_CONSUMER. */
  onSlowConsumer(): void;
  /** Reading the store failed; the subscription has stopped. */
  onFailure(error: unknown): void;
  /** A subscription without `realtime` has sent its history and ended. */
  onDone(): void;
}

export interface Subscription {
  readonly taskId: string;
  start(): Promise<void>;
  stop(): void;
}

type State = 'starting' | 'catching-up' | 'live' | 'done' | 'stopped';

export function createSubscription(deps: SubscriptionDeps): Subscription {
  const { taskId, options, store, outbox } = deps;
  const realtime = options.realtime ?? true;
  const sender = createEntrySender({ taskId, options, outbox, highWaterBytes: deps.highWaterBytes });

  let state: State = 'starting';
  let cursor = 0;
  /** Where history ends for a subscription without realtime; live ones follow the feed. */
  let historyEnd = 0;
  let feed: TaskFeed | undefined;
  let catchingUp = false;

  const finish = (next: 'done' | 'stopped'): void => {
    if (state === 'stopped' || state === 'done') return;
    state = next;
    if (feed !== undefined) {
      feed.remove(listener);
      deps.feeds.release(feed);
      feed = undefined;
    }
  };

  const catchUp = async (): Promise<void> => {
    if (catchingUp) return;
    catchingUp = true;
    try {
      const takeTurn = createTurnTaker();
      while (state === 'catching-up') {
        // A socket that always drains at once would otherwise let a long catch-up hold the loop.
        await takeTurn();
        if (state !== 'catching-up') return;
        if (!outbox.open) {
          // The connection is closing (cut for the server-wide budget, or shut down): read no more.
          finish('stopped');
          return;
        }
        if (outbox.buffered > deps.highWaterBytes) {
          const drained = await outbox.waitForDrain(deps.highWaterBytes / 2, deps.slowConsumerTimeoutMs);
          if (state !== 'catching-up') return;
          if (!drained) {
            finish('stopped');
            deps.onSlowConsumer();
            return;
          }
        }
        const target = realtime ? Math.max(historyEnd, feed?.lastSeq ?? 0) : historyEnd;
        if (cursor >= target) {
          // No await between this check and the switch: every later batch reaches onBatch as live.
          if (realtime) state = 'live';
          else {
            finish('done');
            deps.onDone();
          }
          return;
        }
        // A batch the feed still holds is sent from its shared frames; older entries come from the store.
        const kept = realtime ? feed?.recentBatchWith(cursor + 1) : undefined;
        if (kept !== undefined) {
          cursor = sender.sendLive(kept, cursor);
          continue;
        }
        const range = await store.readRange({ taskId, afterSeq: cursor, upToSeq: target, limit: CATCH_UP_CHUNK, filter: sender.storeFilter });
        if (state !== 'catching-up') return;
        sender.sendEntries(range.entries);
        cursor = Math.max(cursor, range.scannedTo);
      }
    } catch (error) {
      finish('stopped');
      deps.onFailure(error);
    } finally {
      catchingUp = false;
    }
  };

  const listener: FeedListener = {
    onBatch(batch) {
      if (state !== 'live' || batch.lastSeq <= cursor || !outbox.open) return;
      if (batch.firstSeq > cursor + 1 || outbox.buffered > deps.highWaterBytes) {
        // A gap (a batch the bus lost or that raced ahead), or a socket that is not keeping up:
        // read from the store instead of holding entries in memory.
        state = 'catching-up';
        void catchUp();
        return;
      }
      cursor = sender.sendLive(batch, cursor);
      if (cursor < batch.lastSeq) {
        // The socket filled up mid-batch: the rest comes from the kept batch or the store as it drains.
        state = 'catching-up';
        void catchUp();
      }
    },
    onTask(task) {
      if (state !== 'stopped' && state !== 'done') outbox.send(taskFrame(task));
    },
    onPartial(partial) {
      // Only once live: a line still being written belongs after the history.
      if (state !== 'live' || options.partial !== true) return;
      if (sender.wantsSource(partial.message.source)) sendPartial(outbox, partial);
    },
    onAdvance() {
      // The store holds entries the bus has not brought (a lost or late message): read them there.
      if (state !== 'live' || (feed?.lastSeq ?? 0) <= cursor) return;
      state = 'catching-up';
      void catchUp();
    },
  };

  return {
    taskId,
    async start() {
      // Listen before reading lastSeq, so that nothing committed after the read is missed.
      const current = deps.feeds.acquire(taskId);
      feed = current;
      current.add(listener);
      try {
        const stored = await store.lastSeq(taskId);
        // Unsubscribed (or replaced) while the store answered: `feed` is already released.
        if (state !== 'starting') return;
        const lastSeq = Math.max(stored, current.lastSeq);
        historyEnd = lastSeq;
        cursor = await startCursor(store, taskId, options, lastSeq, sender.storeFilter);
        if (state !== 'starting') return;
        outbox.send(frame({ type: 'subscribed', taskId, timestamp: new Date().toISOString(), lastSeq }));
        state = 'catching-up';
      } catch (error) {
        finish('stopped');
        deps.onFailure(error);
        return;
      }
      await catchUp();
    },
    stop() {
      finish('stopped');
    },
  };
}

/** The seq a subscription starts after: the end of the log (`lastSeq`), `tail` lines before it, or `since`. */
async function startCursor(store: LogStore, taskId: string, options: SubscribeOptions, lastSeq: number, filter: EntryFilter): Promise<number> {
  const cursor = options.tail !== undefined && options.tail > 0 ? await store.tailStart(taskId, options.tail, lastSeq, filter) : lastSeq;
  if (options.since === undefined) return cursor;
  return options.tail === undefined ? options.since : Math.max(cursor, options.since);
}
