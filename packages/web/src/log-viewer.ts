// The log view: the held lines, the rows a filter and the folds leave, the search, the counters
// and the virtual list, kept in step. Lines arrive at any time; they are shown in the next
// animation frame, in one batch, and while paused they are held (never dropped) and shown on resume.
import type { LogEntry } from '@keruta/protocol';
import { createCounters, type Counters } from './counters.js';
import { LINE_FLAGS, createLineStore, type LineStore } from './line-store.js';
import { renderRow, type RowContext } from './row-view.js';
import { createSearchState, type SearchState } from './search-state.js';
import { createViewIndex, createViewRules, passesFilters, type ViewRules } from './view-index.js';
import { createVirtualList, type VirtualList } from './virtual-list.js';

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

export type RevealResult = 'shown' | 'not-held' | 'filtered';

/** More new lines than this in a frame is a burst… */
const BURST_LINES = 200;
/** …and then new lines are shown at most this often, in ms (30 times a second). */
const BURST_FRAME_GAP_MS = 30;

export interface LogViewer {
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
  /** Moves to the next (1) or previous (-1) match, unfolding its section; false without matches. */
  nextMatch(direction: 1 | -1): boolean;
  toggleGroup(seq: number): void;
  setAllFolded(folded: boolean): void;
  /** Empties the view and the counters; lines already received are not shown again. */
  clear(): void;
  /** Empties everything, to start again elsewhere in the log. */
  reset(): void;
  goTop(): void;
  goBottom(): void;
  /** Scrolls to the line with this seq and marks it as the addressed line. */
  reveal(seq: number): RevealResult;
  readonly targetSeq: number;
  /** Draws every row again (what a row shows from outside the viewer changed). */
  redraw(): void;
}

