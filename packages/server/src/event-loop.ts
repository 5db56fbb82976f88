// Long loops that must not hold the event loop. With a synchronous store (better-sqlite3) and a
// socket that always takes what it is given, every await in such a loop resolves at once: the
// loop then runs to its end in microtasks, and no other request, ingest or live line is served
// meanwhile (a 2,000,000-line export held /health for 9.5 s).

/** How long a loop runs before it lets everything else have a turn. */
export const TURN_MS = 10;

/**
 * Returns `takeTurn`: awaited once per step of a loop, it gives the event loop a turn (I/O
 * included, by setImmediate) whenever TURN_MS have gone by since the last one.
 */
export function createTurnTaker(turnMs = TURN_MS): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < turnMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}
