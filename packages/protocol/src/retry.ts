// The retry policy the agent and the client share: how long to wait before the next attempt, and
// what an error answer says (its body, its Retry-After). Whether to retry at all is `isFinalError`.

export interface BackoffOptions {
  /** The first attempt's delay in ms (before jitter). */
  baseMs: number;
  /** No delay exceeds this, in ms. */
  maxMs: number;
  /** A number in [0, 1); Math.random by default. */
  random?: () => number;
}

/**
 * The delay before attempt `attempt` (1, 2, 3 …): baseMs·2^(attempt−1) up to maxMs, then a random
 * 50–100 % of it, so that many peers cut off by one server restart do not all come back in the same instant.
 */
export function backoffDelay(attempt: number, { baseMs, maxMs, random = Math.random }: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(ceiling * (0.5 + random() * 0.5));
}

/**
 * `Retry-After` in seconds: a number of seconds or an HTTP date (RFC 9110 §10.2.3). Undefined when
 * the header is absent or unreadable, so that the caller's own interval applies — never a 0 s wait.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // The three date forms of HTTP start with the day's name; Date.parse alone would take '-1' or '1.5' for dates.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** What an error answer's body says, when it has the `{code, message, timestamp}` shape (PROTOCOL.md §2). */
export interface ErrorBodyFields {
  readonly code: string;
  /** The code itself when the body has no message. */
  readonly message: string;
  readonly timestamp?: string;
}

/** The protocol's error body, when `value` (parsed JSON) is one; the code may be one this version does not know. */
export function readErrorBody(value: unknown): ErrorBodyFields | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { code, message, timestamp } = value as { code?: unknown; message?: unknown; timestamp?: unknown };
  if (typeof code !== 'string') return undefined;
  return { code, message: typeof message === 'string' ? message : code, ...(typeof timestamp === 'string' ? { timestamp } : {}) };
}
