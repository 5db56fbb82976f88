// Log text as the page shows it: match ranges and runs cut at their edges, the xterm palette,
// section markers, and what the address asks for (terminal output: terminal-text.test.ts).
import { describe, expect, it } from 'vitest';
import { groupName, lineMarker } from '../src/line-markers.js';
import { xtermColour } from '../src/sgr-rendition.js';
import { markSegments, matchRanges, queryPattern } from '../src/match-ranges.js';
import { DEFAULT_TAIL, lineFromHash, readPageOptions } from '../src/page-options.js';

describe('matches', () => {
  it('finds every case-insensitive occurrence and cuts styled runs at the edges', () => {
    const pattern = queryPattern('ab');
    expect(matchRanges('xABxab', pattern)).toEqual([{ start: 1, end: 3 }, { start: 4, end: 6 }]);
    expect(matchRanges('a.b', queryPattern('.'))).toEqual([{ start: 1, end: 2 }]);
    const red = { fg: 'var(--ansi-red)' };
    expect(markSegments([{ text: 'xA' }, { text: 'Bx', style: red }], matchRanges('xABx', pattern))).toEqual([
      { text: 'x', match: false },
      { text: 'A', match: true },
      { text: 'B', match: true, style: red },
      { text: 'x', match: false, style: red },
    ]);
  });
});

describe('xterm palette', () => {
  it('gives colours 16–255 as the 6×6×6 cube and the 24 greys', () => {
    expect(xtermColour(232)).toBe('rgb(8, 8, 8)');
    expect(xtermColour(196)).toBe('rgb(255, 0, 0)');
  });
});

describe('section markers', () => {
  it('knows ::group:: and ::endgroup:: lines', () => {
    expect(lineMarker('::group::Build it')).toBe('group-start');
    expect(groupName('::group::Build it ')).toBe('Build it');
    expect(lineMarker('::endgroup::')).toBe('group-end');
    expect(lineMarker(' ::group::x')).toBeUndefined();
    expect(lineMarker('::warning::x')).toBeUndefined();
  });
});

describe('page options', () => {
  it('reads taskId, tail, since, the line of the hash, filters, query and theme', () => {
    expect(readPageOptions({ search: '', hash: '' })).toMatchObject({ taskId: 'demo-task', start: { tail: DEFAULT_TAIL }, lineSeq: 0 });
    expect(readPageOptions({ search: '?taskId=job-1&since=0', hash: '' }).start).toEqual({ since: 0 });
    expect(readPageOptions({ search: '?taskId=job-1&tail=5', hash: '#L3000' })).toMatchObject({ start: { since: 1999 }, lineSeq: 3000 });
    expect(readPageOptions({ search: '?tail=999999', hash: '' }).start).toEqual({ tail: 100_000 });
    expect(readPageOptions({ search: '?source=stderr,bogus&level=error&q=boom&theme=light', hash: '' })).toMatchObject({
      sources: ['stderr'],
      levels: ['ERROR'],
      query: 'boom',
      theme: 'light',
    });
    expect(readPageOptions({ search: '?taskId=../etc', hash: '' })).toMatchObject({ taskId: 'demo-task', invalidTaskId: '../etc' });
    expect(lineFromHash('#L12')).toBe(12);
    expect(lineFromHash('#L')).toBe(0);
    expect(lineFromHash('#x12')).toBe(0);
  });
});
