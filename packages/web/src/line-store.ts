// The page's lines (held in line-columns.ts): older history is added at the front, live lines at
// the back, past the cap the oldest lines are dropped, and lines cleared away are not taken again.
// Each line gets its flags and the section it is in as it comes. A line is addressed by its
// absolute index, which never changes while lines come and go at either end.
import { LOG_LEVELS, LOG_SOURCES, type LogEntry, type LogLevel, type LogSource } from '@keruta/protocol';
import { createLineColumns, type LineColumns } from './line-columns.js';
import { hasAnsi, lineMarker, type LineMarker } from './line-markers.js';

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

/** The flags of a line: its source and level, and what its message holds. */
function lineFlags(entry: LogEntry, marker: LineMarker): number {
  let flags = SOURCE_INDEX[entry.source] | (LEVEL_INDEX[entry.level] << 2);
  if (hasAnsi(entry.message)) flags |= LINE_FLAGS.ansi;
  if (marker === 'group-start') flags |= LINE_FLAGS.groupStart;
  else if (marker === 'group-end') flags |= LINE_FLAGS.groupEnd;
  if (entry.metadata['truncated'] === true) flags |= LINE_FLAGS.truncated;
  return flags;
}

/**
 * Older lines put in front left the section `open` open: it goes on into the lines held from
 * `from`, up to its end or the next header. Adds it to `closed` when it ends there; returns
 * whether it is still open at the last line.
 */
function continueSection(columns: LineColumns, from: number, open: number, closed: number[]): boolean {
  for (let i = from; i < columns.endIndex; i++) {
    const flags = columns.metaAt(i);
    if (flags & LINE_FLAGS.groupStart) return false;
    columns.setGroupAt(i, open);
    if (flags & LINE_FLAGS.groupEnd) {
      closed.push(open);
      return false;
    }
  }
  return true;
}

/**
 * Writes older entries in front of the lines held, each in its section, and carries the section
 * they leave open into the lines held. Returns the header seqs of the sections they close, and
 * the section that is still open at the newest line because of them (0: none).
 */
function putInFront(columns: LineColumns, kept: readonly LogEntry[]): { closed: number[]; openAtEnd: number } {
  columns.growFront(kept.length);
  const start = columns.firstIndex;
  const closed: number[] = [];
  let open = 0;
  kept.forEach((entry, i) => {
    const marker = lineMarker(entry.message);
    if (marker === 'group-start') open = entry.seq;
    columns.write(start + i, entry, open, lineFlags(entry, marker));
    if (marker === 'group-end') {
      if (open !== 0) closed.push(open);
      open = 0;
    }
  });
  const openAtEnd = open !== 0 && continueSection(columns, start + kept.length, open, closed) ? open : 0;
  return { closed, openAtEnd };
}

/** Absolute index of the line with this seq, found by halves (the store keeps seqs ascending); undefined when not held. */
function findSeq(columns: LineColumns, seq: number): number | undefined {
  let lo = columns.firstIndex;
  let hi = columns.endIndex - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const value = columns.seqAt(mid);
    if (value === seq) return mid;
    if (value < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

export function createLineStore({ cap }: LineStoreOptions): LineStore {
  const columns = createLineColumns();
  /** Header seq of the section still open at the newest line (0: none). */
  let openGroup = 0;
  let floor = 0;
  /** `metadata.originalLength` of the cut lines held, by seq: few lines have one. */
  const originalLengths = new Map<number, number>();

  /** Keeps a cut line's length before the cut, when the entry gives it. */
  const noteCut = (entry: LogEntry): void => {
    if (entry.metadata['truncated'] !== true) return;
    const original = entry.metadata['originalLength'];
    if (typeof original === 'number' && Number.isFinite(original)) originalLengths.set(entry.seq, original);
  };

  const dropFront = (count: number): void => {
    if (originalLengths.size > 0) for (let i = columns.firstIndex; i < columns.firstIndex + count; i++) originalLengths.delete(columns.seqAt(i));
    columns.dropFront(count);
  };

  const store: LineStore = {
    get length() {
      return columns.length;
    },
    get firstIndex() {
      return columns.firstIndex;
    },
    get endIndex() {
      return columns.endIndex;
    },
    get firstSeq() {
      return columns.length === 0 ? 0 : columns.seqAt(columns.firstIndex);
    },
    get lastSeq() {
      return columns.length === 0 ? 0 : columns.seqAt(columns.endIndex - 1);
    },
    cap,
    get floorSeq() {
      return floor;
    },
    append(entries) {
      let last = Math.max(store.lastSeq, floor);
      for (const entry of entries) {
        if (entry.seq <= last) continue;
        const marker = lineMarker(entry.message);
        // A new section closes the one before it: GitHub Actions does not nest them either.
        if (marker === 'group-start') openGroup = entry.seq;
        noteCut(entry);
        columns.push(entry, openGroup, lineFlags(entry, marker));
        if (marker === 'group-end') openGroup = 0;
        last = entry.seq;
      }
      const over = columns.length - cap;
      if (over > 0) dropFront(over);
      return Math.max(0, over);
    },
    prepend(entries) {
      const first = columns.length === 0 ? Infinity : store.firstSeq;
      const older = entries.filter((e) => e.seq < first && e.seq > floor);
      const room = Math.max(0, cap - columns.length);
      const kept = older.length > room ? older.slice(older.length - room) : older;
      if (kept.length === 0) return [];
      for (const entry of kept) noteCut(entry);
      const { closed, openAtEnd } = putInFront(columns, kept);
      if (openAtEnd !== 0) openGroup = openAtEnd;
      return closed;
    },
    clear() {
      floor = Math.max(floor, store.lastSeq);
      dropFront(columns.length);
      openGroup = 0;
    },
    reset() {
      dropFront(columns.length);
      openGroup = 0;
      floor = 0;
    },
    seqAt: columns.seqAt,
    timeAt: columns.timeAt,
    sourceAt: (index) => LOG_SOURCES[columns.metaAt(index) & 3] as LogSource,
    levelAt: (index) => LOG_LEVELS[(columns.metaAt(index) >> 2) & 3] as LogLevel,
    levelIndexAt: (index) => (columns.metaAt(index) >> 2) & 3,
    sourceIndexAt: (index) => columns.metaAt(index) & 3,
    flagsAt: columns.metaAt,
    messageAt: columns.messageAt,
    originalLengthAt(index) {
      return originalLengths.size === 0 ? undefined : originalLengths.get(columns.seqAt(index));
    },
    groupAt: columns.groupAt,
    indexOfSeq: (seq) => findSeq(columns, seq),
  };
  return store;
}
