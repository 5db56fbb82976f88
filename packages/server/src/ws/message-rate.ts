// How fast one connection may send messages: a token bucket of a second's worth, refilled
// continuously. An agent's writes wait for it (slowed, never refused); other messages over it are refused.

export interface MessageRate {
  /** Messages a second the connection may send. */
  readonly perSecond: number;
  /** Takes one message from the bucket; false, taking nothing, when it holds less than one. */
  take(): boolean;
  /** Takes one message, waiting first until the bucket has refilled to one if it holds less. */
  throttle(): Promise<void>;
}

export function createMessageRate(perSecond: number): MessageRate {
  let allowance = perSecond;
  let allowanceAt = Date.now();

  /** `force` takes the message even into debt (a write that waited for it). */
  const take = (force = false): boolean => {
    const now = Date.now();
    allowance = Math.min(perSecond, allowance + ((now - allowanceAt) / 1000) * perSecond);
    allowanceAt = now;
    if (allowance < 1 && !force) return false;
    allowance -= 1;
    return true;
  };

  return {
    perSecond,
    take: () => take(),
    async throttle() {
      if (take()) return;
      const waitMs = Math.ceil(((1 - allowance) / perSecond) * 1000);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      take(true);
    },
  };
}
