// Where the view goes: to the next or previous match, to the addressed line (#L123: marked, its
// section unfolded), to the top or to the bottom, with following stopped or started to match.
import type { RowList } from './row-list.js';
import type { ScrollFollow } from './scroll-follow.js';
import type { ShownLines } from './shown-lines.js';
import { passesFilters } from './view-index.js';

export type RevealResult = 'shown' | 'not-held' | 'filtered';

export interface LogNavigation {
  /** Moves to the next (1) or previous (-1) match, unfolding its section; false without matches. */
  nextMatch(direction: 1 | -1): boolean;
  /** Scrolls to the line with this seq and marks it as the addressed line. */
  reveal(seq: number): RevealResult;
  goTop(): void;
  goBottom(): void;
}

export function createLogNavigation(options: {
  lines: ShownLines;
  rowList: RowList;
  follow: ScrollFollow;
  /** What the rows show changed: they are to be drawn again and the page told. */
  changed(): void;
}): LogNavigation {
  const { lines, rowList, follow } = options;
  const { store, rows } = lines;
  const { list } = rowList;

  /** Brings the line into view, its section unfolded: a little above the middle, unless in view already. */
  const goToLine = (index: number): void => {
    if (lines.unfoldFor(index)) list.setRowCount(rows.length);
    const row = rows.lowerBound(index);
    const { first, end } = list.visibleRange();
    if (row <= first || row >= end - 1) list.scrollToRow(row, 0.4);
    follow.stop();
    options.changed();
  };
  const topLineInView = (): number => (rows.length === 0 ? store.firstIndex : rows.at(Math.min(list.visibleRange().first, rows.length - 1)));

  return {
    nextMatch(direction) {
      const line = lines.search.step(direction, topLineInView);
      if (line === undefined) return false;
      goToLine(line);
      return true;
    },
    reveal(seq) {
      const index = store.indexOfSeq(seq);
      if (index === undefined || index >= lines.end) return 'not-held';
      if (!passesFilters(store, index, lines.rules)) return 'filtered';
      rowList.setTarget(seq);
      goToLine(index);
      return 'shown';
    },
    goTop() {
      follow.stop();
      list.scrollToTop();
      list.draw();
    },
    goBottom() {
      list.scrollToBottom();
      list.draw();
      follow.resume();
    },
  };
}
