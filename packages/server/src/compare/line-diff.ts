// A line diff (Myers' O((N+M)·D) algorithm) of two arrays of already normalised lines, with the
// common head and tail taken off first: two runs of one job differ in few lines, so D is small.
// Past `maxEdits` differences the rest is given as one replaced block instead (bounded time and
// memory for two logs that have little in common).

export type DiffOp = 'same' | 'removed' | 'added';

export interface DiffStep {
  op: DiffOp;
  /** Index in `a` (for same and removed). */
  a?: number;
  /** Index in `b` (for same and added). */
  b?: number;
}

export function diffLines(a: readonly string[], b: readonly string[], maxEdits = 1000): DiffStep[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
  const steps: DiffStep[] = [];
  for (let i = 0; i < head; i += 1) steps.push({ op: 'same', a: i, b: i });
  steps.push(...middle(a, b, head, a.length - tail, head, b.length - tail, maxEdits));
  for (let i = tail; i > 0; i -= 1) steps.push({ op: 'same', a: a.length - i, b: b.length - i });
  return steps;
}

/** Myers on a[aFrom, aTo) and b[bFrom, bTo). */
function middle(a: readonly string[], b: readonly string[], aFrom: number, aTo: number, bFrom: number, bTo: number, maxEdits: number): DiffStep[] {
  const n = aTo - aFrom;
  const m = bTo - bFrom;
  if (n === 0 && m === 0) return [];
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max; d += 1) {
    trace.push(v.slice());
    const next = v;
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number)) ? (v[offset + k + 1] as number) : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[aFrom + x] === b[bFrom + y]) {
        x += 1;
        y += 1;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    v = next;
    if (found >= 0) break;
  }
  if (found < 0) {
    // Too different: one block of removed lines, then one of added ones.
    const steps: DiffStep[] = [];
    for (let i = aFrom; i < aTo; i += 1) steps.push({ op: 'removed', a: i });
    for (let j = bFrom; j < bTo; j += 1) steps.push({ op: 'added', b: j });
    return steps;
  }
  // Back through the trace, from the end to the start.
  const reversed: DiffStep[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d -= 1) {
    const before = trace[d] as Int32Array;
    const k = x - y;
    const down = k === -d || (k !== d && (before[offset + k - 1] as number) < (before[offset + k + 1] as number));
    const prevK = down ? k + 1 : k - 1;
    const prevX = before[offset + prevK] as number;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x -= 1;
      y -= 1;
      reversed.push({ op: 'same', a: aFrom + x, b: bFrom + y });
    }
    if (down) {
      y -= 1;
      reversed.push({ op: 'added', b: bFrom + y });
    } else {
      x -= 1;
      reversed.push({ op: 'removed', a: aFrom + x });
    }
  }
  while (x > 0 && y > 0) {
    x -= 1;
    y -= 1;
    reversed.push({ op: 'same', a: aFrom + x, b: bFrom + y });
  }
  return reversed.reverse();
}
