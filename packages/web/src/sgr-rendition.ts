// The graphic rendition a terminal keeps while it prints, and what each SGR code (`ESC[…m`) does
// to it: colours (the 16 basic ones, the xterm 256-colour palette, true colour), bold, dim,
// italic, underline, strike, inverse and conceal.

/** A colour: 0–15 for the basic ones, an `rgb(…)` string, or -1 for the default. */
export type Colour = number | string;

export interface Rendition {
  fg: Colour;
  bg: Colour;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  strike: boolean;
  inverse: boolean;
  conceal: boolean;
}

export function createRendition(): Rendition {
  return { fg: -1, bg: -1, bold: false, dim: false, italic: false, underline: false, strike: false, inverse: false, conceal: false };
}

function reset(r: Rendition): void {
  r.fg = -1;
  r.bg = -1;
  r.bold = r.dim = r.italic = r.underline = r.strike = r.inverse = r.conceal = false;
}

/** Reads `5;n` or `2;r;g;b` at `values[at]` (just past a 38 or 48): the colour and how many values it took. */
function extendedColour(values: readonly number[], at: number): [Colour | undefined, number] {
  const mode = values[at];
  if (mode === 5) {
    const index = values[at + 1];
    if (index === undefined || index < 0 || index > 255) return [undefined, 2];
    return [index < 16 ? index : xtermColour(index), 2];
  }
  if (mode === 2) {
    const [r, g, b] = [values[at + 1], values[at + 2], values[at + 3]].map((v) => Math.min(255, Math.max(0, v ?? 0)));
    return [`rgb(${r}, ${g}, ${b})`, 4];
  }
  return [undefined, 1];
}

/** Applies one SGR code, with the values after it (from `next`) for 38 and 48; returns how many of those it took. */
export function applySgrCode(r: Rendition, code: number, values: readonly number[], next: number): number {
  if (code === 0) reset(r);
  else if (code === 1) r.bold = true;
  else if (code === 2) r.dim = true;
  else if (code === 3) r.italic = true;
  else if (code === 4 || code === 21) r.underline = true;
  else if (code === 7) r.inverse = true;
  else if (code === 8) r.conceal = true;
  else if (code === 9) r.strike = true;
  else if (code === 22) r.bold = r.dim = false;
  else if (code === 23) r.italic = false;
  else if (code === 24) r.underline = false;
  else if (code === 27) r.inverse = false;
  else if (code === 28) r.conceal = false;
  else if (code === 29) r.strike = false;
  else if (code >= 30 && code <= 37) r.fg = code - 30;
  else if (code === 39) r.fg = -1;
  else if (code >= 40 && code <= 47) r.bg = code - 40;
  else if (code === 49) r.bg = -1;
  else if (code >= 90 && code <= 97) r.fg = code - 90 + 8;
  else if (code >= 100 && code <= 107) r.bg = code - 100 + 8;
  else if (code === 38 || code === 48) {
    const [colour, used] = extendedColour(values, next);
    if (colour !== undefined) {
      if (code === 38) r.fg = colour;
      else r.bg = colour;
    }
    return used;
  }
  // Anything else (blink, fonts, overline…) a page does not show.
  return 0;
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
