// The columns the page's lines are held in, compactly enough for two million in a tab: one typed
// array per number field and one array of message strings, in chunks of a double-ended buffer
// that grows and shrinks at either end. A line is addressed by its absolute index, which never
// changes while lines come and go at either end.
import type { LogEntry } from '@keruta/protocol';

/** Lines per chunk: storage grows and shrinks a chunk at a time, never copying what it holds. */
const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

interface Chunk {
  seqs: Float64Array;
  times: Float64Array;
  groups: Float64Array;
  meta: Uint8Array;
  messages: (string | undefined)[];
}

function createChunk(): Chunk {
  return {
    seqs: new Float64Array(CHUNK),
    times: new Float64Array(CHUNK),
    groups: new Float64Array(CHUNK),
    meta: new Uint8Array(CHUNK),
    messages: new Array<string | undefined>(CHUNK).fill(undefined),
  };
}

export interface LineColumns {
  /** Lines held. */
  readonly length: number;
  /** Absolute index of the first line held; `endIndex` is one past the last. */
  readonly firstIndex: number;
  readonly endIndex: number;
  /** Adds a line after the last: its seq, time and message from the entry, and the given section and flags. */
  push(entry: LogEntry, group: number, meta: number): void;
  /** Holds `count` more lines before the first, to be written with `write` before anything reads them. */
  growFront(count: number): void;
  write(index: number, entry: LogEntry, group: number, meta: number): void;
  /** Drops the first `count` lines. */
  dropFront(count: number): void;
  seqAt(index: number): number;
  /** Epoch milliseconds, NaN when the timestamp could not be read. */
  timeAt(index: number): number;
  groupAt(index: number): number;
  setGroupAt(index: number, group: number): void;
  metaAt(index: number): number;
  messageAt(index: number): string;
}

export function createLineColumns(): LineColumns {
  const chunks: Chunk[] = [];
  /** Position of the first line within chunks[0]. */
  let head = 0;
  let length = 0;
  /** Absolute index of the first line. */
  let base = 0;

  const chunkOf = (position: number): Chunk => chunks[position >> CHUNK_BITS] as Chunk;
  const position = (index: number): number => head + (index - base);

  /** Makes room for `front` more lines before the first and `back` more after the last. */
  const reserve = (front: number, back: number): void => {
    while (head < front) {
      chunks.unshift(createChunk());
      head += CHUNK;
    }
    while (chunks.length * CHUNK < head + length + back) chunks.push(createChunk());
  };

  const writeAt = (p: number, entry: LogEntry, group: number, meta: number): void => {
    const chunk = chunkOf(p);
    const i = p & CHUNK_MASK;
    chunk.seqs[i] = entry.seq;
    chunk.times[i] = Date.parse(entry.timestamp);
    chunk.groups[i] = group;
    chunk.meta[i] = meta;
    chunk.messages[i] = entry.message;
  };

  return {
    get length() {
      return length;
    },
    get firstIndex() {
      return base;
    },
    get endIndex() {
      return base + length;
    },
    push(entry, group, meta) {
      reserve(0, 1);
      writeAt(head + length, entry, group, meta);
      length += 1;
    },
    growFront(count) {
      reserve(count, 0);
      head -= count;
      base -= count;
      length += count;
    },
    write: (index, entry, group, meta) => writeAt(position(index), entry, group, meta),
    dropFront(count) {
      for (let p = head; p < head + count; p++) chunkOf(p).messages[p & CHUNK_MASK] = undefined;
      head += count;
      base += count;
      length -= count;
      while (head >= CHUNK) {
        chunks.shift();
        head -= CHUNK;
      }
      if (length === 0) {
        chunks.length = 0;
        head = 0;
      }
    },
    seqAt(index) {
      const p = position(index);
      return chunkOf(p).seqs[p & CHUNK_MASK] as number;
    },
    timeAt(index) {
      const p = position(index);
      return chunkOf(p).times[p & CHUNK_MASK] as number;
    },
    groupAt(index) {
      const p = position(index);
      return chunkOf(p).groups[p & CHUNK_MASK] as number;
    },
    setGroupAt(index, group) {
      const p = position(index);
      chunkOf(p).groups[p & CHUNK_MASK] = group;
    },
    metaAt(index) {
      const p = position(index);
      return chunkOf(p).meta[p & CHUNK_MASK] as number;
    },
    messageAt(index) {
      const p = position(index);
      return chunkOf(p).messages[p & CHUNK_MASK] ?? '';
    },
  };
}
