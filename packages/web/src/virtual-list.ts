// The scrolling list that only ever holds the rows in view: a sticky layer the height of the
// viewport with the visible rows in it (drawn-rows.ts), over a spacer that gives the scrollbar its
// length. Rows are drawn in animation frames and kept while they stay in view.
import { element } from './dom.js';
import { createDrawnRows } from './drawn-rows.js';
import { MAX_SCROLL_HEIGHT, contentHeight, isAtBottom, scrollTopForRow, visibleRows, type ListGeometry } from './virtual-range.js';

export interface VirtualListOptions {
  /** The scrolling element; the list fills it. */
  container: HTMLElement;
  rowHeight: number;
  /** The stable key of a row (the line's absolute index), to keep its element while it stays in view. */
  keyOf(row: number): number;
  renderRow(row: number): HTMLElement;
  /** Called for every scroll the user made (not for the list's own). */
  onUserScroll?(): void;
  /** Called after each drawing, with the first and end rows drawn. */
  onDraw?(first: number, end: number): void;
}

export interface VirtualList {
  readonly rowCount: number;
  setRowCount(count: number): void;
  /** Draws in the next animation frame. */
  scheduleDraw(): void;
  /** Draws now. */
  draw(): void;
  /** Forgets every drawn row (their look depends on something that changed). */
  invalidate(): void;
  scrollToBottom(): void;
  scrollToTop(): void;
  /** Scrolls so that `row` sits at `fraction` of the viewport's height. */
  scrollToRow(row: number, fraction?: number): void;
  /** The first row in view, and how far its top is above the viewport's, in pixels. */
  anchor(): { row: number; offset: number };
  restoreAnchor(anchor: { row: number; offset: number }): void;
  isAtBottom(): boolean;
  /** The rows [first, end) in view. */
  visibleRange(): { first: number; end: number };
  geometry(): ListGeometry;
}

export function createVirtualList(options: VirtualListOptions): VirtualList {
  const { container, rowHeight } = options;
  const layer = element('div', 'log-rows');
  const inner = element('div', 'log-rows-inner');
  const spacer = element('div', 'log-spacer');
  layer.append(inner);
  container.replaceChildren(layer, spacer);

  let rowCount = 0;
  let viewportHeight = container.clientHeight;
  const drawnRows = createDrawnRows(inner, options);
  let frame = 0;
  /** The scrollTop the list set last; a scroll event elsewhere is the user's. */
  let ownScrollTop = -1;

  const geometry = (): ListGeometry => ({ rowCount, rowHeight, viewportHeight, maxScrollHeight: MAX_SCROLL_HEIGHT });

  const sizeSpacer = (): void => {
    layer.style.height = `${viewportHeight}px`;
    spacer.style.height = `${Math.max(0, contentHeight(geometry()) - viewportHeight)}px`;
  };

  const setScrollTop = (top: number): void => {
    container.scrollTop = top;
    ownScrollTop = container.scrollTop;
  };

  const draw = (): void => {
    if (frame !== 0) {
      cancelAnimationFrame(frame);
      frame = 0;
    }
    const { first, end, offset } = visibleRows(container.scrollTop, geometry());
    drawnRows.draw(first, end, offset);
    options.onDraw?.(first, end);
  };

  const scheduleDraw = (): void => {
    if (frame === 0) frame = requestAnimationFrame(() => {
      frame = 0;
      draw();
    });
  };

  container.addEventListener('scroll', () => {
    if (Math.abs(container.scrollTop - ownScrollTop) >= 1) {
      ownScrollTop = -1;
      options.onUserScroll?.();
    }
    scheduleDraw();
  }, { passive: true });

  new ResizeObserver(() => {
    if (container.clientHeight === viewportHeight) return;
    const atBottom = list.isAtBottom();
    viewportHeight = container.clientHeight;
    sizeSpacer();
    if (atBottom) list.scrollToBottom();
    scheduleDraw();
  }).observe(container);

  const list: VirtualList = {
    get rowCount() {
      return rowCount;
    },
    setRowCount(count) {
      if (count === rowCount) return;
      rowCount = count;
      sizeSpacer();
    },
    scheduleDraw,
    draw,
    invalidate: drawnRows.invalidate,
    scrollToBottom() {
      setScrollTop(container.scrollHeight);
    },
    scrollToTop() {
      setScrollTop(0);
    },
    scrollToRow(row, fraction = 0) {
      setScrollTop(scrollTopForRow(row, geometry(), fraction));
    },
    anchor() {
      const g = geometry();
      const { first, offset } = visibleRows(container.scrollTop, g);
      return { row: first, offset };
    },
    restoreAnchor({ row, offset }) {
      const g = geometry();
      setScrollTop(scrollTopForRow(row, g) - offset);
    },
    isAtBottom: () => isAtBottom(container.scrollTop, geometry()),
    visibleRange() {
      const { first, end } = visibleRows(container.scrollTop, geometry());
      return { first, end };
    },
    geometry,
  };
  sizeSpacer();
  return list;
}
