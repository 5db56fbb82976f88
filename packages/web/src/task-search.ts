// "Search all tasks" in the task panel: GET /api/v1/search, the lines of every task the credential
// may read that hold the text, newest first; each result links to its line (`?taskId=…#L<seq>`).
// Text goes in through textContent only, escape sequences removed.
import type { RestClient } from 'keruta-client';
import type { LogEntry } from '@keruta/protocol';
import { element } from './dom.js';

/** Results one search shows; the status says when there are more. */
const RESULTS = 50;
/** Characters of a matching line shown in the panel. */
const SHOWN_CHARS = 160;
// CSI and OSC sequences, and any other control character but tab.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[\u0000-\u0008\u000b-\u001f\u007f]/g;

export interface TaskSearchOptions {
  rest: RestClient;
  form: HTMLFormElement;
  input: HTMLInputElement;
  results: HTMLUListElement;
  status: HTMLElement;
}

export function setUpTaskSearch(options: TaskSearchOptions): void {
  const { rest, form, input, results, status } = options;
  /** Only the latest search's answer is shown. */
  let latest = 0;

  const resultItem = (entry: LogEntry): HTMLLIElement => {
    const item = element('li', 'task-item search-result');
    const link = element('a');
    link.href = `?taskId=${encodeURIComponent(entry.taskId)}#L${entry.seq}`;
    const text = entry.message.replace(ESCAPES, '');
    const line = element('span', `search-line level-${entry.level.toLowerCase()}`, text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text);
    line.title = text;
    link.append(element('span', 'task-name', entry.taskId), element('span', 'task-meta muted', `line ${entry.seq} · ${entry.level}`), line);
    item.append(link);
    return item;
  };

  const search = async (text: string): Promise<void> => {
    const mine = ++latest;
    if (text === '') {
      results.replaceChildren();
      status.textContent = '';
      return;
    }
    status.textContent = 'Searching…';
    try {
      const page = await rest.search({ q: text, limit: RESULTS });
      if (mine !== latest) return;
      results.replaceChildren(...page.results.map(resultItem));
      const more = page.nextCursor === undefined ? '' : ' (the newest; narrow the search for others)';
      const pending = page.pending > 0 ? ` · ${page.pending} new lines not searchable yet` : '';
      status.textContent = page.results.length === 0 ? `No line holds “${text}”${pending}` : `${page.results.length} lines${more}${pending}`;
    } catch (failure) {
      if (mine !== latest) return;
      results.replaceChildren();
      status.textContent = `Cannot search: ${failure instanceof Error ? failure.message : String(failure)}`;
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void search(input.value.trim());
  });
  // Clearing the box (its × or Escape) clears the results.
  input.addEventListener('search', () => {
    if (input.value === '') void search('');
  });
}
