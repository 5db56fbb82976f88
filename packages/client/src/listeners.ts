// A small typed event registry: `on` returns its own undo, and a listener that throws cannot
// break delivery to the others or the client's bookkeeping (its error is rethrown on its own).

export type Listener<T> = (data: T) => void;

export interface Listeners<Events extends object> {
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void;
  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void;
  emit<E extends keyof Events>(event: E, data: Events[E]): void;
  has(event: keyof Events): boolean;
}

export function createListeners<Events extends object>(): Listeners<Events> {
  const registry = new Map<keyof Events, Listener<never>[]>();
  return {
    on(event, listener) {
      const list = registry.get(event) ?? [];
      list.push(listener as Listener<never>);
      registry.set(event, list);
      return () => this.off(event, listener);
    },
    off(event, listener) {
      const list = registry.get(event);
      if (list === undefined) return;
      const index = list.indexOf(listener as Listener<never>);
      if (index >= 0) list.splice(index, 1);
    },
    emit(event, data) {
      const list = registry.get(event);
      if (list === undefined || list.length === 0) return;
      for (const listener of [...list] as Listener<Events[typeof event]>[]) {
        try {
          listener(data);
        } catch (error) {
          // The listener's bug is reported as an uncaught error, as if it had thrown on its own,
          // while the stream (its seq bookkeeping, the other listeners) carries on.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    },
    has(event) {
      return (registry.get(event)?.length ?? 0) > 0;
    },
  };
}
