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

/**
 * Turns of the event loop shared by the work that a burst of writes sets off: storing batches and
 * handing their frames to subscribers' sockets. Both are synchronous (better-sqlite3; a write to a
 * loopback socket copies its bytes, the receiving side's work included, in this thread): one
 * 250 KB batch fanned out to 1,000 subscribers held the loop 1.3 s, and an agent's queued batches
 * stored back to back held it hundreds of milliseconds. Each turn runs steps for TURN_MS, then the
 * rest wait for the next one, in the order they asked: a batch waits behind the fan-out of the one
 * before it, as it did when both ran in one go, and requests are answered between turns.
 */
export interface TurnQueue {
  /**
   * Whether the current turn has time for one more step; the first step of a turn always has,
   * so a step longer than a turn still runs.
   */
  hasTime(): boolean;
  /** Calls `resume` in a coming turn, after everything that asked before. */
  wait(resume: () => void): void;
  /**
   * Resolves in a coming turn, after everything that asked before; what awaits it is that turn's
   * last step (steps that ask later in the turn wait for the next one).
   */
  next(): Promise<void>;
}

export function createTurnQueue(turnMs = TURN_MS): TurnQueue {
  /** When the current turn's first step began; undefined until one is taken. */
  let turnStart: number | undefined;
  let waiting: (() => void)[] = [];
  let scheduled = false;

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(runTurn);
  };

  const hasTime = (): boolean => {
    const now = performance.now();
    if (turnStart === undefined) {
      turnStart = now;
      // The next turn starts the clock again.
      schedule();
      return true;
    }
    return now - turnStart < turnMs;
  };

  const runTurn = (): void => {
    scheduled = false;
    turnStart = undefined;
    const turn = waiting;
    waiting = [];
    let i = 0;
    while (i < turn.length && hasTime()) turn[i++]!();
    // Those not reached keep their place, ahead of any that asked during this turn.
    if (i < turn.length) waiting = [...turn.slice(i), ...waiting];
    if (waiting.length > 0) schedule();
  };

  const wait = (resume: () => void): void => {
    waiting.push(resume);
    schedule();
  };

  return {
    hasTime,
    wait,
    next: () =>
      new Promise<void>((resolve) =>
        wait(() => {
          resolve();
          // What awaited this (a batch to store) runs right after and is this turn's last step.
          turnStart = Number.NEGATIVE_INFINITY;
        }),
      ),
  };
}
