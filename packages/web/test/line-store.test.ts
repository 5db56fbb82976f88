// The page's compact line buffer: appends and prepends across chunk boundaries, the cap, clear's
// floor, section bookkeeping, and lookups by seq with absolute indices that go below zero.
import { describe, expect, it } from 'vitest';
import type { LogEntry, LogLevel, LogSource } from '@keruta/protocol';
import { LINE_FLAGS, createLineStore, type LineStore } from '../src/line-store.js';

function entry(seq: number, message = `line ${seq}`, level: LogLevel = 'INFO', source: LogSource = 'stdout'): LogEntry {
  return { id: `t-${seq}`, seq, taskId: 't', timestamp: new Date(1_700_000_000_000 + seq).toISOString(), source, level, message, lineNumber: seq, metadata: {} };
}

function entries(from: number, to: number): LogEntry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => entry(from + i));
}

function seqs(store: LineStore): number[] {
  const out: number[] = [];
  for (let i = store.firstIndex; i < store.endIndex; i++) out.push(store.seqAt(i));
  return out;
}

describe('line store', () => {
  it('keeps each field of every line, in seq order, and skips seqs it already holds', () => {
    const store = createLineStore({ cap: 100 });
    store.append([entry(1, 'one', 'DEBUG', 'stdout'), entry(2, 'two', 'ERROR', 'stderr'), entry(3, 'three', 'WARN', 'agent')]);
    store.append([entry(2), entry(3), entry(4)]);
    expect(seqs(store)).toEqual([1, 2, 3, 4]);
    const i = store.firstIndex + 1;
    expect([store.messageAt(i), store.levelAt(i), store.sourceAt(i), store.levelIndexAt(i), store.sourceIndexAt(i)]).toEqual(['two', 'ERROR', 'stderr', 3, 1]);
    expect(store.timeAt(i)).toBe(1_700_000_000_002);
    expect(store.sourceAt(store.firstIndex + 2)).toBe('agent');
    expect([store.firstSeq, store.lastSeq, store.length]).toEqual([1, 4, 4]);
  });

  it('grows across many chunks at the back and at the front, and finds every seq', () => {
    const store = createLineStore({ cap: 1_000_000 });
    store.append(entries(50_001, 90_000));
    store.prepend(entries(30_001, 50_000));
    store.prepend(entries(1, 30_000));
    store.append(entries(90_001, 100_000));
    expect(store.length).toBe(100_000);
    expect([store.firstSeq, store.lastSeq]).toEqual([1, 100_000]);
    expect(store.endIndex - store.firstIndex).toBe(100_000);
    expect(store.firstIndex).toBeLessThan(0);
    const all = seqs(store);
    expect(all.every((seq, i) => seq === i + 1)).toBe(true);
    for (const seq of [1, 2, 16_384, 16_385, 30_000, 30_001, 50_000, 50_001, 99_999, 100_000]) {
      const index = store.indexOfSeq(seq);
      expect(index).toBeDefined();
      expect(store.seqAt(index as number)).toBe(seq);
      expect(store.messageAt(index as number)).toBe(`line ${seq}`);
    }
    expect(store.indexOfSeq(0)).toBeUndefined();
    expect(store.indexOfSeq(100_001)).toBeUndefined();
  });

  it('prepends only lines older than the oldest it holds', () => {
    const store = createLineStore({ cap: 100 });
    store.append(entries(11, 20));
    store.prepend(entries(5, 15));
    expect(seqs(store)).toEqual(entries(5, 20).map((e) => e.seq));
  });

  it('drops the oldest lines past the cap and says how many', () => {
    const store = createLineStore({ cap: 40_000 });
    expect(store.append(entries(1, 30_000))).toBe(0);
    expect(store.append(entries(30_001, 50_000))).toBe(10_000);
    expect([store.length, store.firstSeq, store.lastSeq]).toEqual([40_000, 10_001, 50_000]);
    expect(store.messageAt(store.firstIndex)).toBe('line 10001');
    // Older lines fill the room that is left, no more.
    const full = createLineStore({ cap: 10 });
    full.append(entries(11, 18));
    full.prepend(entries(1, 10));
    expect(seqs(full)).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
  });

  it('after clear takes no line at or below the last one held, until reset', () => {
    const store = createLineStore({ cap: 100 });
    store.append(entries(1, 10));
    store.clear();
    expect([store.length, store.floorSeq, store.firstSeq, store.lastSeq]).toEqual([0, 10, 0, 0]);
    store.append(entries(5, 12));
    expect(seqs(store)).toEqual([11, 12]);
    store.prepend(entries(1, 10));
    expect(seqs(store)).toEqual([11, 12]);
    store.reset();
    store.append(entries(1, 3));
    expect(seqs(store)).toEqual([1, 2, 3]);
  });

  it('marks sections, ANSI and truncated lines, and gives each line the seq of its section header', () => {
    const store = createLineStore({ cap: 100 });
    store.append([
      entry(1, 'before'),
      entry(2, '::group::Build'),
      entry(3, '\u001b[32mok\u001b[0m'),
      entry(4, '::endgroup::'),
      entry(5, 'after'),
      { ...entry(6, 'x'.repeat(10)), metadata: { truncated: true } },
    ]);
    const at = (seq: number) => store.indexOfSeq(seq) as number;
    expect([1, 2, 3, 4, 5].map((seq) => store.groupAt(at(seq)))).toEqual([0, 2, 2, 2, 0]);
    expect(store.flagsAt(at(2)) & LINE_FLAGS.groupStart).toBeTruthy();
    expect(store.flagsAt(at(4)) & LINE_FLAGS.groupEnd).toBeTruthy();
    expect(store.flagsAt(at(3)) & LINE_FLAGS.ansi).toBeTruthy();
    expect(store.flagsAt(at(1)) & LINE_FLAGS.ansi).toBeFalsy();
    expect(store.flagsAt(at(6)) & LINE_FLAGS.truncated).toBeTruthy();
  });

  it("keeps a cut line's original length (metadata.originalLength) while it holds the line, and only for cut lines", () => {
    const store = createLineStore({ cap: 3 });
    store.append([
      { ...entry(1, 'x'.repeat(10)), metadata: { truncated: true, originalLength: 1_048_576 } },
      { ...entry(2, 'x'.repeat(10)), metadata: { truncated: true } },
      { ...entry(3, 'short'), metadata: { originalLength: 99 } },
    ]);
    const at = (seq: number) => store.indexOfSeq(seq) as number;
    expect([1, 2, 3].map((seq) => store.originalLengthAt(at(seq)))).toEqual([1_048_576, undefined, undefined]);
    store.append([{ ...entry(4, 'bel\u0007'), metadata: { truncated: true, originalLength: 'many' } }]);
    expect(store.indexOfSeq(1)).toBeUndefined();
    expect(store.originalLengthAt(at(4))).toBeUndefined();
    // A control character without any escape is terminal output too.
    expect(store.flagsAt(at(4)) & LINE_FLAGS.ansi).toBeTruthy();
  });

  it('joins a section that older lines open to the lines it already holds, and reports it closed', () => {
    const store = createLineStore({ cap: 100 });
    store.append([entry(4, 'inside'), entry(5, '::endgroup::'), entry(6, 'after')]);
    const closed = store.prepend([entry(1, 'before'), entry(2, '::group::Test'), entry(3, 'inside too')]);
    expect(closed).toEqual([2]);
    expect([1, 2, 3, 4, 5, 6].map((seq) => store.groupAt(store.indexOfSeq(seq) as number))).toEqual([0, 2, 2, 2, 2, 0]);
    // A section still open at the newest line goes on with the next live lines.
    const open = createLineStore({ cap: 100 });
    open.append([entry(3, 'inside')]);
    expect(open.prepend([entry(2, '::group::Deploy')])).toEqual([]);
    open.append([entry(4, 'still inside'), entry(5, '::endgroup::'), entry(6, 'after')]);
    expect([2, 3, 4, 5, 6].map((seq) => open.groupAt(open.indexOfSeq(seq) as number))).toEqual([2, 2, 2, 2, 0]);
  });
});
