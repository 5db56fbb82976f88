// The rows the virtual list has in the DOM: those in view, each element kept while its row stays
// in view, and all of them made again only when what they look like changed.
import type { VirtualListOptions } from './virtual-list.js';

export interface DrawnRows {
  /** Puts the rows [first, end) in `inner`, moved down `offset` pixels, reusing the rows drawn already. */
  draw(first: number, end: number, offset: number): void;
  /** Forgets every drawn row: the next drawing makes them all again, even for the same keys. */
  invalidate(): void;
}

export function createDrawnRows(inner: HTMLElement, options: Pick<VirtualListOptions, 'keyOf' | 'renderRow'>): DrawnRows {
  let drawn = new Map<number, HTMLElement>();
  let drawnKeys: number[] = [];
  /** The drawn rows must all be replaced, even by the same keys. */
  let stale = false;

  return {
    draw(first, end, offset) {
      const next = new Map<number, HTMLElement>();
      const keys: number[] = [];
      let same = !stale && end - first === drawnKeys.length;
      for (let row = first; row < end; row++) {
        const key = options.keyOf(row);
        if (same && drawnKeys[row - first] !== key) same = false;
        keys.push(key);
        next.set(key, drawn.get(key) ?? options.renderRow(row));
      }
      inner.style.transform = `translateY(${offset}px)`;
      if (!same) inner.replaceChildren(...next.values());
      drawn = next;
      drawnKeys = keys;
      stale = false;
    },
    invalidate() {
      drawn = new Map();
      drawnKeys = [];
      stale = true;
    },
  };
}
