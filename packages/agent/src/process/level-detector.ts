// Guesses a line's level (PROTOCOL.md §5) from what tools really print: one table of rules, RULES,
// tried in order on the line with its ANSI colours removed; the first that applies decides. A few
// rules look at the lines before (a stack trace's `at` lines, a traceback's body, a compiler's code
// frame keep the level of the report they belong to), so each source stream gets its own detector
// (createLevelDetector); detectLevel(line) judges a line alone. Runs on the main thread for every
// line: a line is first checked for what rules look for (features), and only rules that can apply run.
import type { LogLevel } from '@keruta/protocol';

/**
 * What may follow a line as its continuation: nothing; an indented body (stack frames, code frames,
 * an error object's fields); a `snippet`, the source line a compiler quotes under a diagnostic, then
 * a body; a Python traceback's body and final exception line; a Go panic's goroutine dump; a Rust
 * panic's message lines up to a blank line.
 */
export type LevelFollow = 'none' | 'body' | 'snippet' | 'python' | 'panic' | 'message';

/** What a detector carries from one line to the next: saved with the processing state, so a replay goes on alike. */
export interface LevelDetectorState {
  /** The level of the last line that was not a continuation. */
  readonly level: LogLevel;
  readonly follow: LevelFollow;
}

export interface LevelDetector {
  detect(line: string): LogLevel;
  /** The id of the rule (RULES) that decided the last line. */
  readonly rule: string;
  state(): LevelDetectorState;
}

interface Context {
  level: LogLevel;
  follow: LevelFollow;
  /** The level decided for the line at hand. */
  decided: LogLevel;
}

export interface LevelRule {
  readonly id: string;
  /**
   * What follows a line this rule decided; `keep` leaves the state as it was (a continuation).
   * A function when it depends on the line.
   */
  readonly follow: LevelFollow | 'keep' | ((line: string) => LevelFollow);
  /** The line continues the report above: its level is the report's, and stays for the lines after. */
  readonly continuation: boolean;
  /** What a line must have (features) for the rule to be tried. */
  readonly when: number;
  /** The characters (codes below 128) a line must start with, if only some. */
  readonly firsts: Uint8Array | undefined;
  /** The level when the rule applies, else undefined. `at` is the first character that is not a space or tab. */
  readonly match: (line: string, at: number, context: Context) => LogLevel | undefined;
}

const SPACE = 32;
const TAB = 9;

const isUpper = (code: number): boolean => code >= 65 && code <= 90;
const isDigit = (code: number): boolean => code >= 48 && code <= 57;
const isLetter = (code: number): boolean => (code | 0x20) >= 97 && (code | 0x20) <= 122;
const isWordChar = (code: number): boolean => isLetter(code) || isDigit(code) || code === 95;
const isBlankChar = (code: number): boolean => code === SPACE || code === TAB;

/** Marker words and their levels: upper case where they stand alone, any case before a colon. */
const MARKERS: readonly (readonly [string, LogLevel])[] = [
  ['ERROR', 'ERROR'],
  ['ERR', 'ERROR'],
  ['FATAL', 'ERROR'],
  ['CRITICAL', 'ERROR'],
  ['CRIT', 'ERROR'],
  ['PANIC', 'ERROR'],
  ['FAIL', 'ERROR'],
  ['FAILED', 'ERROR'],
  ['FAILURE', 'ERROR'],
  ['WARNING', 'WARN'],
  ['WARN', 'WARN'],
  ['DEBUG', 'DEBUG'],
  ['TRACE', 'DEBUG'],
  ['INFO', 'INFO'],
  ['NOTICE', 'INFO'],
  ['PASS', 'INFO'],
];
const MARKER_MIN = 3;
const MARKER_MAX = 8;
/** DEBUG and INFO markers count only in a line's first characters (a timestamped log's level column), not in its message. */
const PREFIX_SCAN = 64;

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

/** Brackets examined per line; log prefixes have a few, message bodies may have many. */
const MAX_BRACKETS = 8;

/** Where the word matched by the last markerAt call ends (a scratch value: no object per line). */
let markerEnd = 0;

