// What the follow's subscription delivers, to the printer: the stored entries from --since on,
// and on a terminal the line the script is still writing, on the last row until stored.
import type { LogEntry, PartialMessage } from '@keruta/protocol';
import type { EntryPrinter } from './entry-printer.js';
import { createPartialLines } from './partial-lines.js';

export interface StreamPrinter {
  /** Prints stored entries, and settles the line being written. */
  print(entries: readonly LogEntry[]): void;
  /** A `partial` arrived: shown when it is what the last row should show. */
  showPartial(partial: PartialMessage): void;
}

export function createStreamPrinter(options: {
  printer: EntryPrinter;
  /** --since: entries before this time (epoch ms) are not printed, as REST's `from` does for history. */
  sinceMs: number | undefined;
  /** The line being written as one terminal row; undefined: not shown. */
  partialRow: ((partial: PartialMessage) => string) | undefined;
}): StreamPrinter {
  const { printer, sinceMs } = options;
  const partials = createPartialLines();
  const rowOf = (partial: PartialMessage | undefined): string | undefined =>
    partial === undefined || options.partialRow === undefined ? undefined : options.partialRow(partial);

  return {
    print(entries) {
      for (const entry of entries) {
        if (sinceMs === undefined || Date.parse(entry.timestamp) >= sinceMs) printer.print(entry);
      }
      if (partials.settle(entries)) printer.showPartial(rowOf(partials.current));
      void printer.flush();
    },
    showPartial(partial) {
      if (partials.show(partial)) printer.showPartial(rowOf(partials.current));
    },
  };
}
