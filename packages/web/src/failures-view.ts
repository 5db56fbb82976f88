// "Failures only": the log reduced to its errors with ± N lines around each (Octopus-style), read
// from GET /errors a page of windows at a time, so a million-line log shows only what matters.
// Picking a line goes to it in the full log.
import type { SummaryClient } from 'keruta-client';
import type { ErrorWindow, LogEntry } from '@keruta/protocol';
import { element, formatCount } from './dom.js';
import { stripAnsi } from './line-markers.js';

export interface FailuresViewElements {
  panel: HTMLElement;
  title: HTMLElement;
  list: HTMLElement;
  more: HTMLButtonElement;
  close: HTMLButtonElement;
  context: HTMLInputElement;
}

export interface FailuresView {
  toggle(): Promise<void>;
  show(): Promise<void>;
}

export function createFailuresView(options: {
  summaries: SummaryClient;
  taskId: string;
  elements: FailuresViewElements;
  onPick(seq: number): void;
}): FailuresView {
  const { summaries, taskId, elements } = options;
  let after: number | null = 0;
  let generation = 0;

  const lineButton = (entry: LogEntry, isError: boolean): HTMLElement => {
    const button = element('button', `result level-${entry.level}${isError ? ' failure' : ''}`);
    button.type = 'button';
    button.dataset['seq'] = String(entry.seq);
    button.append(element('span', 'ln', String(entry.seq)), element('span', 'lvl', entry.level), element('span', 'msg', stripAnsi(entry.message)));
    button.addEventListener('click', () => options.onPick(entry.seq));
    return button;
  };

  const windowElement = (window: ErrorWindow): HTMLElement => {
    const errors = new Set(window.errors.map((e) => e.seq));
    const block = element('li', 'failure-window');
    block.append(element('div', 'window-head muted', `lines ${formatCount(window.fromSeq)}–${formatCount(window.toSeq)}`));
    for (const entry of window.lines) block.append(lineButton(entry, errors.has(entry.seq)));
    return block;
  };

  const context = (): number => {
    const value = Number(elements.context.value);
    return Number.isInteger(value) && value >= 0 && value <= 200 ? value : 3;
  };

  const fetchPage = async (append: boolean): Promise<void> => {
    const mine = ++generation;
    elements.more.hidden = true;
    if (!append) {
      after = 0;
      elements.list.replaceChildren();
      elements.title.textContent = 'Reading the failures…';
    }
    try {
      const page = await summaries.getErrorContext(taskId, { context: context(), errorsAfter: after ?? 0 });
      if (mine !== generation) return;
      elements.list.append(...page.windows.map(windowElement));
      const shown = elements.list.querySelectorAll('.failure').length;
      elements.title.textContent =
        page.totalErrors === 0
          ? 'No failures in this log'
          : `${formatCount(page.totalErrors)} ${page.totalErrors === 1 ? 'failure' : 'failures'} with ±${page.context} lines${shown < page.totalErrors ? ` (showing ${formatCount(shown)})` : ''}`;
      after = page.nextErrorsAfter;
      elements.more.hidden = after === null;
    } catch (failure) {
      if (mine !== generation) return;
      elements.title.textContent = `Could not read the failures: ${failure instanceof Error ? failure.message : String(failure)}`;
    }
  };

  elements.more.addEventListener('click', () => void fetchPage(true));
  elements.close.addEventListener('click', () => {
    generation += 1;
    elements.panel.hidden = true;
  });
  elements.context.addEventListener('change', () => {
    if (!elements.panel.hidden) void fetchPage(false);
  });

  const view: FailuresView = {
    async show() {
      elements.panel.hidden = false;
      await fetchPage(false);
    },
    async toggle() {
      if (elements.panel.hidden) await view.show();
      else elements.close.click();
    },
  };
  return view;
}
