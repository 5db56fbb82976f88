// The page's lines, held compactly so that two million of them fit in a tab: one typed array per
// number field and one array of message strings, in a double-ended buffer. Older history is added
// at the front, live lines at the back, and past the cap the oldest lines are dropped. A line is
// addressed by its absolute index, which never changes while lines come and go at either end.
import { LOG_LEVELS, LOG_SOURCES, type LogEntry, type LogLevel, type LogSource } from '@keruta/protocol';
import { hasAnsi, lineMarker } from './line-markers.js';

/** Flags kept per line, with the source (bits 0–1) and level (bits 2–3) in one byte. */
export const LINE_FLAGS = {
  ansi: 1 << 4,
  groupStart: 1 << 5,
  groupEnd: 1 << 6,
  truncated: 1 << 7,
} as const;

const SOURCE_INDEX: Record<LogSource, number> = { stdout: 0, stderr: 1, agent: 2 };
const LEVEL_INDEX: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 };

export interface LineStore {
  /** Lines held. */
  readonly length: number;
  /** Absolute index of the oldest line held; `endIndex` is one past the newest. */
  readonly firstIndex: number;
  readonly endIndex: number;
  /** Seq of the oldest and newest line held (0 when empty). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly cap: number;
  /** Lines up to this seq were cleared away and are not taken again (0: none). */
  readonly floorSeq: number;
  /**
   * Adds entries after the newest line, skipping any whose seq is not above `lastSeq` or
   * `floorSeq`. Returns how many old lines were dropped at the front to stay within the cap.
   */
  append(entries: readonly LogEntry[]): number;
  /**
   * Adds older entries before the oldest line (those with a seq below `firstSeq`, in seq order).
   * Returns the header seqs of the sections that these entries close (now known to be finished).
   */
  prepend(entries: readonly LogEntry[]): number[];
  /** Drops every line; the ones up to the newest are not taken again. */
  clear(): void;
  /** Drops every line and forgets the floor: the store starts again, e.g. somewhere else in the log. */
  reset(): void;
  seqAt(index: number): number;
  /** Epoch milliseconds, NaN when the timestamp could not be read. */
  timeAt(index: number): number;
  sourceAt(index: number): LogSource;
  levelAt(index: number): LogLevel;
  /** 0–3, the position of the level in DEBUG, INFO, WARN, ERROR. */
  levelIndexAt(index: number): number;
  /** 0–2, the position of the source in stdout, stderr, agent. */
  sourceIndexAt(index: number): number;
  flagsAt(index: number): number;
  messageAt(index: number): string;
  /** For a cut line, its length before the cut (`metadata.originalLength`), when the entry gave it. */
  originalLengthAt(index: number): number | undefined;
  /** Seq of the `::group::` line whose section holds this line (the header itself included); 0 outside sections. */
  groupAt(index: number): number;
  /** Absolute index of the line with this seq (indices go below 0 as older lines come), or undefined when it is not held. */
  indexOfSeq(seq: number): number | undefined;
}

export interface LineStoreOptions {
  /** Most lines held; beyond it the oldest are dropped. */
  cap: number;
}

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

