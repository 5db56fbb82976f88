// What the page shows about the log around the list: the counters, the lines waiting while
// paused, the search's position, where the held lines sit in the log, and the list's state as
// data attributes. Runs after every frame that showed lines, so it writes only what changed.
import { LOG_LEVELS, type LogLevel } from '@keruta/protocol';
import { formatCount } from './dom.js';
import type { LogViewer } from './log-viewer.js';
import type { OlderHistory } from './older-history.js';

export interface StatusElements {
  counters: Record<'total' | LogLevel, HTMLElement>;
  waitingStat: HTMLElement;
  waitingCount: HTMLElement;
  viewNote: HTMLElement;
  searchCount: HTMLElement;
  historyText: HTMLElement;
  olderButton: HTMLButtonElement;
}

export interface StatusView {
  update(historyLoaded: boolean): void;
}

function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

function setHidden(node: HTMLElement, hidden: boolean): void {
  if (node.hidden !== hidden) node.hidden = hidden;
}

export function createStatusView(options: { viewer: LogViewer; older: OlderHistory; maxLines: number; container: HTMLElement; elements: StatusElements }): StatusView {
  const { viewer, older, container, elements } = options;
  const setData = (name: string, value: string): void => {
    if (container.dataset[name] !== value) container.dataset[name] = value;
  };

  const historyDescription = (): string => {
    const { store } = viewer;
    if (store.length === 0) return store.floorSeq > 0 ? `Cleared through line ${formatCount(store.floorSeq)}; new lines appear here.` : 'No lines yet.';
    const range = `Lines ${formatCount(store.firstSeq)}–${formatCount(store.lastSeq)}`;
    switch (older.state) {
      case 'loading':
        return `${range} · loading older lines…`;
      case 'failed':
        return `${range} · older lines could not be loaded: ${older.error ?? 'unknown error'}`;
      case 'cap-reached':
        return `${range} · the page holds at most ${formatCount(options.maxLines)} lines; download the log for the rest`;
      default:
        return older.more ? `${range} · scroll to the top for older lines` : `${range} · start of the log`;
    }
  };

  return {
    update(historyLoaded) {
      const { counters, store, search } = viewer;
      setText(elements.counters.total, formatCount(counters.total));
      for (const level of LOG_LEVELS) setText(elements.counters[level], formatCount(counters.count(level)));
      setHidden(elements.waitingStat, !viewer.paused);
      setText(elements.waitingCount, formatCount(viewer.waiting));
      setText(elements.viewNote, viewer.rowCount === store.length ? '' : `showing ${formatCount(viewer.rowCount)} rows of ${formatCount(store.length)} lines`);
      const matches = search.matches.length;
      setText(
        elements.searchCount,
        search.query === '' ? '' : matches === 0 ? 'no match' : `${search.current < 0 ? '–' : formatCount(search.current + 1)} / ${formatCount(matches)}`,
      );
      setText(elements.historyText, historyDescription());
      setHidden(elements.olderButton, !older.more || older.state === 'loading' || !historyLoaded);
      // The list's state for scripts and tests: lines held, rows shown, the seqs held, history done.
      setData('lines', String(store.length));
      setData('rows', String(viewer.rowCount));
      setData('firstSeq', String(store.firstSeq));
      setData('lastSeq', String(store.lastSeq));
      setData('history', historyLoaded ? 'loaded' : 'loading');
    },
  };
}