/** The marker word at `pos`, followed by a non-word character or the end; in upper case only when `upperOnly`. */
function markerAt(line: string, pos: number, upperOnly: boolean): LogLevel | undefined {
  // e(rror) f(atal) c(rit) p(anic|ass) w(arn) d(ebug) t(race) i(nfo) n(otice): no other word is a marker.
  const first = line.charCodeAt(pos) | 0x20;
  if (first !== 101 && first !== 102 && first !== 99 && first !== 112 && first !== 119 && first !== 100 && first !== 116 && first !== 105 && first !== 110) return undefined;
  let end = pos;
  while (end < line.length && end - pos <= MARKER_MAX && isLetter(line.charCodeAt(end))) end++;
  const length = end - pos;
  if (length < MARKER_MIN || length > MARKER_MAX) return undefined;
  if (end < line.length && isWordChar(line.charCodeAt(end))) return undefined;
  for (const [word, level] of MARKERS) {
    if (word.length !== length) continue;
    let i = 0;
    for (; i < length; i++) {
      const code = line.charCodeAt(pos + i);
      const wanted = word.charCodeAt(i);
      if (code !== wanted && (upperOnly || (code | 0x20) !== (wanted | 0x20))) break;
    }
    if (i === length) {
      markerEnd = end;
      return level;
    }
  }
  return undefined;
}

function allUpper(line: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isUpper(line.charCodeAt(i))) return false;
  return true;
}

/** yarn's and rustc's lower-case words at the start: `error Command failed`, `error[E0425]:`. */
function lowerStart(line: string, at: number, end: number): boolean {
  const length = end - at;
  return (
    (length === 5 && line.startsWith('error', at)) ||
    (length === 7 && line.startsWith('warning', at)) ||
    (length === 4 && (line.startsWith('warn', at) || line.startsWith('info', at)))
  );
}

/**
 * A marker at the start: upper case (`ERROR x`, `FAIL\tpkg`); any case before a colon (`Error:`,
 * `fatal:`, `Trace:`); yarn's and rustc's lower case `error Command failed`, `error[E0425]:`.
 * Not `Error handling tests passed`, `Critical section entered`, `Warn-free build`, `err 3`.
 */
function startMarker(line: string, at: number): LogLevel | undefined {
  const level = markerAt(line, at, false);
  if (level === undefined) return undefined;
  const end = markerEnd;
  const next = line.charCodeAt(end);
  if (next === 58 /* : */ || allUpper(line, at, end)) return level;
  if (!lowerStart(line, at, end)) return undefined;
  if (next === 91 /* [ */) return level;
  if (next !== SPACE) return undefined;
  // yarn: `error Command failed`, `warning "react@18" has…`, `warning package.json: No license field`.
  const after = line.charCodeAt(end + 1);
  if (isUpper(after) || after === 34 /* " */) return level;
  const space = line.indexOf(' ', end + 1);
  const colon = line.indexOf(': ', end + 1);
  return colon !== -1 && (space === -1 || colon < space) ? level : undefined;
}

/**
 * Marker words in upper case standing alone anywhere: `#7 ERROR: …`, `[42] WARNING:  …`, `… FAILED`.
 * Global, so that test() leaves where a match ended in lastIndex and allocates nothing.
 */
const UPPER_MARKER = /(?:^|[\s(/|])(?:ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|FAILED|FAILURE|FAIL|WARNING|WARN|DEBUG|TRACE|INFO|NOTICE|PASS)(?=[\s:!\]).;]|$)/g;

/** The first upper-case marker standing alone; DEBUG and INFO ones only in the line's first characters. */
function upperMarkerAnywhere(line: string): LogLevel | undefined {
  UPPER_MARKER.lastIndex = 0;
  while (UPPER_MARKER.test(line)) {
    const end = UPPER_MARKER.lastIndex;
    let start = end;
    while (start > 0 && isUpper(line.charCodeAt(start - 1))) start--;
    const level = markerAt(line, start, true);
    if (level === 'ERROR' || level === 'WARN' || (level !== undefined && start < PREFIX_SCAN)) return level;
  }
  return undefined;
}

