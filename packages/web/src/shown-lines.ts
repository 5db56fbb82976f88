// The lines the list has shown and what the view makes of them: the counters, the rows the
// filters and folds (section-folds.ts) leave and the search's matches, kept in step as lines come
// and go and as filters, folds and the query change. No DOM: the viewer draws what this holds.
import type { LogEntry } from '@keruta/protocol';
import { createCounters, type Counters } from './counters.js';
import type { IndexList } from './index-list.js';
import { createLineStore, type LineStore } from './line-store.js';
import { createSearchState, type SearchState } from './search-state.js';
import { setAllFolded, toggleFold, unfoldAround } from './section-folds.js';
import { createViewIndex, createViewRules, type ViewRules } from './view-index.js';

export interface ShownLines {
  readonly store: LineStore;
  readonly rules: ViewRules;
  /** The absolute indices of the lines that get a row, in order. */
  readonly rows: IndexList;
  readonly search: SearchState;
  readonly counters: Counters;
  /** Lines below this absolute index have been shown (counted, given rows, searched). */
  readonly end: number;
  /** Lines held but not shown yet. */
  readonly unshown: number;
  /** Shows the lines held but not shown yet; true when a section among them ended and folded. */
  showNew(): boolean;
  /** Forgets the rows and matches of the lines the store dropped past its cap. */
  forgetDropped(): void;
  /**
   * Puts older entries in front of the held lines and counts them; the sections they close fold
   * unless handled by hand. False when none was taken. Their rows come with `rebuild`.
   */
  addOlder(entries: readonly LogEntry[]): boolean;
  /** Recomputes every row and match. */
  rebuild(): void;
  setFilters(sourceMask: number, levelMask: number): void;
  /** Searches the shown lines for `query`, with no current match. */
  setQuery(query: string): void;
  /** Folds or unfolds the section with this header seq, as done by hand. */
  toggleFold(seq: number): void;
  setAllFolded(folded: boolean): void;
  /** Unfolds the folded section the line is inside and recomputes the rows; false when there was none. */
  unfoldFor(index: number): boolean;
  /** Empties the lines, rows, matches and counters; lines already received are not taken again. */
  clear(): void;
  /** After `clear`: forgets the floor and the folds too, to start again elsewhere in the log. */
  reset(): void;
}

export function createShownLines(cap: number): ShownLines {
  const store = createLineStore({ cap });
  const rules = createViewRules();
  const view = createViewIndex(store, rules);
  const search = createSearchState(store, rules);
  const counters = createCounters();
  const rows = view.rows;
  let end = store.endIndex;

  const rebuild = (): void => {
    view.rebuild(end);
    search.refresh(end);
  };

  return {
    store,
    rules,
    rows,
    search,
    counters,
    get end() {
      return end;
    },
    get unshown() {
      return store.endIndex - Math.max(end, store.firstIndex);
    },
    showNew() {
      const from = Math.max(end, store.firstIndex);
      const to = store.endIndex;
      for (let i = from; i < to; i++) counters.add(store.levelIndexAt(i));
      const foldsBefore = rules.folded.size;
      view.extend(from, to);
      search.extend(from, to);
      end = to;
      return rules.folded.size !== foldsBefore;
    },
    forgetDropped() {
      rows.dropBelow(store.firstIndex);
      search.dropBelow(store.firstIndex);
      end = Math.max(end, store.firstIndex);
    },
    addOlder(entries) {
      const before = store.firstIndex;
      const closed = store.prepend(entries);
      if (store.firstIndex === before) return false;
      for (const group of closed) if (!rules.toggledByHand.has(group)) rules.folded.add(group);
      for (let i = store.firstIndex; i < before; i++) counters.add(store.levelIndexAt(i));
      return true;
    },
    rebuild,
    setFilters(sourceMask, levelMask) {
      rules.sourceMask = sourceMask;
      rules.levelMask = levelMask;
      rebuild();
    },
    setQuery(query) {
      search.setQuery(query, end);
      search.current = -1;
    },
    toggleFold(seq) {
      toggleFold(rules, seq);
      rebuild();
    },
    setAllFolded(folded) {
      setAllFolded(store, rules, folded);
      rebuild();
    },
    unfoldFor(index) {
      if (!unfoldAround(store, rules, index)) return false;
      // The rows only: the matches count lines inside folded sections already.
      view.rebuild(end);
      return true;
    },
    clear() {
      store.clear();
      rows.clear();
      search.matches.clear();
      search.current = -1;
      counters.reset();
      end = store.endIndex;
    },
    reset() {
      store.reset();
      rules.folded.clear();
      rules.toggledByHand.clear();
    },
  };
}
