// The view's rows on the virtual list: each row drawn with what it shows from outside its line
// (timestamps, the search's marks, the addressed line, folds, section info), the page told what
// was drawn, and the reader's place kept while rows come and go above it.
import type { LogViewerOptions } from './log-viewer.js';
import { renderRow, type RowContext } from './row-view.js';
import type { ScrollFollow } from './scroll-follow.js';
import type { ShownLines } from './shown-lines.js';
import { createVirtualList, type VirtualList } from './virtual-list.js';

export type RowListOptions = Pick<LogViewerOptions, 'container' | 'rowHeight' | 'onTopReached' | 'onFirstRows' | 'onRowsDrawn' | 'sectionInfo'> & {
  lines: ShownLines;
  follow: ScrollFollow;
};

export interface RowList {
  readonly list: VirtualList;
  readonly showTimestamp: boolean;
  /** Seq of the line marked as the addressed one (#L123), 0 for none. */
  readonly targetSeq: number;
  setShowTimestamp(on: boolean): void;
  /** Marks the line with this seq as the addressed one, from the next restyle on. */
  setTarget(seq: number): void;
  /** Draws every row again (something their look depends on changed). */
  restyle(): void;
  /**
   * Runs `change`, which adds or takes rows, keeping the line at the top of the viewport where it
   * is, or the list at its bottom while following.
   */
  keepingPlace(change: () => void): void;
  /** Runs `change`, which adds or takes rows, keeping the row of the line at `index` where it is on the screen. */
  keepingLineInPlace(index: number | undefined, change: () => void): void;
  /** Forgets the addressed line, and the first rows are said again when drawn. */
  reset(): void;
}

export function createRowList(options: RowListOptions): RowList {
  const { lines, follow } = options;
  const { store, rules, rows, search } = lines;
  let showTimestamp = true;
  let targetSeq = 0;
  let firstRowsDrawn = false;

  const context = (): RowContext => ({
    store,
    showTimestamp,
    pattern: search.pattern,
    currentMatch: search.current >= 0 && search.current < search.matches.length ? search.matches.at(search.current) : -1,
    targetSeq,
    folded: rules.folded,
    sectionInfo: options.sectionInfo,
  });
  let rowContext = context();

  const list = createVirtualList({
    container: options.container,
    rowHeight: options.rowHeight,
    keyOf: (row) => rows.at(row),
    renderRow: (row) => renderRow(rows.at(row), rowContext),
    onUserScroll: () => follow.userScrolled(list.isAtBottom()),
    onDraw(first, end) {
      if (!firstRowsDrawn && end > first) {
        firstRowsDrawn = true;
        options.onFirstRows?.();
      }
      if (first === 0 && rows.length > 0) options.onTopReached();
      options.onRowsDrawn?.(first < rows.length ? rows.at(first) : -1);
    },
  });

  const restyle = (): void => {
    rowContext = context();
    list.invalidate();
    list.draw();
  };

  return {
    list,
    get showTimestamp() {
      return showTimestamp;
    },
    get targetSeq() {
      return targetSeq;
    },
    setShowTimestamp(on) {
      showTimestamp = on;
      restyle();
    },
    setTarget(seq) {
      targetSeq = seq;
    },
    restyle,
    keepingPlace(change) {
      const anchor = rows.length === 0 ? undefined : list.anchor();
      const topLine = anchor === undefined ? undefined : rows.at(Math.min(anchor.row, rows.length - 1));
      change();
      list.setRowCount(rows.length);
      if (follow.following) list.scrollToBottom();
      else if (anchor !== undefined && topLine !== undefined) list.restoreAnchor({ row: Math.min(rows.lowerBound(topLine), Math.max(0, rows.length - 1)), offset: anchor.offset });
    },
    keepingLineInPlace(index, change) {
      const rowBefore = index === undefined ? -1 : rows.lowerBound(index);
      const anchor = list.anchor();
      change();
      list.setRowCount(rows.length);
      if (index !== undefined) list.restoreAnchor({ row: rows.lowerBound(index) - (rowBefore - anchor.row), offset: anchor.offset });
    },
    reset() {
      targetSeq = 0;
      firstRowsDrawn = false;
    },
  };
}
