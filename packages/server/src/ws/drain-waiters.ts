// Those who wait for a connection's unsent bytes to fall to a low-water mark (a subscription
// catching up reads no more from the store until its socket drains), each for at most a timeout.

export interface DrainWaiters {
  /** Resolves true once `wake` finds the unsent bytes at most `lowWater`, false after `timeoutMs` or `fail`. */
  wait(lowWater: number, timeoutMs: number): Promise<boolean>;
  /** Resolves the waits whose low-water mark the unsent bytes are now at or under. */
  wake(): void;
  /** Resolves every wait false: the connection has closed. */
  fail(): void;
}

/** `unsent` reads the bytes the connection holds unsent now. */
export function createDrainWaiters(unsent: () => number): DrainWaiters {
  const waiters = new Set<{ lowWater: number; resolve: (drained: boolean) => void }>();
  return {
    wait(lowWater, timeoutMs) {
      return new Promise((resolve) => {
        const waiter = {
          lowWater,
          resolve: (drained: boolean) => {
            clearTimeout(timer);
            resolve(drained);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          resolve(false);
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    wake() {
      if (waiters.size === 0) return;
      for (const waiter of waiters) {
        if (unsent() <= waiter.lowWater) {
          waiters.delete(waiter);
          waiter.resolve(true);
        }
      }
    },
    fail() {
      for (const waiter of waiters) waiter.resolve(false);
      waiters.clear();
    },
  };
}
