// What a terminal shows of one line that was rewritten with "\r": the cursor goes back to column 0
// and what follows overwrites the line from there. The agent stores lines this way and the page
// shows a line still being written the same way, so a progress bar looks alike in both.

const CR = '\r';

/**
 * "Downloading… 100%\rDone" shows as "Doneloading… 100%": each part after a "\r" overwrites the
 * start of what is shown, and an empty part (a trailing "\r", or "\r\r") changes nothing. Columns
 * are UTF-16 code units (a wide character counts as one), but a surrogate pair is never split.
 */
export function overwriteCarriageReturns(line: string): string {
  let cr = line.indexOf(CR);
  if (cr === -1) return line;
  let shown = line.slice(0, cr);
  while (cr !== -1) {
    const next = line.indexOf(CR, cr + 1);
    const part = next === -1 ? line.slice(cr + 1) : line.slice(cr + 1, next);
    if (part.length >= shown.length) shown = part;
    else if (part.length > 0) {
      const code = shown.charCodeAt(part.length);
      // The part ends in the middle of a character shown before: that character is gone whole.
      const from = code >= 0xdc00 && code <= 0xdfff ? part.length + 1 : part.length;
      shown = part + shown.slice(from);
    }
    cr = next;
  }
  return shown;
}
