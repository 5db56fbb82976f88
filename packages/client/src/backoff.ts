// How long to wait before a reconnect attempt: exponential, capped, and jittered so that many
// watchers cut off by one server restart do not all come back in the same instant.

export interface BackoffOptions {
  /** The first attempt's delay in ms (before jitter). */
  baseMs: number;
  /** No delay exceeds this, in ms. */
  maxMs: number;
  /** A number in [0, 1); Math.random by default. */
  random?: () => number;
}

/** The delay before attempt `attempt` (1, 2, 3 …): baseMs·2^(attempt−1) up to maxMs, then a random 50–100 % of it. */
export function reconnectDelay(attempt: number, { baseMs, maxMs, random = Math.random }: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(ceiling * (0.5 + random() * 0.5));
}
