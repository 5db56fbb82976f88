// Guesses a line's level (PROTOCOL.md §5): a JSON line's `level` field (names or pino/bunyan
// numbers), else a marker such as ERROR, WARN or DEBUG at the start, in brackets, after a leading
// timestamp or as logfmt `level=`; else INFO. Runs once per line at a million lines a second, so it
// looks at character codes and uses indexOf, never a regular expression.
import type { LogLevel } from '@keruta/protocol';

/** Marker words by their lower-case first letter, longest first so that WARNING wins over WARN. */
const MARKERS: Readonly<Record<string, readonly (readonly [string, LogLevel])[]>> = {
  e: [['ERROR', 'ERROR'], ['ERR', 'ERROR']],
  f: [['FATAL', 'ERROR']],
  c: [['CRITICAL', 'ERROR'], ['CRIT', 'ERROR']],
  p: [['PANIC', 'ERROR']],
  w: [['WARNING', 'WARN'], ['WARN', 'WARN']],
  d: [['DEBUG', 'DEBUG']],
  t: [['TRACE', 'DEBUG']],
  i: [['INFO', 'INFO']],
  n: [['NOTICE', 'INFO']],
};

const NAMES: Readonly<Record<string, LogLevel>> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  verbose: 'DEBUG',
  silly: 'DEBUG',
  info: 'INFO',
  information: 'INFO',
  informational: 'INFO',
  notice: 'INFO',
  warn: 'WARN',
  warning: 'WARN',
  error: 'ERROR',
  err: 'ERROR',
  fatal: 'ERROR',
  critical: 'ERROR',
  crit: 'ERROR',
  panic: 'ERROR',
  alert: 'ERROR',
  emerg: 'ERROR',
  emergency: 'ERROR',
};

/** How far into a line a timestamp-prefixed marker is looked for. */
const PREFIX_SCAN = 64;
/** Brackets examined per line; log prefixes have a few, message bodies may have many. */
const MAX_BRACKETS = 8;

export function detectLevel(line: string): LogLevel {
  const first = line.charCodeAt(0);
  if (first === 123 /* { */) {
    const level = jsonLevel(line);
    if (level !== undefined) return level;
  }
  if (isLetter(first)) {
    const level = markerAt(line, 0, false);
    if (level !== undefined) return level;
  } else if (first >= 48 && first <= 57) {
    const level = afterTimestamp(line);
    if (level !== undefined) return level;
  }
  let bracket = line.indexOf('[');
  for (let n = 0; bracket !== -1 && n < MAX_BRACKETS; n++) {
    const level = inBrackets(line, bracket + 1);
    if (level !== undefined) return level;
    bracket = line.indexOf('[', bracket + 1);
  }
  const logfmt = line.indexOf('level=');
  if (logfmt !== -1 && (logfmt === 0 || !isWordChar(line.charCodeAt(logfmt - 1)))) {
    const level = nameAt(line, logfmt + 6);
    if (level !== undefined) return level;
  }
  return 'INFO';
}

function isLetter(code: number): boolean {
  const lower = code | 0x20;
  return lower >= 97 && lower <= 122;
}

function isWordChar(code: number): boolean {
  return isLetter(code) || (code >= 48 && code <= 57) || code === 95;
}

/** The marker word starting at `pos`, followed by a non-word character; upper case only when `upperOnly`. */
function markerAt(line: string, pos: number, upperOnly: boolean): LogLevel | undefined {
  const candidates = MARKERS[String.fromCharCode(line.charCodeAt(pos) | 0x20)];
  if (candidates === undefined) return undefined;
  for (const [word, level] of candidates) {
    const end = pos + word.length;
    if (end > line.length) continue;
    let matches = true;
    for (let i = 1; i < word.length; i++) {
      const code = line.charCodeAt(pos + i);
      const wanted = word.charCodeAt(i);
      if (code !== wanted && (upperOnly || (code | 0x20) !== (wanted | 0x20))) {
        matches = false;
        break;
      }
    }
    if (matches && upperOnly && line.charCodeAt(pos) !== word.charCodeAt(0)) matches = false;
    if (matches && (end === line.length || !isWordChar(line.charCodeAt(end)))) return level;
  }
  return undefined;
}

/** "[ERROR]", "[ warn ]". */
function inBrackets(line: string, start: number): LogLevel | undefined {
  let pos = start;
  while (line.charCodeAt(pos) === 32) pos++;
  const level = markerAt(line, pos, false);
  if (level === undefined) return undefined;
  while (isLetter(line.charCodeAt(pos))) pos++;
  while (line.charCodeAt(pos) === 32) pos++;
  return line.charCodeAt(pos) === 93 /* ] */ ? level : undefined;
}

/** "2024-05-01 12:00:00,123 ERROR …": an upper-case marker word soon after a leading timestamp. */
function afterTimestamp(line: string): LogLevel | undefined {
  const limit = Math.min(line.length, PREFIX_SCAN);
  let space = line.indexOf(' ');
  while (space !== -1 && space < limit) {
    const code = line.charCodeAt(space + 1);
    if (code >= 65 && code <= 90) {
      const level = markerAt(line, space + 1, true);
      if (level !== undefined) return level;
    }
    space = line.indexOf(' ', space + 1);
  }
  return undefined;
}

/** A level name at `pos`, optionally quoted: `info`, `"warning"`. */
function nameAt(line: string, pos: number): LogLevel | undefined {
  let start = pos;
  if (line.charCodeAt(start) === 34 /* " */) start++;
  let end = start;
  while (end < line.length && end - start < 14 && isLetter(line.charCodeAt(end))) end++;
  if (end === start) return undefined;
  return NAMES[line.slice(start, end).toLowerCase()];
}

/** `"level":"warn"` or pino/bunyan `"level":40` (10/20 DEBUG, 30 INFO, 40 WARN, 50/60 ERROR). */
function jsonLevel(line: string): LogLevel | undefined {
  const key = line.indexOf('"level"');
  if (key === -1) return undefined;
  let pos = key + 7;
  while (line.charCodeAt(pos) === 32) pos++;
  if (line.charCodeAt(pos) !== 58 /* : */) return undefined;
  pos++;
  while (line.charCodeAt(pos) === 32) pos++;
  const code = line.charCodeAt(pos);
  if (code === 34) return nameAt(line, pos);
  if (code < 48 || code > 57) return undefined;
  let value = 0;
  while (pos < line.length && line.charCodeAt(pos) >= 48 && line.charCodeAt(pos) <= 57 && value < 1000) {
    value = value * 10 + (line.charCodeAt(pos) - 48);
    pos++;
  }
  if (value < 30) return 'DEBUG';
  if (value < 40) return 'INFO';
  if (value < 50) return 'WARN';
  return 'ERROR';
}
