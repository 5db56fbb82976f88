// What a line's text says about itself: an ANSI escape to colour it, or a GitHub Actions-style
// section marker (`::group::Name` opens a fold, `::endgroup::` closes it).

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

export function hasAnsi(message: string): boolean {
  return message.includes('\u001b');
}

// CSI sequences (colours, cursor moves, erase), OSC sequences (titles, hyperlinks) and the
// two-character escapes: what a terminal would not print.
// eslint-disable-next-line no-control-regex
const ANSI_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

/** The text a terminal would print: the message without its escape sequences. */
export function stripAnsi(message: string): string {
  return hasAnsi(message) ? message.replace(ANSI_SEQUENCE, '') : message;
}