export function createLogViewer(options: LogViewerOptions): LogViewer {
  const store = createLineStore({ cap: options.cap });
  const rules = createViewRules();
  const view = createViewIndex(store, rules);
  const search = createSearchState(store, rules);
  const counters = createCounters();
  const rows = view.rows;

  let paused = false;
  let autoScroll = true;
  let showTimestamp = true;
  let targetSeq = 0;
  /** Lines below this absolute index have been shown (counted, given rows, searched). */
  let shownEnd = store.endIndex;
  let frame = 0;
  let lastShownAt = -Infinity;
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
    onUserScroll() {
      const atBottom = list.isAtBottom();
      if (autoScroll !== atBottom && !paused) {
        autoScroll = atBottom;
        options.onAutoScrollChange(autoScroll);
      }
    },
    onDraw(first, end) {
      if (!firstRowsDrawn && end > first) {
        firstRowsDrawn = true;
        options.onFirstRows?.();
      }
      if (first === 0 && rows.length > 0) options.onTopReached();
      options.onRowsDrawn?.(first < rows.length ? rows.at(first) : -1);
    },
  });

  /** Redraws every row (something their look depends on changed). */
  const restyle = (): void => {
    rowContext = context();
    list.invalidate();
    list.draw();
  };

  /** Keeps the line at the top of the viewport where it is while rows come and go above it. */
  const keepingPlace = (change: () => void): void => {
    const anchor = rows.length === 0 ? undefined : list.anchor();
    const topLine = anchor === undefined ? undefined : rows.at(Math.min(anchor.row, rows.length - 1));
    change();
    list.setRowCount(rows.length);
    if (autoScroll && !paused) list.scrollToBottom();
    else if (anchor !== undefined && topLine !== undefined) list.restoreAnchor({ row: Math.min(rows.lowerBound(topLine), Math.max(0, rows.length - 1)), offset: anchor.offset });
    restyle();
    options.onChange();
  };

  const showNewLines = (now: number): void => {
    frame = 0;
    if (paused || shownEnd >= store.endIndex) return;
    // In a burst every frame would replace every row in view: draw every other frame instead,
    // which halves the page's work while the lines still appear at 30 frames a second.
    if (store.endIndex - shownEnd > BURST_LINES && now - lastShownAt < BURST_FRAME_GAP_MS) {
      frame = requestAnimationFrame(showNewLines);
      return;
    }
    lastShownAt = now;
    const from = Math.max(shownEnd, store.firstIndex);
    const to = store.endIndex;
    for (let i = from; i < to; i++) counters.add(store.levelIndexAt(i));
    const foldsBefore = rules.folded.size;
    view.extend(from, to);
    search.extend(from, to);
    shownEnd = to;
    list.setRowCount(rows.length);
    if (autoScroll) list.scrollToBottom();
    if (rules.folded.size !== foldsBefore) restyle();
    else list.draw();
    options.onChange();
  };

  const scheduleShow = (): void => {
    if (frame === 0) frame = requestAnimationFrame(showNewLines);
  };

  const rebuild = (): void => {
    view.rebuild(shownEnd);
    search.refresh(shownEnd);
  };

  const unfoldFor = (index: number): void => {
    const flags = store.flagsAt(index);
    const group = store.groupAt(index);
    if (group === 0 || flags & LINE_FLAGS.groupStart || !rules.folded.has(group)) return;
    rules.folded.delete(group);
    rules.toggledByHand.add(group);
    view.rebuild(shownEnd);
    list.setRowCount(rows.length);
  };

  /** Scrolls the line into view, a little above the middle, unless it is in view already. */
  const scrollToLine = (index: number): void => {
    const row = rows.lowerBound(index);
    const { first, end } = list.visibleRange();
    if (row <= first || row >= end - 1) list.scrollToRow(row, 0.4);
    if (autoScroll) {
      autoScroll = false;
      options.onAutoScrollChange(false);
    }
  };

  const viewer: LogViewer = {
    store,
    rules,
    counters,
    search,
    list,
    get rowCount() {
      return rows.length;
    },
    get waiting() {
      return paused ? store.endIndex - Math.max(shownEnd, store.firstIndex) : 0;
    },
    get paused() {
      return paused;
    },
    get autoScroll() {
      return autoScroll;
    },
    get showTimestamp() {
      return showTimestamp;
    },
    get targetSeq() {
      return targetSeq;
    },
    append(entries) {
      const dropped = store.append(entries);
      if (dropped > 0) {
        // Past the cap the oldest lines went; their rows and matches go with them, at once,
        // because a scroll may draw before the next frame.
        keepingPlace(() => {
          rows.dropBelow(store.firstIndex);
          search.dropBelow(store.firstIndex);
          shownEnd = Math.max(shownEnd, store.firstIndex);
        });
      }
      if (paused) options.onChange();
      else scheduleShow();
    },
    prepend(entries) {
      const before = store.firstIndex;
      const closed = store.prepend(entries);
      if (store.firstIndex === before) return;
      for (const group of closed) if (!rules.toggledByHand.has(group)) rules.folded.add(group);
      for (let i = store.firstIndex; i < before; i++) counters.add(store.levelIndexAt(i));
      const wasAuto = autoScroll;
      autoScroll = false;
      keepingPlace(rebuild);
      autoScroll = wasAuto;
    },
    setPaused(next) {
      paused = next;
      if (!paused) scheduleShow();
      options.onChange();
    },
    setAutoScroll(on) {
      autoScroll = on;
      if (on) {
        list.scrollToBottom();
        list.draw();
      }
    },
    setShowTimestamp(on) {
      showTimestamp = on;
      restyle();
    },
    setFilters(sourceMask, levelMask) {
      rules.sourceMask = sourceMask;
      rules.levelMask = levelMask;
      keepingPlace(rebuild);
    },
    setQuery(query) {
      search.setQuery(query, shownEnd);
      search.current = -1;
      restyle();
      options.onChange();
    },
    nextMatch(direction) {
      const count = search.matches.length;
      if (count === 0) return false;
      if (search.current < 0 || search.current >= count) {
        const top = rows.length === 0 ? store.firstIndex : rows.at(Math.min(list.visibleRange().first, rows.length - 1));
        const at = search.matches.lowerBound(top);
        search.current = direction === 1 ? at % count : (at - 1 + count) % count;
      } else {
        search.current = (search.current + direction + count) % count;
      }
      const line = search.matches.at(search.current);
      unfoldFor(line);
      scrollToLine(line);
      restyle();
      options.onChange();
      return true;
    },
    toggleGroup(seq) {
      rules.toggledByHand.add(seq);
      if (rules.folded.has(seq)) rules.folded.delete(seq);
      else rules.folded.add(seq);
      const header = store.indexOfSeq(seq);
      const wasAuto = autoScroll;
      autoScroll = false;
      const headerRow = header === undefined ? -1 : rows.lowerBound(header);
      const anchor = list.anchor();
      rebuild();
      list.setRowCount(rows.length);
      // The header stays where it was clicked.
      if (header !== undefined) list.restoreAnchor({ row: rows.lowerBound(header) - (headerRow - anchor.row), offset: anchor.offset });
      autoScroll = wasAuto && list.isAtBottom();
      if (wasAuto !== autoScroll) options.onAutoScrollChange(autoScroll);
      restyle();
      options.onChange();
    },
    setAllFolded(folded) {
      for (let i = store.firstIndex; i < store.endIndex; i++) {
        if (!(store.flagsAt(i) & LINE_FLAGS.groupStart)) continue;
        const seq = store.seqAt(i);
        rules.toggledByHand.add(seq);
        if (folded) rules.folded.add(seq);
        else rules.folded.delete(seq);
      }
      keepingPlace(rebuild);
    },
    clear() {
      store.clear();
      rows.clear();
      search.matches.clear();
      search.current = -1;
      counters.reset();
      shownEnd = store.endIndex;
      list.setRowCount(0);
      restyle();
      options.onChange();
    },
    reset() {
      viewer.clear();
      store.reset();
      targetSeq = 0;
      rules.folded.clear();
      rules.toggledByHand.clear();
      firstRowsDrawn = false;
    },
    goTop() {
      if (autoScroll) {
        autoScroll = false;
        options.onAutoScrollChange(false);
      }
      list.scrollToTop();
      list.draw();
    },
    goBottom() {
      list.scrollToBottom();
      list.draw();
      if (!autoScroll && !paused) {
        autoScroll = true;
        options.onAutoScrollChange(true);
      }
    },
    redraw: () => restyle(),
    reveal(seq) {
      const index = store.indexOfSeq(seq);
      if (index === undefined || index >= shownEnd) return 'not-held';
      if (!passesFilters(store, index, rules)) return 'filtered';
      targetSeq = seq;
      unfoldFor(index);
      scrollToLine(index);
      restyle();
      options.onChange();
      return 'shown';
    },
  };
  return viewer;
}