export function createLineStore({ cap }: LineStoreOptions): LineStore {
  const chunks: Chunk[] = [];
  /** Position of the oldest line within chunks[0]. */
  let head = 0;
  let length = 0;
  /** Absolute index of the oldest line. */
  let base = 0;
  /** Header seq of the section still open at the newest line (0: none). */
  let openGroup = 0;
  let floor = 0;
  /** `metadata.originalLength` of the cut lines held, by seq: few lines have one. */
  const originalLengths = new Map<number, number>();

  const chunkOf = (position: number): Chunk => chunks[position >> CHUNK_BITS] as Chunk;
  const position = (index: number): number => head + (index - base);

  /** Makes room for `front` more lines before the oldest and `back` more after the newest. */
  const reserve = (front: number, back: number): void => {
    while (head < front) {
      chunks.unshift(createChunk());
      head += CHUNK;
    }
    while (chunks.length * CHUNK < head + length + back) chunks.push(createChunk());
  };

  const write = (at: number, entry: LogEntry, group: number): void => {
    const chunk = chunkOf(at);
    const i = at & CHUNK_MASK;
    const message = entry.message;
    let flags = SOURCE_INDEX[entry.source] | (LEVEL_INDEX[entry.level] << 2);
    if (hasAnsi(message)) flags |= LINE_FLAGS.ansi;
    const marker = lineMarker(message);
    if (marker === 'group-start') flags |= LINE_FLAGS.groupStart;
    else if (marker === 'group-end') flags |= LINE_FLAGS.groupEnd;
    if (entry.metadata['truncated'] === true) {
      flags |= LINE_FLAGS.truncated;
      const original = entry.metadata['originalLength'];
      if (typeof original === 'number' && Number.isFinite(original)) originalLengths.set(entry.seq, original);
    }
    chunk.seqs[i] = entry.seq;
    chunk.times[i] = Date.parse(entry.timestamp);
    chunk.groups[i] = marker === 'group-start' ? entry.seq : group;
    chunk.meta[i] = flags;
    chunk.messages[i] = message;
  };

  const dropFront = (count: number): void => {
    for (let p = head; p < head + count; p++) chunkOf(p).messages[p & CHUNK_MASK] = undefined;
    if (originalLengths.size > 0) for (let p = head; p < head + count; p++) originalLengths.delete(seqAtPosition(p));
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
  };

  const seqAtPosition = (p: number): number => chunkOf(p).seqs[p & CHUNK_MASK] as number;
  const metaAt = (index: number): number => {
    const p = position(index);
    return chunkOf(p).meta[p & CHUNK_MASK] as number;
  };

  const store: LineStore = {
    get length() {
      return length;
    },
    get firstIndex() {
      return base;
    },
    get endIndex() {
      return base + length;
    },
    get firstSeq() {
      return length === 0 ? 0 : seqAtPosition(head);
    },
    get lastSeq() {
      return length === 0 ? 0 : seqAtPosition(head + length - 1);
    },
    cap,
    get floorSeq() {
      return floor;
    },
    append(entries) {
      let last = Math.max(store.lastSeq, floor);
      let fresh = 0;
      for (const entry of entries) if (entry.seq > last) fresh += 1;
      if (fresh === 0) return 0;
      reserve(0, fresh);
      for (const entry of entries) {
        if (entry.seq <= last) continue;
        const marker = lineMarker(entry.message);
        // A new section closes the one before it: GitHub Actions does not nest them either.
        if (marker === 'group-start') openGroup = entry.seq;
        write(head + length, entry, openGroup);
        if (marker === 'group-end') openGroup = 0;
        length += 1;
        last = entry.seq;
      }
      const over = length - cap;
      if (over > 0) dropFront(over);
      return Math.max(0, over);
    },
    prepend(entries) {
      const first = length === 0 ? Infinity : store.firstSeq;
      const older = entries.filter((e) => e.seq < first && e.seq > floor);
      const room = Math.max(0, cap - length);
      const kept = older.length > room ? older.slice(older.length - room) : older;
      if (kept.length === 0) return [];
      reserve(kept.length, 0);
      const closed: number[] = [];
      let open = 0;
      const start = head - kept.length;
      kept.forEach((entry, i) => {
        const marker = lineMarker(entry.message);
        if (marker === 'group-start') open = entry.seq;
        write(start + i, entry, open);
        if (marker === 'group-end') {
          if (open !== 0) closed.push(open);
          open = 0;
        }
      });
      head = start;
      base -= kept.length;
      length += kept.length;
      if (open !== 0) {
        // The section the older lines leave open goes on into the lines already held.
        let p = head + kept.length;
        const end = head + length;
        for (; p < end; p++) {
          const chunk = chunkOf(p);
          const i = p & CHUNK_MASK;
          const flags = chunk.meta[i] as number;
          if (flags & LINE_FLAGS.groupStart) break;
          chunk.groups[i] = open;
          if (flags & LINE_FLAGS.groupEnd) {
            closed.push(open);
            break;
          }
        }
        if (p === end) openGroup = open;
      }
      return closed;
    },
    clear() {
      floor = Math.max(floor, store.lastSeq);
      dropFront(length);
      openGroup = 0;
    },
    reset() {
      dropFront(length);
      openGroup = 0;
      floor = 0;
    },
    seqAt(index) {
      const p = position(index);
      return chunkOf(p).seqs[p & CHUNK_MASK] as number;
    },
    timeAt(index) {
      const p = position(index);
      return chunkOf(p).times[p & CHUNK_MASK] as number;
    },
    sourceAt: (index) => LOG_SOURCES[metaAt(index) & 3] as LogSource,
    levelAt: (index) => LOG_LEVELS[(metaAt(index) >> 2) & 3] as LogLevel,
    levelIndexAt: (index) => (metaAt(index) >> 2) & 3,
    sourceIndexAt: (index) => metaAt(index) & 3,
    flagsAt: metaAt,
    messageAt(index) {
      const p = position(index);
      return chunkOf(p).messages[p & CHUNK_MASK] ?? '';
    },
    originalLengthAt(index) {
      return originalLengths.size === 0 ? undefined : originalLengths.get(store.seqAt(index));
    },
    groupAt(index) {
      const p = position(index);
      return chunkOf(p).groups[p & CHUNK_MASK] as number;
    },
    indexOfSeq(seq) {
      let lo = head;
      let hi = head + length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const value = seqAtPosition(mid);
        if (value === seq) return base + (mid - head);
        if (value < seq) lo = mid + 1;
        else hi = mid - 1;
      }
      return undefined;
    },
  };
  return store;
}
