// Older lines on demand: the page starts with the end of a long log, and when the list is
// scrolled to its top the lines before it are read with the REST API's `afterSeq` cursor and
// put in front, a chunk at a time, until the start of the log or the page's cap is reached.
import type { RestClient } from 'keruta-client';
import type { LogEntry } from '@keruta/protocol';
import type { LogViewer } from './log-viewer.js';

/** Lines read per load: ten requests of a thousand. */
export const OLDER_CHUNK = 10_000;

export type OlderState = 'idle' | 'loading' | 'start-reached' | 'cap-reached' | 'failed';

export interface OlderHistory {
  readonly state: OlderState;
  readonly error: string | undefined;
  /** Whether lines before the first one held may exist. */
  readonly more: boolean;
  /** Loads the chunk before the first line held; resolves with how many lines came. */
  load(): Promise<number>;
  /** Starts over (the view was reset elsewhere in the log). */
  reset(): void;
}

export function createOlderHistory(options: { rest: RestClient; taskId: string; viewer: LogViewer; onChange(): void }): OlderHistory {
  const { rest, taskId, viewer } = options;
  const store = viewer.store;
  let state: OlderState = 'idle';
  let error: string | undefined;
  let generation = 0;
  let reachedStart = false;

  const more = (): boolean => !reachedStart && store.length > 0 && store.firstSeq > store.floorSeq + 1;

  const history: OlderHistory = {
    get state() {
      return state;
    },
    get error() {
      return error;
    },
    get more() {
      return more();
    },
    async load() {
      if (state === 'loading' || !more()) return 0;
      const room = store.cap - store.length;
      if (room <= 0) {
        state = 'cap-reached';
        options.onChange();
        return 0;
      }
      const first = store.firstSeq;
      const from = Math.max(store.floorSeq, first - 1 - Math.min(OLDER_CHUNK, room));
      const mine = ++generation;
      state = 'loading';
      error = undefined;
      options.onChange();
      const entries: LogEntry[] = [];
      try {
        for await (const entry of rest.iterateLogs(taskId, { afterSeq: from, upToSeq: first - 1 })) entries.push(entry);
      } catch (failure) {
        if (mine !== generation) return 0;
        state = 'failed';
        error = failure instanceof Error ? failure.message : String(failure);
        options.onChange();
        return 0;
      }
      if (mine !== generation) return 0;
      // Nothing before `first` in the range, or the range began at the floor: the start is reached
      // (retention removes a log's oldest lines, never lines in its middle).
      if (entries.length === 0 || from <= store.floorSeq) reachedStart = true;
      state = reachedStart ? 'start-reached' : 'idle';
      viewer.prepend(entries);
      options.onChange();
      return entries.length;
    },
    reset() {
      generation += 1;
      state = 'idle';
      error = undefined;
      reachedStart = false;
    },
  };
  return history;
}
