// One live feed per watched task: listens to the bus once, knows the highest committed seq,
// and hands each batch to the task's subscriptions with its frames serialised at most once.
// On a bus that may lose messages (Redis), the feed also asks the store for the task's last seq
// whenever the bus says it may have missed something, and every second, and sends its
// subscriptions to the store when the store is ahead: a lost last batch is never lost for good.
import type { TaskSummary } from '@keruta/protocol';
import type { LogStore } from '@keruta/storage';
import type { LogBus } from '../bus/log-bus.js';
import { createFeedBatch, type FeedBatch } from './feed-batch.js';
import { frame, textBytes } from './frames.js';
import { createKeptBatches, type KeptBatches } from './kept-batches.js';
import type { PartialFrame } from './partial-relay.js';

export interface FeedListener {
  onBatch(batch: FeedBatch): void;
  onTask(task: TaskSummary): void;
  /** The store holds entries up to the feed's `lastSeq` that the bus has not delivered. */
  onAdvance(): void;
  /** The line the task's script is still writing; ephemeral. */
  onPartial?(partial: PartialFrame): void;
}

export interface TaskFeed {
  readonly taskId: string;
  /** The highest seq published for the task since the feed opened (0 before any). */
  readonly lastSeq: number;
  add(listener: FeedListener): void;
  remove(listener: FeedListener): void;
  /**
   * The kept batch that holds `seq`, if any. The feeds keep their latest batches (within one
   * memory budget for all of them, shared by each task's subscriptions) so that subscriptions
   * a little behind catch up from frames already built instead of each reading the store.
   */
  recentBatchWith(seq: number): FeedBatch | undefined;
}

export interface TaskFeeds {
  acquire(taskId: string): TaskFeed;
  release(feed: TaskFeed): void;
  readonly size: number;
  /** Stops looking at the store; the server is closing. */
  close(): void;
}

export interface TaskFeedsOptions {
  bus: LogBus;
  store: LogStore;
  /** How often a feed on a lossy bus asks the store for its task's last seq. */
  storeCheckIntervalMs?: number;
  /** Called each time the store was found ahead of the bus (a lost or late message). */
  onStoreAhead?: () => void;
}

const STORE_CHECK_INTERVAL_MS = 1000;
/**
 * About how many bytes of their latest batches all feeds keep together; the oldest go first.
 * Kept batches outlive the young generation, so the process grows by a few times this.
 */
const KEPT_BYTES = 8 * 1024 * 1024;
/**
 * A feed keeps batches only while this many subscriptions share it: one subscriber behind reads
 * the store as cheaply as it would read kept batches, many would each read the same entries.
 */
const KEEP_FOR_LISTENERS = 2;

interface FeedSlot {
  feed: TaskFeed;
  refs: number;
  unsubscribe: () => void;
  /** Asks the store for the task's last seq (one question at a time) and advances the feed to it. */
  checkStore: () => void;
}

/** What every feed shares. */
interface FeedContext {
  bus: LogBus;
  store: LogStore;
  kept: KeptBatches;
  onStoreAhead: (() => void) | undefined;
}

export function createTaskFeeds({ bus, store, storeCheckIntervalMs = STORE_CHECK_INTERVAL_MS, onStoreAhead }: TaskFeedsOptions): TaskFeeds {
  const feeds = new Map<string, FeedSlot>();
  const kept = createKeptBatches(KEPT_BYTES);

  // A bus inside one process delivers everything; only a lossy one needs the store's word.
  const timer = bus.lossless
    ? undefined
    : setInterval(() => {
        for (const slot of feeds.values()) slot.checkStore();
      }, storeCheckIntervalMs);
  timer?.unref();

  return {
    acquire(taskId) {
      let slot = feeds.get(taskId);
      if (slot === undefined) {
        slot = openFeed(taskId, { bus, store, kept, onStoreAhead });
        feeds.set(taskId, slot);
      }
      slot.refs += 1;
      return slot.feed;
    },
    release(feed) {
      const slot = feeds.get(feed.taskId);
      if (slot === undefined || slot.feed !== feed) return;
      slot.refs -= 1;
      if (slot.refs <= 0) {
        slot.unsubscribe();
        feeds.delete(feed.taskId);
      }
    },
    get size() {
      return feeds.size;
    },
    close() {
      clearInterval(timer);
    },
  };
}

/** One task's feed, listening to the bus until its slot's `unsubscribe`. */
function openFeed(taskId: string, { bus, store, kept, onStoreAhead }: FeedContext): FeedSlot {
  const listeners = new Set<FeedListener>();
  let lastSeq = 0;
  /** This feed's kept batches, oldest first. */
  const recent: FeedBatch[] = [];
  let checking = false;
  let closed = false;
  /** The first check only learns where the task stands; later ones that find more count as lost hints. */
  let checkedBefore = false;
  const checkStore = (): void => {
    if (checking || closed) return;
    checking = true;
    store.lastSeq(taskId).then(
      (stored) => {
        checking = false;
        const first = !checkedBefore;
        checkedBefore = true;
        if (closed || stored <= lastSeq) return;
        lastSeq = stored;
        if (!first) onStoreAhead?.();
        for (const listener of listeners) listener.onAdvance();
      },
      () => {
        // The store is failing: /health says so, and the next check tries again.
        checking = false;
      },
    );
  };
  const feed: TaskFeed = {
    taskId,
    get lastSeq() {
      return lastSeq;
    },
    add: (listener) => listeners.add(listener),
    remove: (listener) => listeners.delete(listener),
    recentBatchWith(seq) {
      for (let i = recent.length - 1; i >= 0; i--) {
        const batch = recent[i]!;
        if (batch.firstSeq <= seq && seq <= batch.lastSeq) return batch;
        if (batch.lastSeq < seq) return undefined;
      }
      return undefined;
    },
  };
  const unsubscribe = bus.subscribe(taskId, (event) => {
    if (event.kind === 'resync') {
      checkStore();
      return;
    }
    if (event.kind === 'task') {
      for (const listener of listeners) listener.onTask(event.task);
      return;
    }
    if (event.kind === 'partial') {
      let bytes: Buffer | undefined;
      const partial: PartialFrame = { message: event.partial, bytes: () => (bytes ??= textBytes(frame(event.partial))) };
      for (const listener of listeners) listener.onPartial?.(partial);
      return;
    }
    const first = event.entries[0];
    const last = event.entries[event.entries.length - 1];
    if (first === undefined || last === undefined) return;
    lastSeq = Math.max(lastSeq, last.seq);
    const batch = createFeedBatch(event.entries, first, last);
    if (listeners.size >= KEEP_FOR_LISTENERS) kept.keep(batch, recent);
    for (const listener of listeners) listener.onBatch(batch);
  });
  return {
    feed,
    refs: 0,
    unsubscribe: () => {
      closed = true;
      kept.forget(recent);
      unsubscribe();
    },
    checkStore,
  };
}
