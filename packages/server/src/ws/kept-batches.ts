// The latest batches the task feeds keep, within one memory budget for all of them, so that
// subscriptions a little behind catch up from frames already built instead of each reading the
// store. When the budget is exceeded the oldest batch of any feed goes first.
import type { FeedBatch } from './feed-batch.js';

export interface KeptBatches {
  /** Keeps `batch`, last in its feed's `recent` list (oldest first), dropping the oldest of all past the budget. */
  keep(batch: FeedBatch, recent: FeedBatch[]): void;
  /** Drops every batch of the feed whose list is `recent`: the feed has closed. */
  forget(recent: FeedBatch[]): void;
}

/** What an entry costs beyond its message, roughly, as an object and in its frames. */
const ENTRY_OVERHEAD_BYTES = 500;

export function createKeptBatches(limitBytes: number): KeptBatches {
  /** Every feed's kept batches, oldest first, each with its feed's own list (where it is first too). */
  let kept: { batch: FeedBatch; bytes: number; recent: FeedBatch[] }[] = [];
  let keptBytes = 0;
  return {
    keep(batch, recent) {
      let bytes = 0;
      for (const entry of batch.entries) bytes += entry.message.length + ENTRY_OVERHEAD_BYTES;
      recent.push(batch);
      kept.push({ batch, bytes, recent });
      keptBytes += bytes;
      while (keptBytes > limitBytes && kept.length > 1) {
        const oldest = kept.shift()!;
        keptBytes -= oldest.bytes;
        if (oldest.recent[0] === oldest.batch) oldest.recent.shift();
      }
    },
    forget(recent) {
      kept = kept.filter((k) => {
        if (k.recent !== recent) return true;
        keptBytes -= k.bytes;
        return false;
      });
      recent.length = 0;
    },
  };
}
