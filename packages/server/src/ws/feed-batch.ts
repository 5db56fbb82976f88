// A committed batch as a task feed hands it to its subscriptions: its entries, with the frames
// built from them serialised and encoded once, however many subscribers send them.
import type { LogEntry } from '@keruta/protocol';
import { logFrame, textBytes, wireFrames } from './frames.js';

export interface FeedBatch {
  entries: LogEntry[];
  firstSeq: number;
  lastSeq: number;
  /**
   * The frame for `key`, built by `build` the first time any subscriber asks and encoded once,
   * so that every subscriber's socket is handed the same bytes.
   */
  frameFor(key: string, build: () => string): Buffer;
  /** One `log` frame per entry, built and encoded once for all subscribers. */
  logFrames(): readonly Buffer[];
  /** Every entry's `log` frame with its WebSocket framing, in one buffer shared by all subscribers. */
  wireLogFrames(): Buffer;
}

/** The batch of `entries`, which are contiguous in seq from `first` to `last`. */
export function createFeedBatch(entries: LogEntry[], first: LogEntry, last: LogEntry): FeedBatch {
  const frames = new Map<string, Buffer>();
  let logFrames: Buffer[] | undefined;
  let wire: Buffer | undefined;
  const batch: FeedBatch = {
    entries,
    firstSeq: first.seq,
    lastSeq: last.seq,
    frameFor(key, build) {
      let built = frames.get(key);
      if (built === undefined) {
        built = textBytes(build());
        frames.set(key, built);
      }
      return built;
    },
    logFrames() {
      logFrames ??= entries.map((entry) => textBytes(logFrame(entry)));
      return logFrames;
    },
    wireLogFrames() {
      wire ??= wireFrames(batch.logFrames());
      return wire;
    },
  };
  return batch;
}
