// Writes entries to stdout as they come, a buffer at a time, and remembers the last seq written
// so that whatever reads next can continue right after it. It also marks the seqs that were
// never there to print (a gap), and keeps the line a script is still writing on the terminal's
// last row, rewritten in place, until a stored line takes its place.
import type { Writable } from 'node:stream';
import type { LogEntry } from '@keruta/protocol';
import { formatEntry, formatGap, type EntryFormat } from './format.js';

export interface EntryPrinter {
  print(entry: LogEntry): void;
  /**
   * The next entry printed should have seq `after + 1`; a larger one means the seqs between were
   * deleted before they could be read, and a gap marker is printed. Only for unfiltered reads,
   * where every stored seq is printed; `undefined` stops checking until the next entry.
   */
  expectAfter(after: number | undefined): void;
  /** Seq `first` to `last` cannot be read any more: says so where they would have been. */
  markGap(first: number, last: number): void;
  /** Shows (a formatted row) or removes (undefined) the line being written, below the printed ones. */
  showPartial(row: string | undefined): void;
  /** Erases the line being written from the screen now, so that a notice on stderr gets a row of its own; the next flush shows it again. */
  clearRow(): void;
  /** Writes what is buffered; resolves once the stream can take more. */
  flush(): Promise<void>;
  /** The seq of the last entry printed, or undefined before any. */
  readonly lastSeq: number | undefined;
  readonly count: number;
}

export interface EntryPrinterOptions extends EntryFormat {
  /** Compare each seq with the one before and mark the gaps (see `expectAfter`). */
  checkGaps: boolean;
  /** Where a gap is said when stdout is for a program (-o json/raw): a notice on stderr. */
  notice(text: string): void;
}

const FLUSH_BYTES = 64 * 1024;
/** Back to column 0 and erase the row: the line being written goes, whatever was there. */
const ERASE_ROW = '\r\u001b[2K';

export function createEntryPrinter(stream: Writable, options: EntryPrinterOptions): EntryPrinter {
  let buffer = '';
  let lastSeq: number | undefined;
  let expected: number | undefined;
  let count = 0;
  let partialRow: string | undefined;
  let partialShown = false;

  const hidePartial = (): void => {
    if (!partialShown) return;
    buffer += ERASE_ROW;
    partialShown = false;
  };
  const write = (redraw = true): boolean => {
    // The line being written goes back under the lines just printed.
    if (redraw && partialRow !== undefined && !partialShown) {
      buffer += partialRow;
      partialShown = true;
    }
    if (buffer === '') return true;
    const chunk = buffer;
    buffer = '';
    return stream.write(chunk);
  };
  const markGap = (first: number, last: number): void => {
    if (options.output === 'text') {
      hidePartial();
      buffer += `${formatGap(first, last, options.color)}\n`;
    } else {
      // stdout stays one entry per line for the program reading it.
      options.notice(formatGap(first, last, false));
    }
  };

  return {
    print(entry) {
      if (options.checkGaps && expected !== undefined && entry.seq > expected) markGap(expected, entry.seq - 1);
      hidePartial();
      buffer += `${formatEntry(entry, options)}\n`;
      lastSeq = entry.seq;
      expected = entry.seq + 1;
      count += 1;
      if (buffer.length >= FLUSH_BYTES) write();
    },
    expectAfter(after) {
      expected = after === undefined ? undefined : after + 1;
    },
    markGap(first, last) {
      markGap(first, last);
      expected = last + 1;
    },
    showPartial(row) {
      if (row === partialRow) return;
      hidePartial();
      partialRow = row;
      write();
    },
    clearRow() {
      hidePartial();
      write(false);
    },
    async flush() {
      if (write() || stream.destroyed) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        stream.once('drain', done);
        stream.once('close', done);
      });
    },
    get lastSeq() {
      return lastSeq;
    },
    get count() {
      return count;
    },
  };
}
