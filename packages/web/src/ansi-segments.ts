// A message with ANSI escapes as styled runs of plain text, read by anser (the parser that
// ansi_up grew into) in its JSON mode: no HTML is ever produced from log text. The 16 basic
// colours become classes, so that each theme picks its own shades; 256-colour and true-colour
// runs carry their RGB value.
import Anser from 'anser';

export interface TextStyle {
  /** A class such as `ansi-red-fg`, or undefined. */
  fgClass?: string;
  bgClass?: string;
  /** An `rgb(r, g, b)` colour for 256-colour and true-colour runs. */
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  strikethrough?: boolean;
}

export interface Segment {
  text: string;
  style?: TextStyle;
}

/**
 * Bidirectional controls (LRO, RLO, isolates, marks) can make a line read as something else
 * ("Trojan Source"); each is shown as U+FFFD instead, one character for one, so that match
 * positions still line up with the stored message.
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function withoutBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, '\ufffd');
}

/** The message as runs of text and their style; a message without escapes is one plain run. */
export function ansiSegments(raw: string): Segment[] {
  const message = withoutBidiControls(raw);
  if (!message.includes('\u001b')) return [{ text: message }];
  const parsed = Anser.ansiToJson(message, { json: true, use_classes: true, remove_empty: true });
  const segments: Segment[] = [];
  for (const part of parsed) {
    if (part.content === '') continue;
    const style = styleOf(part);
    segments.push(style === undefined ? { text: part.content } : { text: part.content, style });
  }
  return segments;
}

function styleOf(part: Anser.AnserJsonEntry): TextStyle | undefined {
  const style: TextStyle = {};
  let styled = false;
  const fg = colour(part.fg, part.fg_truecolor);
  if (fg !== undefined) {
    if (fg.kind === 'class') style.fgClass = `${fg.value}-fg`;
    else style.fg = fg.value;
    styled = true;
  }
  const bg = colour(part.bg, part.bg_truecolor);
  if (bg !== undefined) {
    if (bg.kind === 'class') style.bgClass = `${bg.value}-bg`;
    else style.bg = bg.value;
    styled = true;
  }
  for (const decoration of part.decorations) {
    if (decoration === 'bold' || decoration === 'dim' || decoration === 'italic' || decoration === 'underline' || decoration === 'strikethrough') {
      style[decoration] = true;
      styled = true;
    }
  }
  return styled ? style : undefined;
}

type Colour = { kind: 'class'; value: string } | { kind: 'rgb'; value: string };

function colour(name: string | null, truecolor: string | null): Colour | undefined {
  if (name === null || name === '') return undefined;
  // anser keeps the last true colour after a reset: it only counts with the `ansi-truecolor` class.
  if (name === 'ansi-truecolor') return truecolor === null ? undefined : { kind: 'rgb', value: `rgb(${truecolor})` };
  const palette = /^ansi-palette-(\d+)$/.exec(name);
  if (palette !== null) return { kind: 'rgb', value: xtermColour(Number(palette[1])) };
  return { kind: 'class', value: name };
}

const CUBE = [0, 95, 135, 175, 215, 255];

/** Colours 16–255 of the xterm palette: a 6×6×6 cube, then 24 greys. */
export function xtermColour(index: number): string {
  if (index >= 232) {
    const grey = 8 + (index - 232) * 10;
    return `rgb(${grey}, ${grey}, ${grey})`;
  }
  const n = index - 16;
  return `rgb(${CUBE[Math.floor(n / 36) % 6]}, ${CUBE[Math.floor(n / 6) % 6]}, ${CUBE[n % 6]})`;
}
