// "Search the whole log": the REST API's `q` finds matches in every stored line, not only in
// the ones this page holds. Results are listed a hundred at a time; picking one goes to its line.
import type { RestClient } from 'keruta-client';
import type { LogEntry } from '@keruta/protocol';
import { element, formatCount } from './dom.js';
import { stripAnsi } from './line-markers.js';
import { markSegments, matchRanges, queryPattern } from './match-ranges.js';

const RESULTS_PER_PAGE = 100;

export interface ServerSearchElements {
  panel: HTMLElement;
  title: HTMLElement;
  list: HTMLOListElement;
  more: HTMLButtonElement;
  close: HTMLButtonElement;
}

export interface ServerSearch {
  run(query: string): Promise<void>;
  hide(): void;
}

export function createServerSearch(options: { rest: RestClient; taskId: string; elements: ServerSearchElements; onPick(seq: number): void }): ServerSearch {
  const { rest, taskId, elements } = options;
  let query = '';
  let page = 0;
  let generation = 0;

  const resultItem = (entry: LogEntry, pattern: RegExp | undefined): HTMLLIElement => {
    const item = element('li');
    const button = element('button', `result level-${entry.level}`);
    button.type = 'button';
    button.dataset['seq'] = String(entry.seq);
    const text = element('span', 'msg');
    const plain = stripAnsi(entry.message);
    for (const piece of markSegments([{ text: plain }], matchRanges(plain, pattern))) {
      text.append(piece.match ? element('mark', 'match', piece.text) : document.createTextNode(piece.text));
    }
    button.append(element('span', 'ln', String(entry.seq)), element('span', 'lvl', entry.level), text);
    button.addEventListener('click', () => options.onPick(entry.seq));
    item.append(button);
    return item;
  };

  const fetchPage = async (append: boolean): Promise<void> => {
    const mine = ++generation;
    elements.more.hidden = true;
    elements.title.textContent = `Searching the whole log for “${query}”…`;
    try {
      const result = await rest.getLogs(taskId, { q: query, page, size: RESULTS_PER_PAGE });
      if (mine !== generation) return;
      const pattern = queryPattern(query);
      const items = result.content.map((entry) => resultItem(entry, pattern));
      if (append) elements.list.append(...items);
      else elements.list.replaceChildren(...items);
      const shown = elements.list.childElementCount;
      elements.title.textContent = `${formatCount(result.totalElements)} ${result.totalElements === 1 ? 'line' : 'lines'} in the whole log match “${query}”${shown < result.totalElements ? ` (showing ${formatCount(shown)})` : ''}`;
      elements.more.hidden = page + 1 >= result.totalPages;
    } catch (failure) {
      if (mine !== generation) return;
      const message = failure instanceof Error ? failure.message : String(failure);
      elements.title.textContent = `Search failed: ${message}`;
    }
  };

  elements.more.addEventListener('click', () => {
    page += 1;
    void fetchPage(true);
  });
  elements.close.addEventListener('click', () => search.hide());

  const search: ServerSearch = {
    async run(next) {
      query = next;
      page = 0;
      elements.panel.hidden = false;
      elements.list.replaceChildren();
      if (query === '') {
        elements.title.textContent = 'Type something to search for first.';
        return;
      }
      await fetchPage(false);
    },
    hide() {
      generation += 1;
      elements.panel.hidden = true;
    },
  };
  return search;
}
