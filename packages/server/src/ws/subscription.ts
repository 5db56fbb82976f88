// One subscriber's view of one task: history from the store, then live entries from the feed,
// with no gap and no duplicate at the seam. `cursor` is the highest seq already considered;
// a live batch that does not start right after it, or a socket that is not draining, sends the
// subscriber back to the store to catch up, so its memory stays bounded whatever the write rate.
import type { LogEntry, LogLevel, LogSource, SubscribeOptions } from '@keruta/protocol';
import type { EntryFilter, LogStore } from '@keruta/storage';
import { createTurnTaker } from '../event-loop.js';
import { frame, logFrame, logsFrame, taskFrame } from './frames.js';
import type { Outbox } from './outbox.js';
import { sendPartial } from './partial-relay.js';
import type { FeedBatch, FeedListener, TaskFeed, TaskFeeds } from './task-feed.js';

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
  const batchFrames = options.batch ?? false;
  const sources = options.sources === undefined ? undefined : new Set<LogSource>(options.sources);
  const levels = options.levels === undefined ? undefined : new Set<LogLevel>(options.levels);
  const filter: EntryFilter = {
    ...(options.sources === undefined ? {} : { sources: options.sources }),
    ...(options.levels === undefined ? {} : { levels: options.levels }),
  };
  const filtered = sources !== undefined || levels !== undefined;
  const filterKey = `${options.sources?.join(',') ?? '*'}|${options.levels?.join(',') ?? '*'}`;
  const matches = (e: LogEntry): boolean =>
    (sources === undefined || sources.has(e.source)) && (levels === undefined || levels.has(e.level));

  let state: State = 'starting';
  let cursor = 0;
  /** Where history ends for a subscription without realtime; live ones follow the feed. */
  let historyEnd = 0;
  let feed: TaskFeed | undefined;
  let catchingUp = false;

  const sendEntries = (entries: readonly LogEntry[]): void => {
    if (entries.length === 0) return;
    if (batchFrames) outbox.send(logsFrame(taskId, entries));
    else for (const entry of entries) outbox.send(logFrame(entry));
  };

  /**
   * Sends the batch's entries after `cursor` that match, and returns the seq it got to: short of
   * the batch's end when the socket went over its high-water mark mid-batch (frames built for this
   * subscriber alone are checked one by one, so that a batch of ten thousand lines is not queued
   * whole behind a socket that stopped draining; shared bytes cost nothing more to queue whole).
   */
  const sendLive = (batch: FeedBatch): number => {
    if (batchFrames) {
      if (batch.firstSeq <= cursor) {
        // Part of this batch was already read from the store: send only the rest.
        sendEntries(batch.entries.filter((e) => e.seq > cursor && matches(e)));
        return batch.lastSeq;
      }
      const built = batch.frameFor(`logs|${filterKey}`, () => logsFrame(taskId, batch.entries.filter(matches)));
      if (!filtered || batch.entries.some(matches)) outbox.send(built);
      return batch.lastSeq;
    }
    if (!filtered && batch.firstSeq > cursor) {
      // The whole batch, one line a frame, in one write of bytes every such subscriber shares.
      outbox.sendWire(batch.wireLogFrames());
      return batch.lastSeq;
    }
    const frames = batch.logFrames();
    const { entries } = batch;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.seq <= cursor || !matches(entry)) continue;
      outbox.send(frames[i] as Buffer);
      if (i < entries.length - 1 && outbox.buffered > deps.highWaterBytes) return entry.seq;
    }
    return batch.lastSeq;
  };

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
          cursor = sendLive(kept);
          continue;
        }
        const range = await store.readRange({ taskId, afterSeq: cursor, upToSeq: target, limit: CATCH_UP_CHUNK, filter });
        if (state !== 'catching-up') return;
        sendEntries(range.entries);
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
      cursor = sendLive(batch);
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
      if (sources === undefined || sources.has(partial.message.source)) sendPartial(outbox, partial);
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
        if (options.tail !== undefined && options.tail > 0) {
          cursor = await store.tailStart(taskId, options.tail, lastSeq, filter);
        } else {
          cursor = lastSeq;
        }
        if (options.since !== undefined) cursor = options.tail === undefined ? options.since : Math.max(cursor, options.since);
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
