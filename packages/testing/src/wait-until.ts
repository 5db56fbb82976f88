// Waiting in tests for something that happens on its own time (a server, a child process, a
// socket): poll until it holds, and on timeout say what was awaited. Bounds are loose on purpose:
// a hang fails, a slow machine passes.
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `done` until it returns true; on timeout the error names `what` (a function is read then, to show the state). */
export async function waitUntil(
  done: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = done();
    // A check that asks a server (a promise) is polled less often than one that reads memory.
    const pause = result instanceof Promise ? 50 : 10;
    if (await result) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(pause);
  }
}
