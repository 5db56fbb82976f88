// Reconnect delays: the configured interval, doubled per failed attempt up to 8×, with jitter so
// that many agents cut off by the same server restart do not all come back in the same instant.

const MAX_FACTOR = 8;

export function backoffDelay(attempt: number, intervalMs: number, random: () => number = Math.random): number {
  const factor = Math.min(2 ** Math.max(0, attempt - 1), MAX_FACTOR);
  return Math.round(intervalMs * factor * (0.5 + random() * 0.5));
}
