// The virtual list's arithmetic: rows in view for a scroll position, the scroll position for a
// row, exact below the browsers' height limit and scaled above it.
import { describe, expect, it } from 'vitest';
import { contentHeight, isAtBottom, scrollTopForRow, visibleRows, type ListGeometry } from '../src/virtual-range.js';

const small: ListGeometry = { rowCount: 1000, rowHeight: 20, viewportHeight: 400, maxScrollHeight: 15_000_000 };
const huge: ListGeometry = { rowCount: 2_000_000, rowHeight: 20, viewportHeight: 400, maxScrollHeight: 15_000_000 };

describe('virtual range', () => {
  it('maps pixels to rows exactly while the list fits under the height limit', () => {
    expect(contentHeight(small)).toBe(20_000);
    expect(visibleRows(0, small)).toEqual({ first: 0, end: 21, offset: -0 });
    expect(visibleRows(210, small)).toEqual({ first: 10, end: 31, offset: -10 });
    expect(visibleRows(99_999, small).end).toBe(1000);
    expect(scrollTopForRow(10, small)).toBe(200);
    expect(scrollTopForRow(500, small, 0.5)).toBe(500 * 20 - 200);
    expect(scrollTopForRow(999, small)).toBe(20_000 - 400);
    expect(isAtBottom(19_600, small)).toBe(true);
    expect(isAtBottom(19_500, small)).toBe(false);
  });

  it('scales past the limit: the top and the bottom are reachable and a row round-trips', () => {
    expect(contentHeight(huge)).toBe(15_000_000);
    expect(visibleRows(0, huge).first).toBe(0);
    const bottom = visibleRows(15_000_000 - 400, huge);
    expect(bottom.end).toBe(2_000_000);
    expect(bottom.first).toBe(2_000_000 - 20);
    for (const row of [1, 12_345, 1_000_000, 1_999_000]) {
      expect(visibleRows(scrollTopForRow(row, huge), huge).first).toBe(row);
    }
    expect(isAtBottom(15_000_000 - 400, huge)).toBe(true);
  });

  it('draws nothing for an empty list and one row for a tiny viewport', () => {
    expect(visibleRows(0, { ...small, rowCount: 0 })).toEqual({ first: 0, end: 0, offset: 0 });
    expect(visibleRows(0, { ...small, viewportHeight: 5 }).end).toBe(2);
  });
});
