// The frames an outbox holds back, oldest first, with the bytes they hold: an array read from a
// moving head (shifting would copy it on every frame), its slots cleared for the GC as frames go.

/** A frame for `ws.send`, or bytes already framed for the socket itself (`wire`). */
export interface Pending {
  bytes: Buffer;
  wire: boolean;
}

export interface FrameQueue {
  /** Bytes of the frames queued. */
  readonly bytes: number;
  readonly empty: boolean;
  push(pending: Pending): void;
  /** Takes the oldest frame out. */
  shift(): Pending | undefined;
  /** Drops every frame. */
  clear(): void;
}

export function createFrameQueue(): FrameQueue {
  let queue: (Pending | undefined)[] = [];
  let head = 0;
  let bytes = 0;
  const clear = (): void => {
    queue = [];
    head = 0;
    bytes = 0;
  };
  return {
    get bytes() {
      return bytes;
    },
    get empty() {
      return head === queue.length;
    },
    push(pending) {
      queue.push(pending);
      bytes += pending.bytes.length;
    },
    shift() {
      const pending = queue[head];
      if (pending === undefined) return undefined;
      queue[head] = undefined;
      head += 1;
      bytes -= pending.bytes.length;
      // Emptied: start again at a fresh array instead of one that only grows.
      if (head === queue.length) clear();
      return pending;
    },
    clear,
  };
}
