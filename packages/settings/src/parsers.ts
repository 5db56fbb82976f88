// The kinds of value a setting takes. Each gives its parser and what it requires, spread into a
// setting (`...integer(0, 65_535)`); a setting may say `must` in its own words after the spread.
// A parser reads the text of a flag or variable and what a YAML/JSON file holds alike.
import { parseDuration } from './duration.js';
import { refuse, type Parse } from './setting.js';

export interface ValueKind<T> {
  readonly parse: Parse<T>;
  readonly must: string;
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): ValueKind<number> {
  return {
    parse: (raw) => {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
    },
    must: max === Number.MAX_SAFE_INTEGER ? `be a whole number, ${min} or more` : `be a whole number from ${min} to ${max}`,
  };
}

/** Milliseconds, from "500ms", "1s", "1m", "1h" or a bare number of seconds. */
export function duration(minMs: number): ValueKind<number> {
  return {
    parse: (raw) => {
      const ms = parseDuration(raw);
      return ms !== undefined && ms >= minMs ? ms : undefined;
    },
    must: `be a duration such as 500ms, 1s or 1 (seconds)${minMs > 0 ? ', above 0' : ''}`,
  };
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

export const boolean: ValueKind<boolean> = {
  parse: (raw) => {
    if (typeof raw === 'boolean') return raw;
    if (raw === 0 || raw === 1) return raw === 1;
    if (typeof raw !== 'string') return undefined;
    const value = raw.trim().toLowerCase();
    if (TRUE.includes(value)) return true;
    if (FALSE.includes(value)) return false;
    return undefined;
  },
  must: 'be true or false',
};

/** One of `choices`, in any case; `aliases` (upper or lower case) stand for a choice. */
export function oneOf<T extends string>(choices: readonly T[], aliases: Readonly<Record<string, T>> = {}): ValueKind<T> {
  return {
    parse: (raw) => {
      if (typeof raw !== 'string') return undefined;
      const wanted = raw.trim();
      const alias = aliases[wanted.toUpperCase()] ?? aliases[wanted.toLowerCase()];
      if (alias !== undefined) return alias;
      return choices.find((c) => c.toLowerCase() === wanted.toLowerCase());
    },
    must: `be one of ${choices.join(', ')}`,
  };
}

/**
 * A URL of one of `protocols` ("ws:"), without trailing slashes. With an `example`, a refusal says
 * which of the two it is: not a URL (`be a URL such as <example>`), or another scheme.
 */
export function url(protocols: readonly string[], example?: string): ValueKind<string> {
  const schemes = protocols.map((p) => `${p}//`).join(' or ');
  return {
    parse: (raw) => {
      if (typeof raw !== 'string') return undefined;
      let parsed: URL;
      try {
        parsed = new URL(raw.trim());
      } catch {
        // Not a URL at all: reported with the setting's name.
        return example === undefined ? undefined : refuse(`be a URL such as ${example}`);
      }
      if (protocols.includes(parsed.protocol)) return raw.trim().replace(/\/+$/, '');
      return example === undefined ? undefined : refuse(`start with ${schemes}`);
    },
    must: `be a ${schemes} URL`,
  };
}

export const text: ValueKind<string> = {
  parse: (raw) => (typeof raw === 'string' && raw.length > 0 ? raw : undefined),
  must: 'be a non-empty string',
};

/** A comma-separated list ("a, b") or, in a file, a list; blank items are left out. */
export const commaList: ValueKind<readonly string[]> = {
  parse: (raw) => {
    const scalar = (item: unknown): item is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof item);
    const items = Array.isArray(raw) ? raw : [raw];
    if (!items.every(scalar)) return undefined;
    const parts = Array.isArray(raw) ? items.map(String) : String(raw).split(',');
    return Object.freeze(parts.map((part) => part.trim()).filter((part) => part !== ''));
  },
  must: 'be a comma-separated list',
};

/** Regular expressions: one as a string, or a list of them. */
export const patterns: ValueKind<readonly string[]> = {
  parse: (raw) => {
    const list: unknown = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) return undefined;
    for (const pattern of list) {
      try {
        new RegExp(pattern, 'g');
      } catch {
        // An invalid pattern makes the whole list a bad value of its setting.
        return undefined;
      }
    }
    return Object.freeze([...list]);
  },
  must: 'be a list of regular expressions',
};
