// What a terminal shows of one line that was rewritten with "\r": the cursor goes back to column 0
// and what follows overwrites the line from there. The agent stores lines this way and the page
// shows a line still being written the same way, so a progress bar looks alike in both.

const CR = '\r';
const ESC_BRACKET = '\u001b[';
/** Erase in line: ESC[K / ESC[0K (from the cursor to the end), ESC[2K (the whole line). */
// eslint-disable-next-line no-control-regex -- the escape character itself
const ERASE_IN_LINE = /\u001b\[([02]?)K/g;

/**
 * "Downloading… 100%\rDone" shows as "Doneloading… 100%": each part after a "\r" overwrites the
 * start of what is shown, and an empty part (a trailing "\r", or "\r\r") changes nothing. In such
 * a line the erase-in-line sequences progress bars use with "\r" (ESC[K, ESC[0K, ESC[2K) are
 * applied too: "Downloading… 100%\r\x1b[KDone" shows as "Done"; and blanks at the end of a
 * rewritten line are dropped, as a terminal shows none. A line that only ends in "\r" ("\r\n")
 * is kept as it is. Columns are UTF-16 code units (a wide character counts as one, other escape
 * sequences count as text), but a surrogate pair is never split.
 */
export function overwriteCarriageReturns(line: string): string {
  let cr = line.indexOf(CR);
  if (cr === -1) return line;
  const first = line.slice(0, cr);
  let shown = writePart('', first);
  /** Something overwrote or erased: the line is a rewritten one, not one that merely ends in "\r" ("\r\n"). */
  let rewritten = shown !== first;
  while (cr !== -1) {
    const next = line.indexOf(CR, cr + 1);
    const part = next === -1 ? line.slice(cr + 1) : line.slice(cr + 1, next);
    if (part.length > 0) {
      shown = writePart(shown, part);
      rewritten = true;
    }
    cr = next;
  }
  // Blank cells at the end are nothing on a screen, whether erased or padding a shorter state.
  return rewritten && shown.endsWith(' ') ? shown.replace(/ +$/, '') : shown;
}

/** Writes one part from column 0 over what is shown, applying its erase-in-line sequences. */
function writePart(shown: string, part: string): string {
  if (!part.includes(ESC_BRACKET)) return writeAt(shown, 0, part);
  let result = shown;
  let cursor = 0;
  let from = 0;
  for (const match of part.matchAll(ERASE_IN_LINE)) {
    const text = part.slice(from, match.index);
    result = writeAt(result, cursor, text);
    cursor += text.length;
    // The cursor stays where it is: ESC[2K leaves blanks before it, ESC[K nothing after it.
    result = match[1] === '2' ? ' '.repeat(cursor) : result.slice(0, cursor);
    from = match.index + match[0].length;
  }
  return writeAt(result, cursor, part.slice(from));
}

function writeAt(shown: string, at: number, text: string): string {
  if (text.length === 0) return shown;
  const end = at + text.length;
  if (at === 0 && end >= shown.length) return text;
  const code = shown.charCodeAt(end);
  // The text ends in the middle of a character shown before: that character is gone whole.
  const rest = code >= 0xdc00 && code <= 0xdfff ? end + 1 : end;
  return shown.slice(0, at) + text + shown.slice(rest);
}
