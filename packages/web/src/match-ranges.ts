// Search matches in a line's text, and a line's styled runs cut where the matches begin and end,
// so that every match can be marked without losing the ANSI colours around it.
import type { TextStyle } from './sgr-style.js';
import type { Segment, TerminalLink } from './terminal-runs.js';

/** A case-insensitive matcher for plain text (no pattern syntax), or undefined for an empty query. */
export function queryPattern(query: string): RegExp | undefined {
  if (query === '') return undefined;
  return new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'giu');
}

export interface Range {
  start: number;
  end: number;
}

export function matchRanges(text: string, pattern: RegExp | undefined): Range[] {
  if (pattern === undefined) return [];
  const ranges: Range[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    if (m[0] === '') {
      pattern.lastIndex += 1;
      continue;
    }
    ranges.push({ start: m.index, end: m.index + m[0].length });
  }
  return ranges;
}

export interface MarkedSegment {
  text: string;
  style?: TextStyle;
  link?: TerminalLink;
  control?: string;
  /** Inside a search match. */
  match: boolean;
}

/** The runs, split at the edges of `ranges` (sorted, not overlapping), each marked in or out of a match. */
export function markSegments(segments: readonly Segment[], ranges: readonly Range[]): MarkedSegment[] {
  const out: MarkedSegment[] = [];
  let offset = 0;
  let r = 0;
  for (const segment of segments) {
    const segEnd = offset + segment.text.length;
    let cursor = offset;
    while (cursor < segEnd) {
      while (r < ranges.length && (ranges[r] as Range).end <= cursor) r += 1;
      const range = ranges[r];
      let stop: number;
      let match: boolean;
      if (range === undefined || range.start >= segEnd) {
        stop = segEnd;
        match = false;
      } else if (range.start > cursor) {
        stop = range.start;
        match = false;
      } else {
        stop = Math.min(range.end, segEnd);
        match = true;
      }
      const piece: MarkedSegment = { text: segment.text.slice(cursor - offset, stop - offset), match };
      if (segment.style !== undefined) piece.style = segment.style;
      if (segment.link !== undefined) piece.link = segment.link;
      if (segment.control !== undefined) piece.control = segment.control;
      out.push(piece);
      cursor = stop;
    }
    offset = segEnd;
  }
  return out;
}
