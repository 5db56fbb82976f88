// Log text as the page shows it: ANSI runs (anser in JSON mode), match ranges and runs cut at
// their edges, section markers, and what the address asks for.
import { describe, expect, it } from 'vitest';
import { ansiSegments, xtermColour } from '../src/ansi-segments.js';
import { groupName, lineMarker, stripAnsi } from '../src/line-markers.js';
import { markSegments, matchRanges, queryPattern } from '../src/match-ranges.js';
import { DEFAULT_TAIL, lineFromHash, readPageOptions } from '../src/page-options.js';

describe('ANSI runs', () => {
  it('turns colours and styles into classes and RGB, keeping the text as text', () => {
    expect(ansiSegments('plain <b>')).toEqual([{ text: 'plain <b>' }]);
    expect(ansiSegments('a\u001b[1;31mred\u001b[0m\u001b[38;5;21mpal\u001b[48;2;1;2;3mtc\u001b[0m')).toEqual([
      { text: 'a' },
      { text: 'red', style: { fgClass: 'ansi-red-fg', bold: true } },
      { text: 'pal', style: { fg: 'rgb(0, 0, 255)' } },
      { text: 'tc', style: { fg: 'rgb(0, 0, 255)', bg: 'rgb(1, 2, 3)' } },
    ]);
    expect(xtermColour(232)).toBe('rgb(8, 8, 8)');
    expect(xtermColour(196)).toBe('rgb(255, 0, 0)');
    expect(stripAnsi('\u001b[2K\u001b[1G\u001b[32mok\u001b[0m \u001b]0;title\u0007done')).toBe('ok done');
  });
});

describe('matches', () => {
  it('finds every case-insensitive occurrence and cuts styled runs at the edges', () => {
    const pattern = queryPattern('ab');
    expect(matchRanges('xABxab', pattern)).toEqual([{ start: 1, end: 3 }, { start: 4, end: 6 }]);
    expect(matchRanges('a.b', queryPattern('.'))).toEqual([{ start: 1, end: 2 }]);
    const red = { fgClass: 'ansi-red-fg' };
    expect(markSegments([{ text: 'xA' }, { text: 'Bx', style: red }], matchRanges('xABx', pattern))).toEqual([
      { text: 'x', match: false },
      { text: 'A', match: true },
      { text: 'B', match: true, style: red },
      { text: 'x', match: false, style: red },
    ]);
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