/** "[ERROR]", "[ warn ]", "##[error]". */
function bracketMarker(line: string): LogLevel | undefined {
  let bracket = line.indexOf('[');
  for (let n = 0; bracket !== -1 && n < MAX_BRACKETS; n++) {
    let pos = bracket + 1;
    while (line.charCodeAt(pos) === SPACE) pos++;
    const level = markerAt(line, pos, false);
    if (level !== undefined) {
      let end = markerEnd;
      while (line.charCodeAt(end) === SPACE) end++;
      if (line.charCodeAt(end) === 93 /* ] */) return level;
    }
    bracket = line.indexOf('[', bracket + 1);
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

/** `"level":"warn"`, pino/bunyan `"level":40` (10/20 DEBUG, 30 INFO, 40 WARN, 50/60 ERROR), or `"severity":"ERROR"`. */
function jsonLevel(line: string, at: number): LogLevel | undefined {
  if (line.charCodeAt(at) !== 123 /* { */) return undefined;
  let key = line.indexOf('"level"');
  let pos = key + 7;
  if (key === -1) {
    key = line.indexOf('"severity"');
    if (key === -1) return undefined;
    pos = key + 10;
  }
  while (line.charCodeAt(pos) === SPACE) pos++;
  if (line.charCodeAt(pos) !== 58 /* : */) return undefined;
  pos++;
  while (line.charCodeAt(pos) === SPACE) pos++;
  const code = line.charCodeAt(pos);
  if (code === 34) return nameAt(line, pos);
  if (!isDigit(code)) return undefined;
  let value = 0;
  while (pos < line.length && isDigit(line.charCodeAt(pos)) && value < 1000) {
    value = value * 10 + (line.charCodeAt(pos) - 48);
    pos++;
  }
  if (value < 30) return 'DEBUG';
  if (value < 40) return 'INFO';
  if (value < 50) return 'WARN';
  return 'ERROR';
}

/** logfmt `level=warn`. */
function logfmtLevel(line: string): LogLevel | undefined {
  const key = line.indexOf('level=');
  if (key === -1 || (key > 0 && isWordChar(line.charCodeAt(key - 1)))) return undefined;
  return nameAt(line, key + 6);
}

/** klog/glog `E0501 10:12:45.654321 …`: the letter is the level. */
function klogLevel(line: string): LogLevel | undefined {
  const first = line.charCodeAt(0);
  if (first !== 73 && first !== 87 && first !== 69 && first !== 70) return undefined;
  for (let i = 1; i <= 4; i++) if (!isDigit(line.charCodeAt(i))) return undefined;
  if (line.charCodeAt(5) !== SPACE || !isDigit(line.charCodeAt(6)) || line.charCodeAt(8) !== 58) return undefined;
  return first === 73 ? 'INFO' : first === 87 ? 'WARN' : 'ERROR';
}

/**
 * An exception's name before its message: `ValueError: …`, `java.lang.IllegalStateException: …`,
 * `(node:42) DeprecationWarning: …`, `tests/test_calc.py:5: AssertionError`, `Caused by: …`,
 * `Uncaught TypeError: …`. The name starts the line or follows `: `, `) `, `] ` or `Uncaught `.
 */
const EXCEPTION = /(?:^[ \t]*|[:)\]] |Uncaught )[\w.$]*(?:Error|Exception)(?:: |:?$)/;
const WARNING_NAME = /(?:^[ \t]*|[:)\]] |Uncaught )[\w.$]*Warning(?:: |:?$)/;

function exceptionLevel(line: string): LogLevel | undefined {
  // indexOf first: the patterns try every position of a line that has no exception name at all.
  if ((line.indexOf('Error') !== -1 || line.indexOf('Exception') !== -1) && EXCEPTION.test(line)) return 'ERROR';
  return line.indexOf('Warning') !== -1 && WARNING_NAME.test(line) ? 'WARN' : undefined;
}

