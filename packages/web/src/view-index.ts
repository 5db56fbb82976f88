// Which of the held lines the list shows, in order: those that pass the source and level filters,
// minus the insides of folded sections and the `::endgroup::` markers. Extended as lines are shown,
// rebuilt when a filter or a fold changes.
import { createIndexList, type IndexList } from './index-list.js';
import { LINE_FLAGS, type LineStore } from './line-store.js';

export interface ViewRules {
  /** Bit n set: source n (stdout, stderr, agent) is shown. */
  sourceMask: number;
  /** Bit n set: level n (DEBUG, INFO, WARN, ERROR) is shown. */
  levelMask: number;
  /** Header seqs of the folded sections. */
  readonly folded: Set<number>;
  /** Sections the user opened or closed by hand keep their state when they end. */
  readonly toggledByHand: Set<number>;
}

export const ALL_SOURCES = 0b111;
export const ALL_LEVELS = 0b1111;

export function createViewRules(): ViewRules {
  return { sourceMask: ALL_SOURCES, levelMask: ALL_LEVELS, folded: new Set(), toggledByHand: new Set() };
}

/** Whether the line passes the source and level filters (section headers always do). */
export function passesFilters(store: LineStore, index: number, rules: ViewRules): boolean {
  const flags = store.flagsAt(index);
  if (flags & LINE_FLAGS.groupStart) return true;
  if (flags & LINE_FLAGS.groupEnd) return false;
  return ((rules.sourceMask >> (flags & 3)) & 1) === 1 && ((rules.levelMask >> ((flags >> 2) & 3)) & 1) === 1;
}

/** Whether the line gets a row: it passes the filters and is not inside a folded section. */
export function isShown(store: LineStore, index: number, rules: ViewRules): boolean {
  if (!passesFilters(store, index, rules)) return false;
  if (store.flagsAt(index) & LINE_FLAGS.groupStart) return true;
  const group = store.groupAt(index);
  return group === 0 || !rules.folded.has(group);
}

export interface ViewIndex {
  readonly rows: IndexList;
  /** Adds rows for the lines [from, to) of the store, in order; a section that ends folds unless handled by hand. */
  extend(from: number, to: number): void;
  /** Recomputes every row for the lines [store.firstIndex, to). */
  rebuild(to: number): void;
}

export function createViewIndex(store: LineStore, rules: ViewRules): ViewIndex {
  const rows = createIndexList(4096);
  return {
    rows,
    extend(from, to) {
      for (let i = from; i < to; i++) {
        const flags = store.flagsAt(i);
        if (flags & LINE_FLAGS.groupEnd) {
          const group = store.groupAt(i);
          if (group !== 0 && !rules.toggledByHand.has(group)) {
            // A finished section folds, as in GitHub Actions; its rows are the last ones shown.
            rules.folded.add(group);
            for (let last = rows.last(); last !== undefined && store.groupAt(last) === group && store.seqAt(last) !== group; last = rows.last()) {
              rows.pop();
            }
          }
          continue;
        }
        if (isShown(store, i, rules)) rows.push(i);
      }
    },
    rebuild(to) {
      rows.clear();
      for (let i = store.firstIndex; i < to; i++) if (isShown(store, i, rules)) rows.push(i);
    },
  };
}
