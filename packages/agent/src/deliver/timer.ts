// One timer that can be started again, stopped, and asked whether it is running, without a handle
// to keep track of: the delivery's waits (reconnect, acknowledgement, flush) are each one of these.

export interface Timer {
  /** Calls `callback` in `ms`; a wait that is already running is stopped first. */
  start(ms: number, callback: () => void): void;
  stop(): void;
  readonly running: boolean;
}

export function createTimer(): Timer {
  let handle: NodeJS.Timeout | undefined;
  return {
    start(ms, callback) {
      if (handle !== undefined) clearTimeout(handle);
      handle = setTimeout(() => {
        handle = undefined;
        callback();
      }, ms);
    },
    stop() {
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    },
    get running() {
      return handle !== undefined;
    },
  };
}
