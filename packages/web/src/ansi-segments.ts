// A message as a terminal would print it, as styled runs of plain text (terminal-runs.ts): the
// escape sequences read, SGR styles (see sgr-style.ts) and OSC 8 hyperlinks to http(s) addresses
// applied, every other one (titles, cursor moves, erases, DCS/APC/PM/SOS strings) left out.
// Nothing here produces HTML: the row view puts each run in through textContent.
import { createTerminalRuns, type Segment, type TerminalLink } from './terminal-runs.js';

/**
 * Bidirectional controls (LRO, RLO, isolates, marks) can make a line read as something else
 * ("Trojan Source"); each is shown as U+FFFD instead, one character for one, so that match
 * positions still line up with the stored message.
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function withoutBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, '\ufffd');
}

/** What a terminal does not print as it is: C0 controls but the tab, DEL, and C1 controls. */
function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09) || (code >= 0x7f && code <= 0x9f);
}
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** The message holds an escape sequence or another control character: it needs `ansiSegments`. */
export function hasControls(message: string): boolean {
  return HAS_CONTROL.test(message);
}

const ESC = 0x1b;
const BEL = 0x07;
const BS = 0x08;
const CR = 0x0d;
const ST_C1 = 0x9c;

/** The runs of a message; one without escapes or controls is one plain run. */
export function ansiSegments(raw: string): Segment[] {
  const message = withoutBidiControls(raw);
  if (!hasControls(message)) return [{ text: message }];
  const runs = createTerminalRuns();
  let i = 0;
  const end = message.length;
  while (i < end) {
    let at = i;
    let code = 0;
    for (; at < end; at++) {
      code = message.charCodeAt(at);
      if (isControl(code)) break;
    }
    if (at > i) runs.print(message.slice(i, at));
    if (at === end) break;
    if (code === ESC) {
      const next = message.charCodeAt(at + 1);
      if (next === 0x5b /* [ */) {
        const csi = readCsi(message, at + 2);
        if (csi.final === 'm' && csi.plain) runs.applySgr(csi.params);
        // Every other CSI (cursor moves, erases, modes) is not something a log line can show.
        i = csi.next;
      } else if (next === 0x5d /* ] */) {
        const osc = readString(message, at + 2, true);
        const opened = linkOf(osc.body);
        if (opened !== undefined) runs.setLink(opened === null ? undefined : opened);
        i = osc.next;
      } else if (next === 0x50 /* P */ || next === 0x58 /* X */ || next === 0x5e /* ^ */ || next === 0x5f /* _ */) {
        i = readString(message, at + 2, false).next;
      } else {
        // Two-character escapes (ESC 7, ESC =, ESC ( B…): intermediates, then one final character.
        let j = at + 1;
        while (j < end && message.charCodeAt(j) >= 0x20 && message.charCodeAt(j) <= 0x2f) j++;
        i = j < end && message.charCodeAt(j) >= 0x30 && message.charCodeAt(j) <= 0x7e ? j + 1 : j;
      }
      continue;
    }
    i = at + 1;
    if (code === BS) {
      runs.backspace();
      continue;
    }
    if (code === CR) {
      // A trailing carriage return (a CRLF line ending) prints nothing; one inside the line starts
      // it again (a progress bar redrawn), so what came before is gone, as keruta-agent keeps it.
      if (message.slice(i).replace(/\r/g, '') === '') break;
      runs.restart();
      continue;
    }
    runs.control(code);
  }
  return runs.finish();
}

/** The text a terminal prints for the message (what the row shows), for search. */
export function printedText(raw: string): string {
  const segments = ansiSegments(raw);
  if (segments.length === 1) return (segments[0] as Segment).text;
  let text = '';
  for (const segment of segments) text += segment.text;
  return text;
}

interface Csi {
  params: string;
  final: string;
  /** No private marker (`?`, `>`…) and no intermediate bytes: a plain ECMA-48 sequence. */
  plain: boolean;
  next: number;
}

/** Parameter bytes that make a CSI private (`?`, `<`, `=`, `>`). */
const PRIVATE_PARAMS = /[<=>?]/;

/** Reads a CSI's parameter bytes, intermediate bytes and final byte from `from` (just past `ESC[`). */
function readCsi(text: string, from: number): Csi {
  let j = from;
  while (j < text.length && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x3f) j++;
  const params = text.slice(from, j);
  const intermediates = j;
  while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
  const code = text.charCodeAt(j);
  // A malformed sequence ends where it stops being one; what follows is printed.
  if (!(code >= 0x40 && code <= 0x7e)) return { params, final: '', plain: false, next: j };
  return { params, final: text[j] as string, plain: j === intermediates && !PRIVATE_PARAMS.test(params), next: j + 1 };
}

/**
 * Reads an OSC, DCS, SOS, PM or APC string from `from` to its string terminator (`ESC \` or
 * U+009C; BEL too for OSC, as xterm takes it). An unterminated one runs to the end of the line,
 * as a terminal would swallow it.
 */
function readString(text: string, from: number, bel: boolean): { body: string; next: number } {
  for (let j = from; j < text.length; j++) {
    const code = text.charCodeAt(j);
    if ((code === BEL && bel) || code === ST_C1) return { body: text.slice(from, j), next: j + 1 };
    if (code === ESC && text.charCodeAt(j + 1) === 0x5c /* \ */) return { body: text.slice(from, j), next: j + 2 };
  }
  return { body: text.slice(from), next: text.length };
}

/**
 * For an OSC 8 hyperlink (`8;params;URI`): the link it opens, null when it closes one (empty URI)
 * or opens one to another scheme than http(s) — that text stays plain. Undefined for any other OSC.
 */
function linkOf(body: string): TerminalLink | null | undefined {
  if (!body.startsWith('8;')) return undefined;
  const split = body.indexOf(';', 2);
  if (split < 0) return null;
  const uri = body.slice(split + 1);
  if (uri === '') return null;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    // Not an absolute address: no link, the text shows as it is.
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? { href: url.href } : null;
}
