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
  /** Where "more" reads on from: keyset, because a search that ran out of time may stop mid-page. */
  let afterSeq: number | undefined;
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
      const result = await rest.getLogs(taskId, { q: query, size: RESULTS_PER_PAGE, ...(append && afterSeq !== undefined ? { afterSeq } : {}) });
      if (mine !== generation) return;
      const pattern = queryPattern(query);
      const items = result.content.map((entry) => resultItem(entry, pattern));
      if (append) elements.list.append(...items);
      else elements.list.replaceChildren(...items);
      const shown = elements.list.childElementCount;
      // The server scans a long log within a time budget: then the count is of what it got through.
      const atLeast = result.complete === false ? 'at least ' : '';
      elements.title.textContent = `${atLeast}${formatCount(result.totalElements)} ${result.totalElements === 1 ? 'line' : 'lines'} in the whole log match “${query}”${shown < result.totalElements ? ` (showing ${formatCount(shown)})` : ''}`;
      afterSeq = result.nextAfterSeq ?? result.content[result.content.length - 1]?.seq ?? afterSeq;
      // A cut read says where to go on from; a whole one is followed while matches are left to show.
      const more = result.nextAfterSeq !== undefined || (result.complete === undefined && result.content.length > 0 && shown < result.totalElements);
      elements.more.hidden = !more;
    } catch (failure) {
      if (mine !== generation) return;
      const message = failure instanceof Error ? failure.message : String(failure);
      elements.title.textContent = `Search failed: ${message}`;
    }
  };

  elements.more.addEventListener('click', () => {
    void fetchPage(true);
  });
  elements.close.addEventListener('click', () => search.hide());

  const search: ServerSearch = {
    async run(next) {
      query = next;
      afterSeq = undefined;
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
