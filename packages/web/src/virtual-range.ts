// The arithmetic of a virtualised list of fixed-height rows: which rows a scroll position shows,
// and where to scroll to show a row. Browsers cap an element's height (Chromium near 33.5 million
// pixels, Firefox near 17.9 million), so past `maxScrollHeight` the scroll range is scaled: the
// scrollbar then stands for a fraction of the rows rather than for pixels.

export interface ListGeometry {
  rowCount: number;
  rowHeight: number;
  viewportHeight: number;
  /** The tallest scroll height the list may use. */
  maxScrollHeight: number;
}

/** Well under every browser's limit. */
export const MAX_SCROLL_HEIGHT = 15_000_000;

export function contentHeight(g: ListGeometry): number {
  return Math.min(g.rowCount * g.rowHeight, g.maxScrollHeight);
}

/** How many rows fit in the viewport, whole or in part. */
export function rowsPerViewport(g: ListGeometry): number {
  return Math.max(1, Math.ceil(g.viewportHeight / g.rowHeight));
}

function scrollRange(g: ListGeometry): number {
  return Math.max(0, contentHeight(g) - g.viewportHeight);
}

function rowRange(g: ListGeometry): number {
  return Math.max(0, g.rowCount - g.viewportHeight / g.rowHeight);
}

export interface VisibleRows {
  /** First row drawn. */
  first: number;
  /** One past the last row drawn. */
  end: number;
  /** Where the first row's top sits relative to the viewport's top, in pixels (≤ 0). */
  offset: number;
}

/** The rows to draw at `scrollTop`, one extra below for a partly shown last row. */
export function visibleRows(scrollTop: number, g: ListGeometry): VisibleRows {
  if (g.rowCount === 0) return { first: 0, end: 0, offset: 0 };
  const range = scrollRange(g);
  const top = Math.min(Math.max(scrollTop, 0), range);
  // In rows, where the viewport's top edge is; exact when unscaled.
  const exact = g.rowCount * g.rowHeight <= g.maxScrollHeight ? top / g.rowHeight : range === 0 ? 0 : (top / range) * rowRange(g);
  // A hair above the exact value, so that floating point never rounds a row down to the one before.
  const first = Math.min(Math.floor(exact + 1e-6), g.rowCount - 1);
  const end = Math.min(g.rowCount, first + rowsPerViewport(g) + 1);
  return { first, end, offset: Math.min(0, -(exact - first) * g.rowHeight) };
}

/** The scrollTop that puts `row` at `fraction` of the viewport's height (0 top, 0.5 middle). */
export function scrollTopForRow(row: number, g: ListGeometry, fraction = 0): number {
  const range = scrollRange(g);
  const exact = row - (fraction * g.viewportHeight) / g.rowHeight;
  if (g.rowCount * g.rowHeight <= g.maxScrollHeight) return clamp(exact * g.rowHeight, 0, range);
  const rows = rowRange(g);
  return rows === 0 ? 0 : clamp((exact / rows) * range, 0, range);
}

/** Whether `scrollTop` is at the end of the list (within half a row). */
export function isAtBottom(scrollTop: number, g: ListGeometry): boolean {
  return scrollTop >= scrollRange(g) - g.rowHeight / 2;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}
