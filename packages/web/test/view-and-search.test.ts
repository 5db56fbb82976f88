// Which lines get a row (filters, folded sections, end markers) and which lines a search finds,
// on a real line store.
import { describe, expect, it } from 'vitest';
import type { LogEntry, LogLevel, LogSource } from '@keruta/protocol';
import { createLineStore } from '../src/line-store.js';
import { createSearchState } from '../src/search-state.js';
import { createViewIndex, createViewRules } from '../src/view-index.js';

let seq = 0;
function line(message: string, level: LogLevel = 'INFO', source: LogSource = 'stdout'): LogEntry {
  seq += 1;
  return { id: `t-${seq}`, seq, taskId: 't', timestamp: new Date().toISOString(), source, level, message, lineNumber: seq, metadata: {} };
}

function setUp(entries: LogEntry[]) {
  const store = createLineStore({ cap: 1000 });
  store.append(entries);
  const rules = createViewRules();
  const view = createViewIndex(store, rules);
  const search = createSearchState(store, rules);
  view.extend(store.firstIndex, store.endIndex);
  const shown = () => Array.from({ length: view.rows.length }, (_, i) => store.messageAt(view.rows.at(i)));
  return { store, rules, view, search, shown };
}

describe('view index and search', () => {
  it('folds a section when it ends, keeps an open one open, and never shows the end marker', () => {
    seq = 0;
    const { store, view, rules, shown } = setUp([line('a'), line('::group::Build'), line('b1'), line('b2'), line('::endgroup::'), line('::group::Test'), line('t1')]);
    expect(shown()).toEqual(['a', '::group::Build', '::group::Test', 't1']);
    expect([...rules.folded]).toEqual([2]);
    // A section the user opened by hand stays open when it ends.
    rules.toggledByHand.add(6);
    store.append([line('t2'), line('::endgroup::'), line('z')]);
    view.extend(store.endIndex - 3, store.endIndex);
    expect(shown()).toEqual(['a', '::group::Build', '::group::Test', 't1', 't2', 'z']);
    rules.folded.delete(2);
    view.rebuild(store.endIndex);
    expect(shown()).toEqual(['a', '::group::Build', 'b1', 'b2', '::group::Test', 't1', 't2', 'z']);
  });

  it('filters by source and level bits; section headers stay', () => {
    seq = 0;
    const { view, rules, store, shown } = setUp([line('d', 'DEBUG'), line('e', 'ERROR', 'stderr'), line('::group::G'), line('w', 'WARN', 'agent')]);
    rules.folded.clear();
    rules.levelMask = 0b1100; // WARN, ERROR
    view.rebuild(store.endIndex);
    expect(shown()).toEqual(['e', '::group::G', 'w']);
    rules.sourceMask = 0b001; // stdout
    view.rebuild(store.endIndex);
    expect(shown()).toEqual(['::group::G']);
  });

  it('finds matches case-insensitively in the printed text, inside folded sections too, not in filtered lines', () => {
    seq = 0;
    const { store, rules, search } = setUp([
      line('Error: disk full', 'ERROR'),
      line('::group::Error handling'),
      line('\u001b[31merr\u001b[0mor inside'),
      line('::endgroup::'),
      line('nothing here'),
      line('ERROR in debug', 'DEBUG'),
    ]);
    search.setQuery('error', store.endIndex);
    expect(Array.from({ length: search.matches.length }, (_, i) => store.seqAt(search.matches.at(i)))).toEqual([1, 2, 3, 6]);
    rules.levelMask = 0b1110;
    search.refresh(store.endIndex);
    expect(search.matches.length).toBe(3);
    search.setQuery('a.b', store.endIndex);
    expect(search.matches.length).toBe(0);
    search.setQuery('', store.endIndex);
    expect(search.pattern).toBeUndefined();
  });

  it('steps from the line in view to the next or previous match, then from match to match, wrapping', () => {
    seq = 0;
    const { store, search } = setUp([line('hit 1'), line('miss'), line('hit 3'), line('miss'), line('hit 5')]);
    const seqOf = (index: number | undefined) => (index === undefined ? undefined : store.seqAt(index));
    expect(search.step(1, () => 0)).toBeUndefined();
    search.setQuery('hit', store.endIndex);
    // Without a current match, the first one from the line in view (seq 2) on, or the last before it.
    expect(seqOf(search.step(1, () => 1))).toBe(3);
    search.current = -1;
    expect(seqOf(search.step(-1, () => 1))).toBe(1);
    // Then from the current match on, whatever is in view, round the end.
    expect(seqOf(search.step(-1, () => 4))).toBe(5);
    expect(seqOf(search.step(1, () => 4))).toBe(1);
    expect(search.current).toBe(0);
  });
});
