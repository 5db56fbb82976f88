// The runs one delivery sends, one after another in the order they were added, each with a cursor:
// the next runSeq to send. A run is closed once all of it is acknowledged, except the last, which
// stays open until the delivery finishes (the live run of a script that is still printing).
import { MAX_BATCH_ENTRIES } from '@keruta/protocol';
import type { RunSpool } from './spool.js';

export interface Cursor {
  readonly run: RunSpool;
  /** Next runSeq to send. */
  nextSeq: number;
}

export interface DeliveryQueue {
  add(run: RunSpool): void;
  /** The run added last: the one a running script appends to. */
  readonly live: RunSpool | undefined;
  /** Entries appended to the runs and not sent yet. */
  readonly unsent: number;
  readonly hasUnsent: boolean;
  /** Every run is sealed and acknowledged (or there is none). */
  readonly isDone: boolean;
  /**
   * Where the next batch comes from and how many entries it takes, with `room` entries left in the
   * buffer; undefined when nothing can be sent now (runs are sent in order: an unsealed run with
   * nothing new holds back the ones after it).
   */
  nextBatch(room: number): { cursor: Cursor; entries: number } | undefined;
  /** The connection was dropped: everything after the last acknowledgement is sent again. */
  rewind(): void;
  /** Closes the runs at the head that are sealed and acknowledged, never the last; `delivered` hears of each. */
  closeDelivered(delivered: (run: RunSpool) => void): void;
  /** Closes every run: the entries still kept, and the directories that keep them. */
  closeAll(delivered: (run: RunSpool) => void): { kept: number; dirs: string[] };
}

const pendingOf = (cursor: Cursor): number => cursor.run.lastSeq - cursor.nextSeq + 1;
const isComplete = (run: RunSpool): boolean => run.sealed && run.ackedSeq >= run.lastSeq;

/** `batchSize`: entries per batch while the agent keeps up; a backlog goes in batches as big as the buffer allows. */
export function createDeliveryQueue(batchSize: number): DeliveryQueue {
  const cursors: Cursor[] = [];
  return {
    add(run) {
      cursors.push({ run, nextSeq: run.ackedSeq + 1 });
    },
    get live() {
      return cursors.at(-1)?.run;
    },
    get unsent() {
      return cursors.reduce((n, c) => n + Math.max(0, pendingOf(c)), 0);
    },
    get hasUnsent() {
      return cursors.some((c) => pendingOf(c) > 0);
    },
    get isDone() {
      return cursors.length === 0 || cursors.every((c) => isComplete(c.run));
    },
    nextBatch(room) {
      for (const cursor of cursors) {
        const pending = pendingOf(cursor);
        if (pending <= 0) {
          if (cursor.run.sealed) continue;
          return undefined;
        }
        if (room <= 0) return undefined;
        // Live lines go in batches of batchSize; a backlog in batches as big as the buffer allows.
        const limit = pending <= batchSize ? batchSize : Math.min(MAX_BATCH_ENTRIES, Math.max(batchSize, room));
        return { cursor, entries: Math.min(pending, limit, room) };
      }
      return undefined;
    },
    rewind() {
      for (const cursor of cursors) cursor.nextSeq = cursor.run.ackedSeq + 1;
    },
    closeDelivered(delivered) {
      while (cursors.length > 1) {
        const head = cursors[0] as Cursor;
        if (!isComplete(head.run)) break;
        cursors.shift();
        head.run.close();
        delivered(head.run);
      }
    },
    closeAll(delivered) {
      let kept = 0;
      const dirs: string[] = [];
      for (const { run } of cursors) {
        const left = run.close();
        if (left > 0) {
          kept += left;
          dirs.push(run.dir);
        } else {
          delivered(run);
        }
      }
      cursors.length = 0;
      return { kept, dirs };
    },
  };
}
