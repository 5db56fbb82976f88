// The search over the lines held in the page: which lines match the query (case-insensitive
// plain text, on the text as printed: ANSI escapes left out), and which match is the current one.
// Lines inside folded sections count; lines hidden by a filter do not.
import { createIndexList, type IndexList } from './index-list.js';
import { groupName, stripAnsi } from './line-markers.js';
import { LINE_FLAGS, type LineStore } from './line-store.js';
import { queryPattern } from './match-ranges.js';
import { passesFilters, type ViewRules } from './view-index.js';

export interface SearchState {
  readonly query: string;
  /** A global pattern for marking the matches in a row; undefined without a query. */
  readonly pattern: RegExp | undefined;
  /** Lines that match, in order. */
  readonly matches: IndexList;
  /** Position in `matches` of the current match, -1 for none. */
  current: number;
  /** Sets the query and searches the lines [store.firstIndex, to). */
  setQuery(query: string, to: number): void;
  /** Searches again, e.g. after a filter changed. */
  refresh(to: number): void;
  /** Searches the lines [from, to) that were just shown. */
  extend(from: number, to: number): void;
  /** Forgets matches below `index` (lines dropped from the store). */
  dropBelow(index: number): void;
  /**
   * Makes the next (1) or previous (-1) match the current one and returns its line. Without a
   * current match it is the first match from `fromLine()` on (or the last before it); undefined
   * without matches.
   */
  step(direction: 1 | -1, fromLine: () => number): number | undefined;
}

/** The text of a line as shown: a section header shows its name. */
export function displayText(store: LineStore, index: number): string {
  const message = store.messageAt(index);
  const flags = store.flagsAt(index);
  const text = flags & LINE_FLAGS.ansi ? stripAnsi(message) : message;
  return flags & LINE_FLAGS.groupStart ? groupName(text) : text;
}

export function createSearchState(store: LineStore, rules: ViewRules): SearchState {
  const matches = createIndexList(256);
  let query = '';
  let pattern: RegExp | undefined;
  let test: RegExp | undefined;

  const search = (from: number, to: number): void => {
    if (test === undefined) return;
    for (let i = from; i < to; i++) {
      if (store.flagsAt(i) & LINE_FLAGS.groupEnd) continue;
      if (!passesFilters(store, i, rules)) continue;
      if (test.test(displayText(store, i))) matches.push(i);
    }
  };

  const state: SearchState = {
    get query() {
      return query;
    },
    get pattern() {
      return pattern;
    },
    matches,
    current: -1,
    setQuery(next, to) {
      query = next;
      pattern = queryPattern(next);
      test = pattern === undefined ? undefined : new RegExp(pattern.source, 'iu');
      state.refresh(to);
    },
    refresh(to) {
      const currentLine = state.current >= 0 && state.current < matches.length ? matches.at(state.current) : -1;
      matches.clear();
      search(store.firstIndex, to);
      state.current = currentLine < 0 ? -1 : keepPosition(matches, currentLine);
    },
    extend: search,
    dropBelow(index) {
      const dropped = matches.dropBelow(index);
      if (state.current >= 0) state.current = Math.max(-1, state.current - dropped);
    },
    step(direction, fromLine) {
      const count = matches.length;
      if (count === 0) return undefined;
      if (state.current < 0 || state.current >= count) {
        const at = matches.lowerBound(fromLine());
        state.current = direction === 1 ? at % count : (at - 1 + count) % count;
      } else {
        state.current = (state.current + direction + count) % count;
      }
      return matches.at(state.current);
    },
  };
  return state;
}

/** The position of `line` among the matches if it still matches, else -1. */
function keepPosition(matches: IndexList, line: number): number {
  const position = matches.lowerBound(line);
  return position < matches.length && matches.at(position) === line ? position : -1;
}
