// The runs a terminal has printed so far on a line, as the escape reader finds them: text under
// the current SGR style and hyperlink, control characters as caret glyphs (`^G`) instead of the
// boxes a font would draw, backspace and carriage return applied.
import { createSgrState, type TextStyle } from './sgr-style.js';

/** An OSC 8 hyperlink; the runs inside one link share the same object. */
export interface TerminalLink {
  /** An http: or https: address, normalised by the URL parser. */
  href: string;
}

export interface Segment {
  text: string;
  style?: TextStyle;
  link?: TerminalLink;
  /** A control character shown as `text` (`^G`); this names it (`BEL, U+0007`). */
  control?: string;
}

const C0_NAMES = 'NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN EM SUB ESC FS GS RS US'.split(' ');
const C1_NAMES = 'PAD HOP BPH NBH IND NEL SSA ESA HTS HTJ VTS PLD PLU RI SS2 SS3 DCS PU1 PU2 STS CCH MW SPA EPA SOS SGCI SCI CSI ST OSC PM APC'.split(' ');

/** `^G` for BEL, `^?` for DEL, and `M-^[` for the C1 control 0x9B, as `cat -v` shows them. */
function controlGlyph(code: number): Segment {
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  if (code === 0x7f) return { text: '^?', control: `DEL, U+${hex}` };
  if (code < 0x20) return { text: `^${String.fromCharCode(code + 64)}`, control: `${C0_NAMES[code]}, U+${hex}` };
  return { text: `M-^${String.fromCharCode(code - 0x80 + 64)}`, control: `${C1_NAMES[code - 0x80]}, U+${hex}` };
}

function isLowSurrogate(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code >= 0xdc00 && code <= 0xdfff && index > 0;
}

export interface TerminalRuns {
  /** Text printed under the current style and link. */
  print(text: string): void;
  /** An SGR escape's parameters (between `ESC[` and `m`): the style of what is printed next. */
  applySgr(params: string): void;
  /** An OSC 8 opened a link to this address, or closed one (undefined). */
  setLink(link: TerminalLink | undefined): void;
  /** Backspace: the character before goes. */
  backspace(): void;
  /** A carriage return inside the line: what came before is gone. */
  restart(): void;
  /** A control character, shown as its glyph. */
  control(code: number): void;
  /** The runs, once the whole line is read. */
  finish(): Segment[];
}

export function createTerminalRuns(): TerminalRuns {
  const sgr = createSgrState();
  const segments: Segment[] = [];
  let link: TerminalLink | undefined;
  /** Printed text not yet in a segment, under the current style and link. */
  let pending = '';

  const flush = (): void => {
    if (pending === '') return;
    const text = sgr.concealed ? ' '.repeat(pending.length) : pending;
    const style = sgr.style();
    const segment: Segment = { text };
    if (style !== undefined) segment.style = style;
    if (link !== undefined) segment.link = link;
    segments.push(segment);
    pending = '';
  };

  return {
    print(text) {
      pending += text;
    },
    applySgr(params) {
      flush();
      sgr.apply(params);
    },
    setLink(next) {
      flush();
      link = next;
    },
    backspace() {
      // A terminal moves back one cell for the next character to overwrite: the one before goes.
      if (pending !== '') {
        pending = pending.slice(0, isLowSurrogate(pending, pending.length - 1) ? -2 : -1);
        return;
      }
      const last = segments.at(-1);
      if (last === undefined) return;
      if (last.control !== undefined || last.text.length <= 1 || (last.text.length === 2 && isLowSurrogate(last.text, 1))) {
        segments.pop();
        return;
      }
      last.text = last.text.slice(0, isLowSurrogate(last.text, last.text.length - 1) ? -2 : -1);
    },
    restart() {
      pending = '';
      segments.length = 0;
    },
    control(code) {
      flush();
      const glyph = controlGlyph(code);
      if (link !== undefined) glyph.link = link;
      segments.push(glyph);
    },
    finish() {
      flush();
      return segments;
    },
  };
}
