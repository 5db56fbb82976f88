// The bus of a single keruta-api process: synchronous delivery, in commit order, never lost.
import type { BusEvent, BusListener, LogBus } from './log-bus.js';

export function createMemoryBus(): LogBus {
  const listeners = new Map<string, Set<BusListener>>();
  let closed = false;

  const deliver = (key: string, event: BusEvent): void => {
    const set = listeners.get(key);
    if (set === undefined) return;
    for (const listener of set) listener(event);
  };

  return {
    kind: 'memory',
    lossless: true,
    publish(event) {
      deliver(event.taskId, event);
      deliver('*', event);
    },
    subscribe(taskId, listener) {
      let set = listeners.get(taskId);
      if (set === undefined) {
        set = new Set();
        listeners.set(taskId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(taskId);
      };
    },
    async settled() {},
    async ping() {
      if (closed) throw new Error('the memory bus is closed');
    },
    async close() {
      closed = true;
      listeners.clear();
    },
  };
}
