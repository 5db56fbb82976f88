// A growing, sorted list of absolute line indices in one typed array: the rows a view shows, or
// the lines a search matched. Appends at the end, drops from the front, finds by binary search.

export interface IndexList {
  readonly length: number;
  at(position: number): number;
  last(): number | undefined;
  push(index: number): void;
  pop(): number | undefined;
  clear(): void;
  /** Removes the entries below `index` (lines dropped from the store); returns how many. */
  dropBelow(index: number): number;
  /** Position of the first entry ≥ `index` (`length` when none). */
  lowerBound(index: number): number;
}

export function createIndexList(initialCapacity = 1024): IndexList {
  let items = new Float64Array(initialCapacity);
  /** Entries before `start` were dropped; compacted lazily. */
  let start = 0;
  let end = 0;

  const grow = (): void => {
    const count = end - start;
    const next = new Float64Array(Math.max(initialCapacity, count * 2));
    next.set(items.subarray(start, end));
    items = next;
    start = 0;
    end = count;
  };

  const list: IndexList = {
    get length() {
      return end - start;
    },
    at: (position) => items[start + position] as number,
    last: () => (end > start ? (items[end - 1] as number) : undefined),
    push(index) {
      if (end === items.length) grow();
      items[end++] = index;
    },
    pop() {
      if (end === start) return undefined;
      end -= 1;
      return items[end] as number;
    },
    clear() {
      start = 0;
      end = 0;
    },
    dropBelow(index) {
      const position = list.lowerBound(index);
      start += position;
      if (start === end) {
        start = 0;
        end = 0;
      }
      return position;
    },
    lowerBound(index) {
      let lo = start;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((items[mid] as number) < index) lo = mid + 1;
        else hi = mid;
      }
      return lo - start;
    },
  };
  return list;
}