/** A count above zero before a word: `1 failed`, `(2 errors, 1 warning)`; not `0 errors`, `10:12 errors`. */
const ERROR_COUNT = /(?:^|[\s(])0*[1-9]\d* (?:errors?|failed|failures?)(?![\w-])/;
const WARN_COUNT = /(?:^|[\s(])0*[1-9]\d* warnings?(?![\w-])/;

function countLevel(line: string): LogLevel | undefined {
  return ERROR_COUNT.test(line) ? 'ERROR' : WARN_COUNT.test(line) ? 'WARN' : undefined;
}

/** `main.c:6:9: error: …`, `collect2: error: …`, tsc `file.ts(3,5): error TS2304:` or `file.ts:3:7 - error TS…`. */
const ERROR_DIAGNOSTIC = /[:-] (?:fatal )?error(?:[:[]| TS\d)/;
const WARN_DIAGNOSTIC = /[:-] warning[:[]/;

function diagnosticLevel(line: string): LogLevel | undefined {
  return ERROR_DIAGNOSTIC.test(line) ? 'ERROR' : WARN_DIAGNOSTIC.test(line) ? 'WARN' : undefined;
}

/** Lines a stack trace, a code frame or an error object's fields are made of. */
function bodyShaped(line: string, at: number): boolean {
  const first = line.charCodeAt(0);
  if (at > 0 || first === 62 /* > */ || first === 124 /* | */ || first === 94 /* ^ */ || first === 126 /* ~ */ || first === 125 /* } */) return true;
  if (!isDigit(first)) return false;
  // rustc's `4 |     let line = 3;`
  let pos = 1;
  while (isDigit(line.charCodeAt(pos))) pos++;
  while (line.charCodeAt(pos) === SPACE) pos++;
  return line.charCodeAt(pos) === 124;
}

/** Where a `/path/file.js:12` or `node:internal/…:289` line (Node's crash header) is: no spaces, a line number last. */
function crashLocation(line: string): boolean {
  const first = line.charCodeAt(0);
  if (first !== 47 /* / */ && !line.startsWith('node:') && !line.startsWith('file:')) return false;
  if (!isDigit(line.charCodeAt(line.length - 1)) || line.indexOf(' ') !== -1) return false;
  let pos = line.length - 1;
  while (pos > 0 && isDigit(line.charCodeAt(pos))) pos--;
  return line.charCodeAt(pos) === 58;
}

/** Go's compiler and vet: `agent/reader.go:17:2: undefined: detectLevel`. */
function goCompile(line: string): boolean {
  const go = line.indexOf('.go:');
  if (go === -1 || line.indexOf(' ') < go) return false;
  let pos = go + 4;
  if (!isDigit(line.charCodeAt(pos))) return false;
  while (isDigit(line.charCodeAt(pos))) pos++;
  if (line.charCodeAt(pos) !== 58) return false;
  pos++;
  while (isDigit(line.charCodeAt(pos))) pos++;
  return line.startsWith(': ', pos);
}

/** The linker: `/usr/bin/ld: util.o: in function…`, `util.c:(.text+0x1c): undefined reference to…`. */
function linker(line: string): boolean {
  const ld = line.indexOf('ld: ');
  if (ld !== -1 && (ld === 0 || line.charCodeAt(ld - 1) === 47 /* / */) && line.lastIndexOf(' ', ld) === -1) return true;
  return line.indexOf(': undefined reference to ') !== -1;
}

const ERRNO_TEXTS = [': No such file or directory', ': no such file or directory', ': Permission denied', ': command not found', ': not found'];
const CARGO_STATUS = ['Compiling', 'Checking', 'Finished', 'Running', 'Fresh', 'Downloading', 'Downloaded', 'Updating', 'Locking', 'Adding', 'Installing', 'Installed', 'Documenting', 'Doc-tests'];

/** A test runner's glyph before a test's name: × ✕ ✗ ✖ failed, ✓ ✔ √ passed. */
function glyphLevel(code: number): LogLevel | undefined {
  if (code < 0xd7) return undefined;
  if (code === 0xd7 || code === 0x2715 || code === 0x2717 || code === 0x2716) return 'ERROR';
  if (code === 0x2713 || code === 0x2714 || code === 0x221a) return 'INFO';
  return undefined;
}

function endsWithErrno(line: string): boolean {
  for (const text of ERRNO_TEXTS) if (line.endsWith(text)) return true;
  return false;
}

/** cargo's right-aligned status words: `   Compiling x`, `    Finished …`. */
function cargoStatus(line: string, at: number): boolean {
  if (at === 0 || !isUpper(line.charCodeAt(at))) return false;
  for (const word of CARGO_STATUS) if (line.startsWith(word, at) && line.charCodeAt(at + word.length) === SPACE) return true;
  return false;
}

/*
 * Which rules a line can concern, worked out before any rule runs: whether it is blank or indented,
 * what its first character is, what the lines before opened, and whether it has any of TRIGGERS. A
 * rule is tried only when the line has something it asks for (`when`) and, for a rule about how a
 * line starts, only when it starts with one of its characters (`firsts`): a plain line costs one
 * pattern test and no rule.
 */
const ANY = 1 << 0;
const BLANK = 1 << 1;
const INDENTED = 1 << 2;
const LETTER = 1 << 3; // the first character that is not a space or tab is a letter
const BRACE = 1 << 4; // … is `{`
const RULER = 1 << 5; // … is `_` or `-`
const GLYPH = 1 << 6; // … is beyond ASCII: ● × ✓ …
const INSIDE = 1 << 7; // the line has one of TRIGGERS
const START = 1 << 8; // the line's very first character is one a rule about how lines start asks for
const IN_BODY = 1 << 9; // the lines before opened a body or a snippet
const IN_PYTHON = 1 << 10; // … a Python traceback
const IN_PANIC = 1 << 11; // … a Go panic
const IN_MESSAGE = 1 << 12; // … a Rust panic's message
const ALWAYS = -1;
/** The features every line has: no rule but the last can apply to a line with only these. */
const PLAIN = ANY | INDENTED;
const FOLLOWING: Readonly<Record<LevelFollow, number>> = { none: 0, body: IN_BODY, snippet: IN_BODY, python: IN_PYTHON, panic: IN_PANIC, message: IN_MESSAGE };

/**
 * Every string a rule looks for past a line's start, in one pattern: `rr` of error and Error, `arn`
 * of warning, `ail` of failed, `ception` of Exception, the capitals of ERROR, WARN, FAIL, FATAL, CRIT,
 * PANIC, DEBUG, TRACE, brackets, logfmt's key, Go's and the linker's locations, errno texts.
 */
const TRIGGERS = /rr|RR|arn|ARN|ail|AIL|ception|ATAL|RIT|ANIC|EBUG|RACE|\[|level=|\.go:|ld: |undefined ref| such file|denied|not found/;

/** What `line` (its first non-blank character at `at`) has that rules look for. */
function features(line: string, at: number, context: Context): number {
  const code = line.charCodeAt(at);
  let has = ANY | FOLLOWING[context.follow];
  if (at > 0) has |= INDENTED;
  if (isLetter(code)) has |= LETTER;
  else if (code === 123) has |= BRACE;
  else if (code === 95 || code === 45) has |= RULER;
  else if (code > 127) has |= GLYPH;
  if (STARTS[line.charCodeAt(0)] === 1) has |= START;
  return TRIGGERS.test(line) ? has | INSIDE : has;
}

function rule(
  id: string,
  when: number,
  follow: LevelRule['follow'],
  match: LevelRule['match'],
  options: { readonly continuation?: boolean; readonly first?: string } = {},
): LevelRule {
  let firsts: Uint8Array | undefined;
  if (options.first !== undefined) {
    firsts = new Uint8Array(128);
    for (let i = 0; i < options.first.length; i++) firsts[options.first.charCodeAt(i)] = 1;
  }
  return { id, when, firsts, follow, continuation: options.continuation ?? false, match };
}

/** A rule for lines whose very first character is one of `first`. */
function startRule(id: string, first: string, follow: LevelRule['follow'], match: LevelRule['match']): LevelRule {
  return rule(id, START, follow, match, { first });
}

/**
 * The rules, in the order they are tried; the first that gives a level decides. README.md (Level
 * detection) lists them with examples; test/level-detector.test.ts has a test per rule.
 */
export const RULES: readonly LevelRule[] = [
  // Continuations: lines that belong to the report above them.
  rule('blank', BLANK, 'keep', (line, at) => (at === line.length ? 'INFO' : undefined)),
  rule('python-traceback-body', IN_PYTHON, 'keep', (_line, at, c) => (c.follow === 'python' && at > 0 ? c.level : undefined)),
  rule('python-exception', IN_PYTHON, 'none', (_line, _at, c) => (c.follow === 'python' ? c.level : undefined), { continuation: true }),
  rule('go-panic-body', IN_PANIC, 'keep', (line, at, c) =>
    c.follow === 'panic' &&
    (at > 0 || line.startsWith('goroutine ') || line.startsWith('created by ') || line.startsWith('exit status ') || line.startsWith('[signal ') || line.endsWith(')'))
      ? c.level
      : undefined,
  ),
  rule('rust-panic-message', IN_MESSAGE, 'keep', (line, _at, c) => (c.follow === 'message' && !line.startsWith('note:') ? c.level : undefined)),
  rule('attached-exception', IN_BODY, 'keep', (line, at, c) =>
    (c.follow === 'body' || c.follow === 'snippet') && (c.level === 'ERROR' || c.level === 'WARN') && at === 0 && exceptionLevel(line) !== undefined ? c.level : undefined,
  ),
  // Structured logs.
  rule('json-level', BRACE, 'none', (line, at) => jsonLevel(line, at)),
  rule('logfmt-level', INSIDE, 'none', (line) => logfmtLevel(line)),
  startRule('klog', 'IWEF', 'none', (line) => klogLevel(line)),
  // Reports that start a block of lines.
  startRule('python-traceback', 'T', 'python', (line) => (line.startsWith('Traceback (most recent call last):') ? 'ERROR' : undefined)),
  startRule('python-chained-exception', 'DT', 'none', (line) =>
    line.startsWith('During handling of the above exception') || line.startsWith('The above exception was the direct cause') ? 'ERROR' : undefined,
  ),
  startRule('go-panic', 'pf', 'panic', (line) => (line.startsWith('panic: ') || line.startsWith('fatal error: ') ? 'ERROR' : undefined)),
  startRule('rust-panic', 't', 'message', (line) => (line.startsWith("thread '") && line.indexOf("' panicked at ") !== -1 ? 'ERROR' : undefined)),
  startRule('java-uncaught', 'E', 'body', (line) => (line.startsWith('Exception in thread ') ? 'ERROR' : undefined)),
  startRule('node-crash-location', '/nf', 'body', (line) => (crashLocation(line) ? 'ERROR' : undefined)),
  // Tools with a fixed prefix.
  startRule('npm', 'n', 'none', (line) =>
    !line.startsWith('npm ') ? undefined : line.startsWith('ERR!', 4) || line.startsWith('error ', 4) ? 'ERROR' : line.startsWith('WARN', 4) || line.startsWith('warn ', 4) ? 'WARN' : undefined,
  ),
  startRule('make', 'm', 'none', (line) => (line.startsWith('make') && line.indexOf(': *** ') !== -1 ? 'ERROR' : undefined)),
  startRule('pytest-error-line', 'E', 'none', (line) => (line.startsWith('E  ') ? 'ERROR' : undefined)),
  startRule('git', ' CA', 'none', (line) => (line.startsWith(' ! [') || line.startsWith('CONFLICT (') || line.startsWith('Automatic merge failed') ? 'ERROR' : undefined)),
  startRule('github-actions-command', ':', 'none', (line) => (line.startsWith('::error') ? 'ERROR' : line.startsWith('::warning') ? 'WARN' : undefined)),
  rule('cargo-status', INDENTED, 'none', (line, at) => (cargoStatus(line, at) ? 'INFO' : undefined)),
  // Test runners.
  rule('test-failure-title', GLYPH | RULER, 'body', (line, at) =>
    (line.charCodeAt(at) === 0x25cf /* ● */ && !line.startsWith('● Console', at)) || (line.startsWith('___') && line.endsWith('___') && line.indexOf(' ') !== -1) || line.startsWith('--- FAIL')
      ? 'ERROR'
      : undefined,
  ),
  rule('test-glyph', GLYPH, 'body', (line, at) => glyphLevel(line.charCodeAt(at))),
  startRule('go-test-pass', '-', 'none', (line) => (line.startsWith('--- PASS') || line.startsWith('--- SKIP') ? 'INFO' : undefined)),
  // Markers.
  rule('start-marker', LETTER, 'body', (line, at) => startMarker(line, at)),
  rule('error-phrase', INSIDE, 'body', (line) => {
    const start = line.startsWith('Error ') ? 0 : line.indexOf(': Error ') + 2;
    return start !== 1 && line.indexOf(': ', start + 6) !== -1 ? 'ERROR' : undefined;
  }),
  rule('failed-phrase', INSIDE, 'body', (line) => (line.startsWith('Failed to ') || line.indexOf(': Failed ') !== -1 ? 'ERROR' : undefined)),
  rule('bracket-marker', INSIDE, 'body', (line) => bracketMarker(line)),
  // Compilers and linters.
  rule('compiler-diagnostic', INSIDE, diagnosticFollow, (line) => diagnosticLevel(line)),
  // A note belongs to the diagnostic above it; alone, it is INFO (the default).
  rule('compiler-note', IN_BODY, 'keep', (line, _at, c) => (line.indexOf(': note: ') !== -1 ? c.level : undefined)),
  rule('eslint', INDENTED, 'none', (line, at) => eslintLevel(line, at)),
  rule('go-compile', INSIDE, 'none', (line, at) => (at === 0 && goCompile(line) ? 'ERROR' : undefined)),
  rule('linker', INSIDE, 'body', (line) => (linker(line) ? 'ERROR' : undefined)),
  rule('exception', INSIDE, 'body', (line) => exceptionLevel(line)),
  rule('upper-marker', INSIDE, 'body', (line) => upperMarkerAnywhere(line)),
  rule('errno', INSIDE, 'none', (line) => (endsWithErrno(line) ? 'ERROR' : undefined)),
  rule('count', INSIDE, (line) => (line.endsWith(':') ? 'body' : 'none'), (line) => countLevel(line)),
  // The rest of a report: indented lines, code frames.
  rule('body', IN_BODY, 'body', (line, at, c) => ((c.follow === 'body' && bodyShaped(line, at)) || c.follow === 'snippet' ? c.level : undefined), { continuation: true }),
  rule('default', ALWAYS, 'none', () => 'INFO'),
];

/** The first characters some rule in RULES asks for. */
const STARTS = new Uint8Array(128);
for (const { firsts } of RULES) firsts?.forEach((on, code) => on === 1 && STARTS.fill(1, code, code + 1));

/** A diagnostic with a position quotes the source line under it (gcc, clang, tsc --pretty); others may have a body. */
function diagnosticFollow(line: string): LevelFollow {
  return line.indexOf(' - error TS') !== -1 || /:\d+: (fatal error|error|warning):/.test(line) ? 'snippet' : 'body';
}

/** eslint's stylish format: `   3:7   error    'unused' is assigned…`. */
function eslintLevel(line: string, at: number): LogLevel | undefined {
  if (at === 0 || !isDigit(line.charCodeAt(at))) return undefined;
  const match = /^\d+:\d+\s+(error|warning)\s/.exec(line.slice(at, at + 24));
  return match === null ? undefined : match[1] === 'error' ? 'ERROR' : 'WARN';
}

// eslint-disable-next-line no-control-regex -- ANSI escape sequences are what is matched
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;

/** The line as a terminal shows it: CSI (colours, erase), OSC (titles, links) and two-byte escapes removed. */
export function stripAnsi(line: string): string {
  return line.indexOf('\x1b') === -1 ? line : line.replace(ANSI, '');
}

/** Decides `line`'s level with what `context` carries from the lines before, and updates it; returns the deciding rule's index. */
function decide(raw: string, context: Context): number {
  const line = stripAnsi(raw);
  let at = 0;
  while (at < line.length && isBlankChar(line.charCodeAt(at))) at++;
  const has = at === line.length ? BLANK : features(line, at, context);
  const first = line.charCodeAt(0);
  // The common case: nothing in the line any rule looks for.
  const from = (has & ~PLAIN) === 0 ? RULES.length - 1 : 0;
  for (let index = from; index < RULES.length; index++) {
    const rule = RULES[index] as LevelRule;
    if ((rule.when & has) === 0 || (rule.firsts !== undefined && rule.firsts[first] !== 1)) continue;
    const level = rule.match(line, at, context);
    if (level === undefined) continue;
    context.decided = level;
    const { follow } = rule;
    if (follow !== 'keep') {
      // A body line belongs to the report above it: the report's level stays for the lines after it.
      if (!rule.continuation) context.level = level;
      context.follow = typeof follow === 'function' ? follow(line) : follow;
    }
    return index;
  }
  return RULES.length - 1;
}

export function createLevelDetector(state?: LevelDetectorState): LevelDetector {
  const context: Context = { level: state?.level ?? 'INFO', follow: state?.follow ?? 'none', decided: 'INFO' };
  let rule = RULES.length - 1;
  return {
    detect(line) {
      rule = decide(line, context);
      return context.decided;
    },
    get rule() {
      return (RULES[rule] as LevelRule).id;
    },
    state() {
      return { level: context.level, follow: context.follow };
    },
  };
}

const alone: Context = { level: 'INFO', follow: 'none', decided: 'INFO' };

/** The level of a line judged on its own, as if no line came before it. */
export function detectLevel(line: string): LogLevel {
  alone.level = 'INFO';
  alone.follow = 'none';
  decide(line, alone);
  return alone.decided;
}
