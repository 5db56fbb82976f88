// One live feed per watched task: listens to the bus once, knows the highest committed seq,
// and hands each batch to the task's subscriptions with its frames serialised at most once.
import type { LogEntry, TaskSummary } from '@keruta/protocol';
import type { LogBus } from '../bus/log-bus.js';
import { logFrame } from './frames.js';

/** A committed batch as the feed hands it on, with a cache of its serialised frames. */
export interface FeedBatch {
  entries: LogEntry[];
  firstSeq: number;
  lastSeq: number;
  /** The frame for `key`, built by `build` the first time any subscriber asks. */
  frameFor(key: string, build: () => string): string;
  /** One `log` frame per entry, built once for all subscribers. */
  logFrames(): readonly string[];
}

export interface FeedListener {
  onBatch(batch: FeedBatch): void;
  onTask(task: TaskSummary): void;
}

export interface TaskFeed {
  readonly taskId: string;
  /** The highest seq published for the task since the feed opened (0 before any). */
  readonly lastSeq: number;
  add(listener: FeedListener): void;
  remove(listener: FeedListener): void;
}

export interface TaskFeeds {
  acquire(taskId: string): TaskFeed;
  release(feed: TaskFeed): void;
  readonly size: number;
}

export function createTaskFeeds({ bus }: { bus: LogBus }): TaskFeeds {
  const feeds = new Map<string, { feed: TaskFeed; refs: number; unsubscribe: () => void }>();

  const open = (taskId: string) => {
    const listeners = new Set<FeedListener>();
    let lastSeq = 0;
    const feed: TaskFeed = {
      taskId,
      get lastSeq() {
        return lastSeq;
      },
      add: (listener) => listeners.add(listener),
      remove: (listener) => listeners.delete(listener),
    };
    const unsubscribe = bus.subscribe(taskId, (event) => {
      if (event.kind === 'task') {
        for (const listener of listeners) listener.onTask(event.task);
        return;
      }
      const first = event.entries[0];
      const last = event.entries[event.entries.length - 1];
      if (first === undefined || last === undefined) return;
      lastSeq = Math.max(lastSeq, last.seq);
      const frames = new Map<string, string>();
      let logFrames: string[] | undefined;
      const batch: FeedBatch = {
        entries: event.entries,
        firstSeq: first.seq,
        lastSeq: last.seq,
        frameFor(key, build) {
          let built = frames.get(key);
          if (built === undefined) {
            built = build();
            frames.set(key, built);
          }
          return built;
        },
        logFrames() {
          logFrames ??= event.entries.map(logFrame);
          return logFrames;
        },
      };
      for (const listener of listeners) listener.onBatch(batch);
    });
    return { feed, refs: 0, unsubscribe };
  };

  return {
    acquire(taskId) {
      let slot = feeds.get(taskId);
      if (slot === undefined) {
        slot = open(taskId);
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
  };
}
