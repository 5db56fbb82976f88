// What the compare ignores and how it aligns: the normalisation of a line and the line diff.
import { describe, expect, it } from 'vitest';
import { diffLines } from '../src/compare/line-diff.js';
import { normaliseLine } from '../src/compare/normalize-line.js';

describe('normaliseLine', () => {
  it.each([
    ['took 12.3 s at 2024-05-01T10:00:00.123Z', 'took <n> at <n>-<n>-<n>T<n>:<n>:<n>Z'],
    ['[10:04:59.120] started', '[<n>:<n>:<n>] started'],
    ['container 3f9a2c1e0b ready, commit 0x1fA9', 'container <n> ready, commit <n>'],
    ['request 123e4567-e89b-12d3-a456-426614174000 done', 'request <n> done'],
    ['added 1402 packages in 9m', 'added <n> packages in <n>'],
    ['\u001b[31mFAIL\u001b[39m b.test.ts', 'FAIL b.test.ts'],
    ['deadbeef stays a word, cafe too', 'deadbeef stays a word, cafe too'],
  ])('%j → %j', (line, normalised) => {
    expect(normaliseLine(line)).toBe(normalised);
  });

  it('reads a line of 8,192 hex letters once (it was quadratic: 54 ms of backtracking a line)', () => {
    const line = 'a'.repeat(8192);
    expect(normaliseLine(line)).toBe(line);
    expect(normaliseLine(`${line}1`)).toBe('<n>');
  });

  it('makes two runs\' timestamps, durations and ids equal, and keeps what differs', () => {
    const same = [
      ['done in 12.3 s (850ms) at 2024-05-01T10:00:00Z', 'done in 9 s (1200ms) at 2024-06-30T23:59:59Z'],
      ['runner 3f9a2c1 uuid 123e4567-e89b-12d3-a456-426614174000', 'runner 77ab0e9 uuid 00000000-aaaa-4bbb-8ccc-ffffffffffff'],
    ];
    for (const [a, b] of same) expect(normaliseLine(a as string)).toBe(normaliseLine(b as string));
    expect(normaliseLine('PASS a.test.ts')).not.toBe(normaliseLine('FAIL a.test.ts'));
  });
});

describe('diffLines', () => {
  const ops = (a: string[], b: string[]) => diffLines(a, b).map((s) => `${s.op[0]}${s.a ?? ''}:${s.b ?? ''}`);

  it('gives a shortest edit script', () => {
    expect(ops(['a', 'b', 'c'], ['a', 'x', 'c'])).toEqual(['s0:0', 'r1:', 'a:1', 's2:2']);
    expect(ops([], ['a'])).toEqual(['a:0']);
    expect(ops(['a'], [])).toEqual(['r0:']);
    expect(ops(['a', 'b'], ['a', 'b'])).toEqual(['s0:0', 's1:1']);
  });

  it('keeps every line of both sides in order', () => {
    const a = Array.from({ length: 300 }, (_, i) => `line ${i % 17}`);
    const b = Array.from({ length: 280 }, (_, i) => `line ${(i * 3) % 19}`);
    const steps = diffLines(a, b);
    expect(steps.filter((s) => s.a !== undefined).map((s) => s.a)).toEqual(a.map((_, i) => i));
    expect(steps.filter((s) => s.b !== undefined).map((s) => s.b)).toEqual(b.map((_, i) => i));
    for (const s of steps) if (s.op === 'same') expect(a[s.a as number]).toBe(b[s.b as number]);
  });

  it('gives up on alignment past maxEdits, as one removed and one added block', () => {
    const a = Array.from({ length: 50 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 50 }, (_, i) => `b${i}`);
    const steps = diffLines(a, b, 10);
    expect(steps.map((s) => s.op)).toEqual([...Array<string>(50).fill('removed'), ...Array<string>(50).fill('added')]);
  });
});
