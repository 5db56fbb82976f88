// The log view the page drives: the shown lines, their rows on the list, following the newest line
// and the pacing of frames, kept in step. Lines arrive at any time; they are shown in the next
// animation frame, in one batch, and while paused they are held (never dropped) and shown on resume.
import type { LogEntry } from '@keruta/protocol';
import type { Counters } from './counters.js';
import { createFramePacer } from './frame-pacer.js';
import type { LineStore } from './line-store.js';
import { createLogNavigation, type LogNavigation } from './log-navigation.js';
import { createRowList } from './row-list.js';
import type { RowContext } from './row-view.js';
import { createScrollFollow } from './scroll-follow.js';
import type { SearchState } from './search-state.js';
import { createShownLines } from './shown-lines.js';
import type { ViewRules } from './view-index.js';
import type { VirtualList } from './virtual-list.js';

export interface LogViewerOptions {
  container: HTMLElement;
  /** Most lines held in the page. */
  cap: number;
  rowHeight: number;
  /** After every frame that showed something new, and after every change the controls reflect. */
  onChange(): void;
  /** The list is scrolled to its top: older lines may be wanted. */
  onTopReached(): void;
  /** Auto-scroll switched itself off (the user scrolled up) or on (back at the bottom). */
  onAutoScrollChange(on: boolean): void;
  /** The first rows were drawn. */
  onFirstRows?(): void;
  /** After each drawing, with the absolute index of the line in the first row drawn (-1 for none). */
  onRowsDrawn?(firstLine: number): void;
  /** What the page knows of a section (its duration and status), for its header row. */
  sectionInfo?: RowContext['sectionInfo'];
}

export interface LogViewer extends LogNavigation {
  readonly store: LineStore;
  readonly rules: ViewRules;
  readonly counters: Counters;
  readonly search: SearchState;
  readonly list: VirtualList;
  /** Rows the filters and folds leave. */
  readonly rowCount: number;
  /** Lines held but not shown yet, because the view is paused. */
  readonly waiting: number;
  readonly paused: boolean;
  readonly autoScroll: boolean;
  readonly showTimestamp: boolean;
  append(entries: readonly LogEntry[]): void;
  prepend(entries: readonly LogEntry[]): void;
  setPaused(paused: boolean): void;
  setAutoScroll(on: boolean): void;
  setShowTimestamp(on: boolean): void;
  setFilters(sourceMask: number, levelMask: number): void;
  setQuery(query: string): void;
  toggleGroup(seq: number): void;
  setAllFolded(folded: boolean): void;
  /** Empties the view and the counters; lines already received are not shown again. */
  clear(): void;
  /** Empties everything, to start again elsewhere in the log. */
  reset(): void;
  readonly targetSeq: number;
  /** Draws every row again (what a row shows from outside the viewer changed). */
  redraw(): void;
}

export function createLogViewer(options: LogViewerOptions): LogViewer {
  const lines = createShownLines(options.cap);
  const { store, rules, rows, search } = lines;
  const follow = createScrollFollow(options.onAutoScrollChange);
  const rowList = createRowList({ ...options, lines, follow });
  const { list } = rowList;

  /** What the rows show changed: draws them again and tells the page. */
  const changed = (): void => {
    rowList.restyle();
    options.onChange();
  };
  /** Rows come or go (filters, folds, lines dropped or put in front) while the place in view stays. */
  const reshape = (change: () => void): void => {
    rowList.keepingPlace(change);
    changed();
  };

  const pacer = createFramePacer({
    pending: () => (follow.paused ? 0 : lines.unshown),
    show() {
      const folded = lines.showNew();
      list.setRowCount(rows.length);
      if (follow.autoScroll) list.scrollToBottom();
      if (folded) rowList.restyle();
      else list.draw();
      options.onChange();
    },
  });

  const navigation = createLogNavigation({ lines, rowList, follow, changed });

  const viewer: LogViewer = {
    store,
    rules,
    counters: lines.counters,
    search,
    list,
    get rowCount() {
      return rows.length;
    },
    get waiting() {
      return follow.paused ? lines.unshown : 0;
    },
    get paused() {
      return follow.paused;
    },
    get autoScroll() {
      return follow.autoScroll;
    },
    get showTimestamp() {
      return rowList.showTimestamp;
    },
    get targetSeq() {
      return rowList.targetSeq;
    },
    append(entries) {
      // Past the cap the oldest lines went; their rows and matches go with them, at once,
      // because a scroll may draw before the next frame.
      if (store.append(entries) > 0) reshape(lines.forgetDropped);
      if (follow.paused) options.onChange();
      else pacer.schedule();
    },
    prepend(entries) {
      // The lines put in front keep the place in view, even at the bottom.
      if (lines.addOlder(entries)) follow.suspended(() => reshape(lines.rebuild));
    },
    setPaused(next) {
      follow.setPaused(next);
      if (!next) pacer.schedule();
      options.onChange();
    },
    setAutoScroll(on) {
      follow.set(on);
      if (on) {
        list.scrollToBottom();
        list.draw();
      }
    },
    setShowTimestamp: (on) => rowList.setShowTimestamp(on),
    setFilters: (sourceMask, levelMask) => reshape(() => lines.setFilters(sourceMask, levelMask)),
    setQuery(query) {
      lines.setQuery(query);
      changed();
    },
    nextMatch: navigation.nextMatch,
    toggleGroup(seq) {
      // The header stays where it was clicked; the list follows on only if that left it at its bottom.
      follow.suspended(() => rowList.keepingLineInPlace(store.indexOfSeq(seq), () => lines.toggleFold(seq)));
      if (follow.autoScroll && !list.isAtBottom()) follow.stop();
      changed();
    },
    setAllFolded: (folded) => reshape(() => lines.setAllFolded(folded)),
    clear() {
      lines.clear();
      list.setRowCount(0);
      changed();
    },
    reset() {
      viewer.clear();
      lines.reset();
      rowList.reset();
    },
    goTop: navigation.goTop,
    goBottom: navigation.goBottom,
    reveal: navigation.reveal,
    redraw: () => rowList.restyle(),
  };
  return viewer;
}
