// What a subscription sends of the entries it is given: those its sources and levels select, one
// `log` frame a line or one `logs` frame a batch, and for a live batch the bytes that every
// subscriber reading it the same way shares (built once by the feed) rather than its own.
import type { LogEntry, LogLevel, LogSource, SubscribeOptions } from '@keruta/protocol';
import type { EntryFilter } from '@keruta/storage';
import { logFrame, logsFrame } from './frames.js';
import type { Outbox } from './outbox.js';
import type { FeedBatch } from './feed-batch.js';

export interface EntrySender {
  /** The same selection, for reads from the store. */
  readonly storeFilter: EntryFilter;
  /** Whether the subscription reads lines from `source`. */
  wantsSource(source: LogSource): boolean;
  /** Sends entries read from the store with `storeFilter`. */
  sendEntries(entries: readonly LogEntry[]): void;
  /**
   * Sends the batch's entries after `cursor` that match, and returns the seq it got to: short of
   * the batch's end when the socket went over its high-water mark mid-batch (frames built for this
   * subscriber alone are checked one by one, so that a batch of ten thousand lines is not queued
   * whole behind a socket that stopped draining; shared bytes cost nothing more to queue whole).
   */
  sendLive(batch: FeedBatch, cursor: number): number;
}

export interface EntrySenderOptions {
  taskId: string;
  options: SubscribeOptions;
  outbox: Outbox;
  highWaterBytes: number;
}

export function createEntrySender({ taskId, options, outbox, highWaterBytes }: EntrySenderOptions): EntrySender {
  const batchFrames = options.batch ?? false;
  const sources = options.sources === undefined ? undefined : new Set<LogSource>(options.sources);
  const levels = options.levels === undefined ? undefined : new Set<LogLevel>(options.levels);
  const storeFilter: EntryFilter = {
    ...(options.sources === undefined ? {} : { sources: options.sources }),
    ...(options.levels === undefined ? {} : { levels: options.levels }),
  };
  const filtered = sources !== undefined || levels !== undefined;
  /** Subscribers with the same key share a batch's `logs` frame. */
  const filterKey = `${options.sources?.join(',') ?? '*'}|${options.levels?.join(',') ?? '*'}`;
  const matches = (e: LogEntry): boolean =>
    (sources === undefined || sources.has(e.source)) && (levels === undefined || levels.has(e.level));

  const sendEntries = (entries: readonly LogEntry[]): void => {
    if (entries.length === 0) return;
    if (batchFrames) outbox.send(logsFrame(taskId, entries));
    else for (const entry of entries) outbox.send(logFrame(entry));
  };

  return {
    storeFilter,
    wantsSource: (source) => sources === undefined || sources.has(source),
    sendEntries,
    sendLive(batch, cursor) {
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
        if (i < entries.length - 1 && outbox.buffered > highWaterBytes) return entry.seq;
      }
      return batch.lastSeq;
    },
  };
}
