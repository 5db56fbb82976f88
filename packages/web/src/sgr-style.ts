// The graphic rendition a terminal keeps while it prints (SGR, `ESC[…m`): colours, bold, dim,
// italic, underline, strike, inverse and conceal, and the CSS a run printed under it gets.
// Colours are CSS values: the 16 basic ones are the theme's variables (`var(--ansi-red)` for text,
// `var(--ansi-red-bg)` for backgrounds, shades chosen so that the theme's text reads on them),
// 256-colour and true-colour ones their RGB value.

export interface TextStyle {
  /** A CSS colour for the text; undefined for the default foreground. */
  fg?: string;
  /** A CSS colour for the background; undefined for none. */
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  strikethrough?: boolean;
}

const NAMES = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];
const BASIC = [...NAMES, ...NAMES.map((name) => `bright-${name}`)];
const TEXT_VARS = BASIC.map((name) => `var(--ansi-${name})`);
const BACK_VARS = BASIC.map((name) => `var(--ansi-${name}-bg)`);
/** What inverse video swaps in for the default colours. */
const DEFAULT_FG = 'var(--log-fg)';
const DEFAULT_BG = 'var(--log-bg)';

/** A colour: 0–15 for the basic ones, an `rgb(…)` string, or -1 for the default. */
type Colour = number | string;

export interface SgrState {
  /** Applies one `ESC[…m`'s parameters (the text between `[` and `m`). */
  apply(params: string): void;
  /** The style of text printed now; undefined when plain. The same object until the state changes. */
  style(): TextStyle | undefined;
  /** Text printed now is concealed (SGR 8, until 28 or a reset). */
  readonly concealed: boolean;
}

export function createSgrState(): SgrState {
  let fg: Colour = -1;
  let bg: Colour = -1;
  let bold = false;
  let dim = false;
  let italic = false;
  let underline = false;
  let strike = false;
  let inverse = false;
  let conceal = false;
  let cached: TextStyle | undefined;
  let dirty = false;

  const reset = (): void => {
    fg = -1;
    bg = -1;
    bold = dim = italic = underline = strike = inverse = conceal = false;
  };

  /** Reads `5;n` or `2;r;g;b` at `values[at]` (just past a 38 or 48): the colour and how many values it took. */
  const extended = (values: readonly number[], at: number): [Colour | undefined, number] => {
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
  };

  /** One SGR code, with the values after it for 38 and 48; returns how many values after it it took. */
  const applyCode = (code: number, values: readonly number[], next: number): number => {
    if (code === 0) reset();
    else if (code === 1) bold = true;
    else if (code === 2) dim = true;
    else if (code === 3) italic = true;
    else if (code === 4 || code === 21) underline = true;
    else if (code === 7) inverse = true;
    else if (code === 8) conceal = true;
    else if (code === 9) strike = true;
    else if (code === 22) bold = dim = false;
    else if (code === 23) italic = false;
    else if (code === 24) underline = false;
    else if (code === 27) inverse = false;
    else if (code === 28) conceal = false;
    else if (code === 29) strike = false;
    else if (code >= 30 && code <= 37) fg = code - 30;
    else if (code === 39) fg = -1;
    else if (code >= 40 && code <= 47) bg = code - 40;
    else if (code === 49) bg = -1;
    else if (code >= 90 && code <= 97) fg = code - 90 + 8;
    else if (code >= 100 && code <= 107) bg = code - 100 + 8;
    else if (code === 38 || code === 48) {
      const [colour, used] = extended(values, next);
      if (colour !== undefined) {
        if (code === 38) fg = colour;
        else bg = colour;
      }
      return used;
    }
    // Anything else (blink, fonts, overline…) a page does not show.
    return 0;
  };

  const values: number[] = [];

  const applyParts = (parts: readonly string[]): void => {
    const numbers = parts.map((v) => (v === '' ? 0 : v.includes(':') ? NaN : Number(v)));
    for (let i = 0; i < parts.length; i++) {
      const value = numbers[i] as number;
      if (Number.isNaN(value)) applyColonGroup(parts[i] as string);
      else i += applyCode(value, numbers, i + 1);
    }
  };

  /** `38:2::r:g:b`, `38:5:n`, `4:3` (ITU T.416 sub-parameters): one code with its own values. */
  const applyColonGroup = (part: string): void => {
    const values = part.split(':').map((v) => (v === '' ? 0 : Number(v)));
    const code = values[0] ?? 0;
    if (code === 4) {
      underline = values[1] !== 0;
      return;
    }
    // The colon form of true colour may carry a colour-space id before r:g:b.
    if ((code === 38 || code === 48) && values[1] === 2 && values.length >= 6) values.splice(2, 1);
    applyCode(code, values, 1);
  };

  return {
    apply(params) {
      dirty = true;
      if (params.includes(':')) {
        applyParts(params.split(';'));
        return;
      }
      // The usual case, read without building arrays: numbers separated by ';', an empty one a 0.
      values.length = 0;
      let value = 0;
      for (let i = 0; i < params.length; i++) {
        const digit = params.charCodeAt(i) - 48;
        if (digit >= 0 && digit <= 9) value = value * 10 + digit;
        else {
          values.push(value);
          value = 0;
        }
      }
      values.push(value);
      for (let i = 0; i < values.length; i++) i += applyCode(values[i] as number, values, i + 1);
    },
    style() {
      if (!dirty) return cached;
      dirty = false;
      cached = resolve();
      return cached;
    },
    get concealed() {
      return conceal;
    },
  };

  function resolve(): TextStyle | undefined {
    const style: TextStyle = {};
    let text: string | undefined = fg === -1 ? undefined : typeof fg === 'number' ? TEXT_VARS[fg] : fg;
    let back: string | undefined = bg === -1 ? undefined : typeof bg === 'number' ? BACK_VARS[bg] : bg;
    if (inverse) {
      // The text takes the background's colour and the background the text's, defaults included.
      const newText = bg === -1 ? DEFAULT_BG : typeof bg === 'number' ? BACK_VARS[bg] : bg;
      back = fg === -1 ? DEFAULT_FG : typeof fg === 'number' ? TEXT_VARS[fg] : fg;
      text = newText;
    }
    if (!inverse && fg === 0 && typeof bg === 'number') {
      // Black text on a colour (`ls`'s 30;42): on the dark theme's deep backgrounds, made for its
      // white text, black would not read, so the background is lifted (see --ansi-lift-under-black).
      text = 'var(--ansi-black-on-colour)';
      back = `color-mix(in srgb, ${BACK_VARS[bg]}, white var(--ansi-lift-under-black))`;
    }
    if (text !== undefined) style.fg = text;
    if (back !== undefined) style.bg = back;
    if (bold) style.bold = true;
    if (dim) style.dim = true;
    if (italic) style.italic = true;
    if (underline) style.underline = true;
    if (strike) style.strikethrough = true;
    return Object.keys(style).length === 0 ? undefined : style;
  }
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
