// What a search looks for, checked before any line is read: a case-insensitive substring, or a
// regular expression that cannot backtrack without bound; and the runs of text a matching line
// must contain, for the trigram index to narrow the lines down to candidates.
import { KerutaError } from '@keruta/protocol';

/** Longest search text or pattern. */
export const MAX_SEARCH_LENGTH = 256;
/** The shortest text the trigram index can look up. */
export const TRIGRAM = 3;

export interface Matcher {
  /** True when the message matches. */
  test(message: string): boolean;
  /**
   * Texts every matching message contains (case-insensitively), each at least TRIGRAM long;
   * empty when none can be told, and every line is then a candidate.
   */
  readonly required: readonly string[];
}

function invalid(message: string): KerutaError {
  return new KerutaError('INVALID_LOG_FORMAT', message);
}

export function compileMatcher(text: string, regex: boolean): Matcher {
  if (text.length === 0) throw invalid('q: must not be empty');
  if (text.length > MAX_SEARCH_LENGTH) throw invalid(`q: at most ${MAX_SEARCH_LENGTH} characters, got ${text.length}`);
  if (!regex) {
    const needle = text.toLowerCase();
    return { test: (message) => message.toLowerCase().includes(needle), required: text.length >= TRIGRAM ? [text] : [] };
  }
  assertBoundedPattern(text);
  let pattern: RegExp;
  try {
    pattern = new RegExp(text, 'u');
  } catch (error) {
    throw invalid(`q: not a valid regular expression: ${(error as Error).message}`);
  }
  return { test: (message) => pattern.test(message), required: requiredLiterals(text) };
}

/**
 * Refuses what can make a backtracking engine take exponential time: a quantified group that
 * itself holds a quantifier (`(a+)+`, `(a|aa)*` included, as alternation inside a repeated group
 * is the same hazard), back-references and lookarounds. What is left runs in time polynomial in
 * the message's length, and messages are bounded.
 */
export function assertBoundedPattern(pattern: string): void {
  if (/\\[1-9]|\\k</.test(pattern)) throw invalid('q: back-references are not supported in a search pattern');
  if (/\(\?<?[=!]/.test(pattern)) throw invalid('q: lookahead and lookbehind are not supported in a search pattern');
  /** Per open group: whether it holds a quantifier or an alternation. */
  const groups: boolean[] = [];
  let lastGroupRisky = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i += 1;
      lastGroupRisky = false;
      continue;
    }
    if (c === '[') {
      // A class is one character: skip to its end.
      for (i += 1; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i += 1;
      lastGroupRisky = false;
      continue;
    }
    if (c === '(') {
      groups.push(false);
      lastGroupRisky = false;
      continue;
    }
    if (c === ')') {
      lastGroupRisky = groups.pop() ?? false;
      if (lastGroupRisky && groups.length > 0) groups[groups.length - 1] = true;
      continue;
    }
    const quantifier = c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)));
    if (quantifier) {
      if (lastGroupRisky && c !== '?') throw invalid('q: a repeated group may not itself repeat or alternate (such as (a+)+); write it without the nesting');
      if (groups.length > 0) groups[groups.length - 1] = true;
      if (c === '{') i = pattern.indexOf('}', i);
      lastGroupRisky = false;
      continue;
    }
    if (c === '|' && groups.length > 0) groups[groups.length - 1] = true;
    lastGroupRisky = false;
  }
}

/** Characters that mean something in a pattern outside a class. */
const SPECIAL = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);

/**
 * Runs of plain characters a match must contain. None when the pattern alternates at its top
 * level or asks for case-insensitive parts it cannot tell; a character made optional by the
 * quantifier after it ends its run without it.
 */
export function requiredLiterals(pattern: string): string[] {
  const runs: string[] = [];
  let run = '';
  let depth = 0;
  const end = (): void => {
    if (depth === 0 && run.length >= TRIGRAM) runs.push(run);
    run = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '|' && depth === 0) return [];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      i += 1;
      // An escaped punctuation mark is itself; \d, \w, \s and the like are classes.
      if (/[^A-Za-z0-9]/.test(next) && !isOptional(pattern[i + 1])) run += next;
      else end();
      continue;
    }
    if (c === '[') {
      end();
      for (i += 1; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i += 1;
      continue;
    }
    if (c === '(') {
      end();
      depth += 1;
      continue;
    }
    if (c === ')') {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (SPECIAL.has(c)) {
      end();
      continue;
    }
    if (isOptional(pattern[i + 1])) {
      end();
      continue;
    }
    if (depth === 0) run += c;
  }
  end();
  return runs;
}

/** A quantifier that lets the character before it be absent or repeat (`a*`, `a?`, `a{0,2}`, and `a+` repeats). */
function isOptional(next: string | undefined): boolean {
  return next === '*' || next === '?' || next === '{' || next === '+';
}
