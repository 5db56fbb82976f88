// Reading the SGR escapes (`ESC[…m`) a terminal prints into its graphic rendition
// (sgr-rendition.ts), and the CSS a run printed under it gets. Colours are CSS values: the 16
// basic ones are the theme's variables (`var(--ansi-red)` for text, `var(--ansi-red-bg)` for
// backgrounds, shades chosen so that the theme's text reads on them), 256-colour and true-colour
// ones their RGB value.
import { applySgrCode, createRendition, type Rendition } from './sgr-rendition.js';

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

export interface SgrState {
  /** Applies one `ESC[…m`'s parameters (the text between `[` and `m`). */
  apply(params: string): void;
  /** The style of text printed now; undefined when plain. The same object until the state changes. */
  style(): TextStyle | undefined;
  /** Text printed now is concealed (SGR 8, until 28 or a reset). */
  readonly concealed: boolean;
}

export function createSgrState(): SgrState {
  const rendition = createRendition();
  let cached: TextStyle | undefined;
  let dirty = false;
  /** The values of the `ESC[…m` being read: one array for all, so that the usual escape builds none. */
  const values: number[] = [];

  const applyParts = (parts: readonly string[]): void => {
    const numbers = parts.map((v) => (v === '' ? 0 : v.includes(':') ? NaN : Number(v)));
    for (let i = 0; i < parts.length; i++) {
      const value = numbers[i] as number;
      if (Number.isNaN(value)) applyColonGroup(parts[i] as string);
      else i += applySgrCode(rendition, value, numbers, i + 1);
    }
  };

  /** `38:2::r:g:b`, `38:5:n`, `4:3` (ITU T.416 sub-parameters): one code with its own values. */
  const applyColonGroup = (part: string): void => {
    const values = part.split(':').map((v) => (v === '' ? 0 : Number(v)));
    const code = values[0] ?? 0;
    if (code === 4) {
      rendition.underline = values[1] !== 0;
      return;
    }
    // The colon form of true colour may carry a colour-space id before r:g:b.
    if ((code === 38 || code === 48) && values[1] === 2 && values.length >= 6) values.splice(2, 1);
    applySgrCode(rendition, code, values, 1);
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
      for (let i = 0; i < values.length; i++) i += applySgrCode(rendition, values[i] as number, values, i + 1);
    },
    style() {
      if (!dirty) return cached;
      dirty = false;
      cached = styleOf(rendition);
      return cached;
    },
    get concealed() {
      return rendition.conceal;
    },
  };
}

/** The CSS of text printed under the rendition; undefined when plain. */
function styleOf({ fg, bg, inverse, bold, dim, italic, underline, strike }: Rendition): TextStyle | undefined {
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
