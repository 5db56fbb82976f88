// The search box: typing searches the loaded lines (after a short pause) and goes to the first
// match below the top of the view; Enter and Shift+Enter, and the arrow buttons, go to the next
// and previous match. Esc leaves the box but keeps the search, so that n and N go on.
import type { LogViewer } from './log-viewer.js';

/** How long typing must pause before the search runs, in ms. */
const TYPING_PAUSE_MS = 150;

export interface SearchBox {
  /** Starts with this search (from the address). */
  start(query: string): void;
}

export function createSearchBox(options: { input: HTMLInputElement; form: HTMLElement; next: HTMLElement; previous: HTMLElement; viewer: LogViewer }): SearchBox {
  const { input, viewer } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;

  /** Runs the search if the box changed; true when it did (and went to the first match). */
  const run = (): boolean => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (input.value === viewer.search.query) return false;
    viewer.setQuery(input.value);
    if (input.value !== '') viewer.nextMatch(1);
    return true;
  };
  const move = (direction: 1 | -1): void => {
    if (!run()) viewer.nextMatch(direction);
  };

  input.addEventListener('input', () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, TYPING_PAUSE_MS);
  });
  options.form.addEventListener('submit', (event) => event.preventDefault());
  input.addEventListener('keydown', (event) => {
    // A search box would clear itself on Esc; this one keeps the search.
    if (event.key === 'Escape') event.preventDefault();
    if (event.key !== 'Enter') return;
    event.preventDefault();
    move(event.shiftKey ? -1 : 1);
  });
  options.next.addEventListener('click', () => move(1));
  options.previous.addEventListener('click', () => move(-1));

  return {
    start(query) {
      input.value = query;
      viewer.setQuery(query);
    },
  };
}
