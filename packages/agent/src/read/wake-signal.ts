// How the reading thread wakes the main thread, over shared memory: it counts every record it
// appends, and posts a `wake` only when the main thread has said it sleeps; the main thread says so
// once it has caught up, then looks at the count once more, so that a record appended in between
// is never left waiting. Nothing here is imported but by the two threads' sides of it.

/** The Int32Array's slots: records appended so far, and the main thread asleep (1) or not (0). */
const SIGNAL_APPENDED = 0;
const SIGNAL_ASLEEP = 1;

/** The shared memory both threads look at (handed to the reading thread with its workerData). */
export function createWakeSignalBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

/** Reading thread: a record was appended. True when the main thread was asleep and must be woken (it counts as awake now). */
export function countAppended(signal: Int32Array): boolean {
  Atomics.add(signal, SIGNAL_APPENDED, 1);
  return Atomics.load(signal, SIGNAL_ASLEEP) === 1 && Atomics.compareExchange(signal, SIGNAL_ASLEEP, 1, 0) === 1;
}

/** Main thread: the count of records appended so far, read before it processes them. */
export function appendedSoFar(signal: Int32Array): number {
  return Atomics.load(signal, SIGNAL_APPENDED);
}

/**
 * Main thread, caught up with the records counted `seen`: goes to sleep until woken. True when
 * more were appended meanwhile and no wake is coming for them: it goes on at once instead.
 */
export function fallAsleep(signal: Int32Array, seen: number): boolean {
  Atomics.store(signal, SIGNAL_ASLEEP, 1);
  // Appended after we looked: wake ourselves, unless the reading thread took the flag first (its wake is on the way).
  return Atomics.load(signal, SIGNAL_APPENDED) !== seen && Atomics.compareExchange(signal, SIGNAL_ASLEEP, 1, 0) === 1;
}
