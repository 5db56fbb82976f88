// Secret masking (filters.excludePatterns): whatever a pattern matches becomes [REDACTED] before a
// line leaves the machine. The script's own output on the terminal is left as it was.

export const REDACTED = '[REDACTED]';

export type Redactor = (message: string) => string;

const mask = (match: string): string => (match.length === 0 ? match : REDACTED);

/** The identity when there are no patterns, so that the common case costs nothing per line. */
export function createRedactor(patterns: readonly string[]): Redactor {
  if (patterns.length === 0) return (message) => message;
  let expressions: RegExp[];
  try {
    // One alternation scans each line once however many patterns there are.
    expressions = [new RegExp(patterns.map((p) => `(?:${p})`).join('|'), 'g')];
  } catch {
    // Patterns that are valid alone may clash when joined (the same named group twice): apply them one by one.
    expressions = patterns.map((p) => new RegExp(p, 'g'));
  }
  return (message) => {
    let result = message;
    for (const expression of expressions) result = result.replace(expression, mask);
    return result;
  };
}
