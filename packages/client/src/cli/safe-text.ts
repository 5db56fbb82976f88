// What of a log message may reach the viewer's terminal. A log line is text someone else wrote:
// escape sequences in it must not move the cursor, erase or clear the screen, retitle the window,
// set the clipboard (OSC 52) or switch the character set, whether keruta's output goes to the
// terminal directly or through a pipe into `less -R`, `tee` or `cat`.

export interface SafeTextOptions {
  /** Keep the script's colours and styles (SGR: ESC [ digits m); else they are removed too. */
  readonly colors: boolean;
  /** Output is a terminal: other control characters are shown `cat -v` style instead of kept as bytes. */
  readonly showControls: boolean;
}

export interface SafeText {
  readonly text: string;
  /** An SGR sequence was kept: the line should end with a reset, so its colour does not bleed into the next. */
  readonly keptColor: boolean;
}

const ESC = 0x1b;
const BEL = 0x07;
const TAB = 0x09;
const DEL = 0x7f;
const C1_CSI = 0x9b;
const C1_ST = 0x9c;
/** C1 controls that open a string the terminal swallows up to ST: DCS, SOS, OSC, PM, APC. */
const C1_STRINGS = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]);
/** What follows ESC to open such a string: P (DCS), X (SOS), ] (OSC), ^ (PM), _ (APC). */
const ESC_STRINGS = new Set([0x50, 0x58, 0x5d, 0x5e, 0x5f]);

// C0 controls but tab, DEL, and the C1 controls: the only characters that need a look.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const HAS_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
const SGR_PARAMETERS = /^[0-9;:]*$/;

function isControl(code: number): boolean {
  return (code < 0x20 && code !== TAB) || (code >= DEL && code <= 0x9f);
}

/** `cat -v`'s picture of a control character: ^[ for ESC, ^M for CR, ^? for DEL, M-^E for U+0085. */
export function caret(code: number): string {
  if (code === DEL) return '^?';
  if (code >= 0x80) return `M-^${String.fromCharCode(code - 0x80 + 0x40)}`;
  return `^${String.fromCharCode(code + 0x40)}`;
}

/**
 * Where a control sequence's parameters, intermediates and final byte end (ECMA-48 5.4), from
 * just after its introducer: `complete` when a final byte closed it, else it stopped at `end`
 * (a character that cannot be part of it, or the end of the message).
 */
function scanCsi(message: string, from: number): { end: number; complete: boolean } {
  let at = from;
  while (at < message.length && message.charCodeAt(at) >= 0x30 && message.charCodeAt(at) <= 0x3f) at++;
  while (at < message.length && message.charCodeAt(at) >= 0x20 && message.charCodeAt(at) <= 0x2f) at++;
  const final = message.charCodeAt(at);
  if (final >= 0x40 && final <= 0x7e) return { end: at + 1, complete: true };
  return { end: at, complete: false };
}

/**
 * Where a control string (OSC, DCS, …) ends, from just after its introducer: after its BEL or
 * ST (ESC \ or U+009C); at any other ESC, which starts the next sequence; or at the message's
 * end, since a string left open would swallow everything the terminal is shown after it.
 */
function scanString(message: string, from: number): number {
  for (let at = from; at < message.length; at++) {
    const code = message.charCodeAt(at);
    if (code === BEL || code === C1_ST) return at + 1;
    if (code === ESC) return message.charCodeAt(at + 1) === 0x5c ? at + 2 : at;
  }
  return message.length;
}

/**
 * The message with every escape sequence removed but colours (when `colors`), and its other
 * control characters shown (`showControls`) or kept. Text without control characters is returned
 * as it is, so the common line costs one regular-expression test.
 */
export function safeText(message: string, { colors, showControls }: SafeTextOptions): SafeText {
  if (!HAS_CONTROL.test(message)) return { text: message, keptColor: false };
  let out = '';
  let keptColor = false;
  let plainFrom = 0;
  let at = 0;
  const skipTo = (end: number, kept = ''): void => {
    out += message.slice(plainFrom, at) + kept;
    at = end;
    plainFrom = end;
  };
  while (at < message.length) {
    const code = message.charCodeAt(at);
    if (!isControl(code)) {
      at++;
      continue;
    }
    if (code === ESC) {
      const next = message.charCodeAt(at + 1);
      if (next === 0x5b) {
        const csi = scanCsi(message, at + 2);
        const sequence = message.slice(at, csi.end);
        const isSgr = csi.complete && sequence.endsWith('m') && SGR_PARAMETERS.test(sequence.slice(2, -1));
        if (isSgr && colors) keptColor = true;
        skipTo(csi.end, isSgr && colors ? sequence : '');
      } else if (ESC_STRINGS.has(next)) {
        skipTo(scanString(message, at + 2));
      } else {
        // nF (ESC ( 0: line-drawing characters), Fp/Fe/Fs (ESC 7, ESC M, ESC c: full reset): the
        // introducer, any intermediates and the final byte; a lone ESC goes alone.
        let end = at + 1;
        while (end < message.length && message.charCodeAt(end) >= 0x20 && message.charCodeAt(end) <= 0x2f) end++;
        const final = message.charCodeAt(end);
        skipTo(final >= 0x30 && final <= 0x7e ? end + 1 : end);
      }
    } else if (code === C1_CSI) {
      // The 8-bit CSI: few terminals take it as a colour, some as a cursor move; never kept.
      skipTo(scanCsi(message, at + 1).end);
    } else if (C1_STRINGS.has(code)) {
      skipTo(scanString(message, at + 1));
    } else if (showControls) {
      skipTo(at + 1, caret(code));
    } else {
      at++;
    }
  }
  out += message.slice(plainFrom);
  return { text: out, keptColor };
}
