// What a line's text says about itself: an ANSI escape to colour it, or a GitHub Actions-style
// section marker (`::group::Name` opens a fold, `::endgroup::` closes it).
import { hasControls, printedText, withoutBidiControls } from './ansi-segments.js';

export const GROUP_START = '::group::';
export const GROUP_END = '::endgroup::';

export type LineMarker = 'group-start' | 'group-end' | undefined;

export function lineMarker(message: string): LineMarker {
  if (message.charCodeAt(0) !== 58 /* ':' */) return undefined;
  if (message.startsWith(GROUP_START)) return 'group-start';
  if (message.trimEnd() === GROUP_END) return 'group-end';
  return undefined;
}

/** The name a `::group::Name` line gives its section ("" when it gives none). */
export function groupName(message: string): string {
  return message.slice(GROUP_START.length).trim();
}

/** The line needs reading as terminal output: it holds an escape sequence or another control character. */
export function hasAnsi(message: string): boolean {
  return hasControls(message);
}

// The usual escapes, each complete: CSI; OSC ended by BEL or ST; DCS, SOS, PM and APC strings ended
// by ST; two-character escapes. A line with nothing else takes one replace instead of a full read.
// eslint-disable-next-line no-control-regex
const COMPLETE_ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)|\u001b[PX^_][^\u001b\u009c]*(?:\u001b\\|\u009c)|\u001b(?![[\]PX^_])[ -/]*[0-~]/g;
/** An SGR that may hold an 8 (conceal): its text must not be found. */
// eslint-disable-next-line no-control-regex
const MAY_CONCEAL = /\u001b\[(?:[\d:]*;)*8[;m]/;

/**
 * The text a terminal would print, as the row shows it: no escape sequences, backspace applied,
 * concealed text blank, other controls as `^G` glyphs. The search reads every line with this,
 * so the usual line (colours and erases only) is one regex replace.
 */
export function stripAnsi(message: string): string {
  if (!hasControls(message)) return message;
  if (!MAY_CONCEAL.test(message)) {
    const stripped = message.replace(COMPLETE_ESCAPES, '');
    if (!hasControls(stripped)) return withoutBidiControls(stripped);
  }
  return printedText(message);
}
