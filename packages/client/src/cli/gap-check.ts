// After a reconnect of a filtered follow, whose seqs do not tell a gap: the first seq stored
// after the last one delivered says whether seqs were deleted meanwhile (retention). Entries
// that come in the meantime wait, so that the gap marker is printed where the gap is.
import type { LogEntry } from '@keruta/protocol';
import type { RestClient } from '../rest-client.js';
import type { EntryPrinter } from './entry-printer.js';

export interface GapCheck {
  /** Entries the stream delivered: printed, or held while a check is under way. */
  deliver(entries: readonly LogEntry[]): void;
  /** Asks the server what follows `resumedAfter`, holding new entries until it answers. */
  start(resumedAfter: number, serverLastSeq: number): void;
  /** A check is under way. */
  readonly checking: boolean;
  /** Settles when the last check has, and the entries it held are printed. */
  readonly done: Promise<void>;
}

export function createGapCheck(options: { rest: RestClient; taskId: string; printer: EntryPrinter; print(entries: readonly LogEntry[]): void }): GapCheck {
  const { rest, printer } = options;
  /** Entries that came while the server is asked whether seqs were deleted during a reconnect. */
  let held: LogEntry[] | undefined;
  let done = Promise.resolve();

  return {
    deliver(entries) {
      if (held !== undefined) held.push(...entries);
      else options.print(entries);
    },
    start(resumedAfter, serverLastSeq) {
      held = [];
      done = (async () => {
        try {
          const first = (await rest.getLogs(options.taskId, { afterSeq: resumedAfter, size: 1 })).content[0]?.seq ?? serverLastSeq + 1;
          if (first > resumedAfter + 1) printer.markGap(resumedAfter + 1, first - 1);
        } catch {
          // The server went away again between the subscription and this read: the held lines
          // are printed without a marker rather than held back; a gap is then not said.
        }
        const waiting = held ?? [];
        held = undefined;
        options.print(waiting);
      })();
    },
    get checking() {
      return held !== undefined;
    },
    get done() {
      return done;
    },
  };
}
