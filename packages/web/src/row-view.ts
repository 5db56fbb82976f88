// One row of the log as DOM: line link, timestamp, source and level tags, and the message as
// styled runs with the search matches marked. Built with textContent only: log text is never HTML.
// The class names are the usage guide's (`log-entry level-ERROR`), so its colours apply.
import { ansiSegments, withoutBidiControls, type Segment } from './ansi-segments.js';
import { element } from './dom.js';
import { groupName } from './line-markers.js';
import { LINE_FLAGS, type LineStore } from './line-store.js';
import { markSegments, matchRanges } from './match-ranges.js';
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
  const text = element('span', 'msg');
  if (flags & LINE_FLAGS.groupStart) {
    const folded = ctx.folded.has(seq);
    row.classList.add('group-header');
    row.setAttribute('aria-expanded', String(!folded));
    row.prepend(element('span', 'fold', folded ? '▸' : '▾'));
    appendSegments(text, [{ text: withoutBidiControls(groupName(message)) || '(section)' }], ctx.pattern);
  } else {
    if (store.groupAt(index) !== 0) row.classList.add('in-group');
    appendSegments(text, flags & LINE_FLAGS.ansi ? ansiSegments(message) : [{ text: withoutBidiControls(message) }], ctx.pattern);
  }
  row.append(text);
  if (flags & LINE_FLAGS.truncated) {
    const mark = element('span', 'truncated', '[truncated]');
    mark.title = 'The line was longer than the server keeps; the rest was cut.';
    row.append(mark);
  }
  return row;
}

function appendSegments(parent: HTMLElement, segments: Segment[], pattern: RegExp | undefined): void {
  const plain = segments.length === 1 && segments[0]?.style === undefined;
  const ranges = pattern === undefined ? [] : matchRanges(segments.map((s) => s.text).join(''), pattern);
  if (plain && ranges.length === 0) {
    parent.textContent = segments[0]?.text ?? '';
    return;
  }
  for (const piece of markSegments(segments, ranges)) {
    const style = piece.style;
    let node: Node;
    if (style === undefined && !piece.match) {
      node = document.createTextNode(piece.text);
    } else {
      const span = element(piece.match ? 'mark' : 'span', piece.match ? 'match' : undefined, piece.text);
      if (style !== undefined) {
        if (style.fgClass !== undefined) span.classList.add(style.fgClass);
        if (style.bgClass !== undefined) span.classList.add(style.bgClass);
        // CSSOM properties, not a style attribute: allowed under the page's style-src 'self'.
        if (style.fg !== undefined) span.style.color = style.fg;
        if (style.bg !== undefined) span.style.backgroundColor = style.bg;
        if (style.bold === true) span.classList.add('ansi-bold');
        if (style.dim === true) span.classList.add('ansi-dim');
        if (style.italic === true) span.classList.add('ansi-italic');
        if (style.underline === true) span.classList.add('ansi-underline');
        if (style.strikethrough === true) span.classList.add('ansi-strikethrough');
      }
      node = span;
    }
    parent.append(node);
  }
}
