// One row of the log as DOM: line link, timestamp, source and level tags, a mark on a cut line, and
// the message as a terminal prints it (styled runs, hyperlinks, control glyphs) with the search
// matches marked. Built with textContent only: log text is never HTML.
// The class names are the usage guide's (`log-entry level-ERROR`), so its colours apply.
import { ansiSegments, printedText, withoutBidiControls } from './ansi-segments.js';
import { element, formatCount } from './dom.js';
import { groupName } from './line-markers.js';
import { LINE_FLAGS, type LineStore } from './line-store.js';
import { markSegments, matchRanges } from './match-ranges.js';
import type { Segment, TerminalLink } from './terminal-runs.js';
import { formatDateTime, formatTime } from './time-format.js';

export interface RowContext {
  store: LineStore;
  showTimestamp: boolean;
  /** Marks the matches of the search; undefined without a query. */
  pattern: RegExp | undefined;
  /** Absolute index of the line holding the current match, -1 for none. */
  currentMatch: number;
  /** Seq of the line named in the address (#L123), 0 for none. */
  targetSeq: number;
  folded: ReadonlySet<number>;
  /** A section's duration and status, by the seq of its header, when the page knows them. */
  sectionInfo: ((seq: number) => SectionInfo | undefined) | undefined;
}

export interface SectionInfo {
  durationMs: number;
  status: 'open' | 'failed' | 'succeeded';
}

/** `850 ms`, `12.3 s`, `4 m 05 s`: a section's duration as its header shows it. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes} m ${String(seconds).padStart(2, '0')} s`;
}

export function renderRow(index: number, ctx: RowContext): HTMLElement {
  const { store } = ctx;
  const seq = store.seqAt(index);
  const level = store.levelAt(index);
  const source = store.sourceAt(index);
  const flags = store.flagsAt(index);
  const row = element('div', `log-entry level-${level} source-${source}`);
  row.dataset['seq'] = String(seq);
  if (index === ctx.currentMatch) row.classList.add('current-match');
  if (seq === ctx.targetSeq) row.classList.add('target');

  const link = element('a', 'ln', String(seq));
  link.href = `#L${seq}`;
  row.append(link);

  if (ctx.showTimestamp) {
    const time = store.timeAt(index);
    const stamp = element('span', 'ts', formatTime(time));
    stamp.title = formatDateTime(time);
    row.append(stamp);
  }
  row.append(element('span', `src src-${source}`, source.toUpperCase()), element('span', 'lvl', level));

  const message = store.messageAt(index);
  // At the start of the row, where it is seen without scrolling the line's 8,192 characters.
  if (flags & LINE_FLAGS.truncated) row.append(cutMark(message.length, store.originalLengthAt(index)));
  const text = element('span', 'msg');
  if (flags & LINE_FLAGS.groupStart) {
    const folded = ctx.folded.has(seq);
    row.classList.add('group-header');
    row.setAttribute('aria-expanded', String(!folded));
    row.prepend(element('span', 'fold', folded ? '▸' : '▾'));
    const name = flags & LINE_FLAGS.ansi ? printedText(groupName(message)) : withoutBidiControls(groupName(message));
    appendSegments(text, [{ text: name || '(section)' }], ctx.pattern);
    const info = ctx.sectionInfo?.(seq);
    if (info !== undefined) {
      row.classList.add(`section-${info.status}`);
      const duration = element('span', 'dur', info.status === 'open' ? `${formatDuration(info.durationMs)}…` : formatDuration(info.durationMs));
      duration.title = `section ${info.status}, ${formatDuration(info.durationMs)}`;
      row.append(text, duration);
      return row;
    }
  } else {
    if (store.groupAt(index) !== 0) row.classList.add('in-group');
    appendSegments(text, flags & LINE_FLAGS.ansi ? ansiSegments(message) : [{ text: withoutBidiControls(message) }], ctx.pattern);
  }
  row.append(text);
  return row;
}

/** `cut: 1,048,576 chars` (or `cut` when the original length is not known), with a title saying what it means. */
function cutMark(kept: number, original: number | undefined): HTMLElement {
  const known = original !== undefined && original > kept;
  const mark = element('span', 'cut', known ? `cut: ${formatCount(original)} chars` : 'cut');
  mark.title = known
    ? `This line had ${formatCount(original)} characters; only the first ${formatCount(kept)} were kept, the rest was cut off.`
    : `This line was too long: only its first ${formatCount(kept)} characters were kept, the rest was cut off.`;
  return mark;
}

function appendSegments(parent: HTMLElement, segments: Segment[], pattern: RegExp | undefined): void {
  const plain = segments.length === 1 && segments[0]?.style === undefined && segments[0]?.link === undefined && segments[0]?.control === undefined;
  const ranges = pattern === undefined ? [] : matchRanges(segments.map((s) => s.text).join(''), pattern);
  if (plain && ranges.length === 0) {
    parent.textContent = segments[0]?.text ?? '';
    return;
  }
  // Text a terminal styled is on the terminal's default foreground, the theme's text colour,
  // not the level's: vitest's ` FAIL ` on red is white (dark theme) or black (light), not green.
  if (segments.some((s) => s.style !== undefined)) parent.classList.add('term');
  /** Where the runs go: the message, or the `<a>` of the hyperlink the runs are in. */
  let into: HTMLElement = parent;
  let openLink: TerminalLink | undefined;
  for (const piece of markSegments(segments, ranges)) {
    if (piece.link !== openLink) {
      openLink = piece.link;
      into = openLink === undefined ? parent : linkElement(parent, openLink);
    }
    const style = piece.style;
    let node: Node;
    if (style === undefined && !piece.match && piece.control === undefined) {
      node = document.createTextNode(piece.text);
    } else {
      const span = element(piece.match ? 'mark' : 'span', piece.match ? 'match' : undefined, piece.text);
      if (piece.control !== undefined) {
        span.classList.add('ctrl');
        span.title = `control character ${piece.control}`;
      }
      if (style !== undefined) {
        // CSSOM properties, not a style attribute: allowed under the page's style-src 'self'.
        // A match keeps the match's colours, so that it stands out whatever the run's.
        if (style.fg !== undefined && !piece.match) span.style.color = style.fg;
        if (style.bg !== undefined && !piece.match) span.style.backgroundColor = style.bg;
        if (style.bold === true) span.classList.add('ansi-bold');
        if (style.dim === true) span.classList.add('ansi-dim');
        if (style.italic === true) span.classList.add('ansi-italic');
        if (style.underline === true) span.classList.add('ansi-underline');
        if (style.strikethrough === true) span.classList.add('ansi-strikethrough');
      }
      node = span;
    }
    into.append(node);
  }
}

/** A terminal hyperlink, opened in a new tab that gets neither this page nor its address. */
function linkElement(parent: HTMLElement, link: TerminalLink): HTMLElement {
  const anchor = element('a', 'term-link');
  anchor.href = link.href;
  anchor.rel = 'noopener noreferrer';
  anchor.target = '_blank';
  anchor.title = link.href;
  parent.append(anchor);
  return anchor;
}
