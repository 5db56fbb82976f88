// Writes entries to stdout as they come, a buffer at a time, and remembers the last seq written
// so that whatever reads next can continue right after it.
import type { Writable } from 'node:stream';
import type { LogEntry } from '@keruta/protocol';
import { formatEntry, formatEntryJson, type EntryFormat } from './format.js';

export interface EntryPrinter {
  print(entry: LogEntry): void;
  /** Writes what is buffered; resolves once the stream can take more. */
  flush(): Promise<void>;
  /** The seq of the last entry printed, or undefined before any. */
  readonly lastSeq: number | undefined;
  readonly count: number;
}

const FLUSH_BYTES = 64 * 1024;

export function createEntryPrinter(stream: Writable, options: { json: boolean } & EntryFormat): EntryPrinter {
  let buffer = '';
  let lastSeq: number | undefined;
  let count = 0;
  const format = options.json ? formatEntryJson : (entry: LogEntry) => formatEntry(entry, options);
  const write = (): boolean => {
    if (buffer === '') return true;
    const chunk = buffer;
    buffer = '';
    return stream.write(chunk);
  };
  return {
    print(entry) {
      buffer += `${format(entry)}\n`;
      lastSeq = entry.seq;
      count += 1;
      if (buffer.length >= FLUSH_BYTES) write();
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
