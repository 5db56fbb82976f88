// "Compare with the last good run": GET /compare as a unified diff, one block per section (the
// sections of both runs paired by name), `+` for this run's lines, `−` for the other run's, with
// three unchanged lines around each change. Picking a line of this run goes to it in the log.
import type { SummaryClient } from 'keruta-client';
import type { CompareLine, CompareSection } from '@keruta/protocol';
import { element, formatCount } from './dom.js';
import { stripAnsi } from './line-markers.js';

export interface CompareViewElements {
  panel: HTMLElement;
  title: HTMLElement;
  list: HTMLElement;
  close: HTMLButtonElement;
  withInput: HTMLInputElement;
  form: HTMLFormElement;
}

export interface CompareView {
  show(): Promise<void>;
  toggle(): Promise<void>;
}

const MARK = { same: ' ', added: '+', removed: '−' } as const;

export function createCompareView(options: { summaries: SummaryClient; taskId: string; elements: CompareViewElements; onPick(seq: number): void }): CompareView {
  const { summaries, taskId, elements } = options;
  let generation = 0;

  const lineRow = (line: CompareLine): HTMLElement => {
    const row = element('button', `diff-line diff-${line.op}`);
    row.type = 'button';
    if (line.seq !== undefined) row.dataset['seq'] = String(line.seq);
    row.append(
      element('span', 'ln', line.withSeq === undefined ? '' : String(line.withSeq)),
      element('span', 'ln', line.seq === undefined ? '' : String(line.seq)),
      element('span', 'op', MARK[line.op]),
      element('span', 'msg', stripAnsi(line.text)),
    );
    const seq = line.seq;
    if (seq !== undefined) row.addEventListener('click', () => options.onPick(seq));
    else row.disabled = true;
    return row;
  };

  const sectionBlock = (section: CompareSection): HTMLElement => {
    const block = element('li', `diff-section${section.added + section.removed > 0 ? ' changed' : ''}`);
    const name = section.name === null ? '(outside sections)' : section.name || '(section)';
    const where = !section.inWith ? ' · only in this run' : !section.inTask ? ' · only in the other run' : '';
    const head = element('div', 'diff-head');
    head.append(element('span', 'name', name), element('span', 'diff-added', `+${formatCount(section.added)}`), element('span', 'diff-removed', `−${formatCount(section.removed)}`), element('span', 'muted', where));
    block.append(head);
    for (const line of section.lines) {
      if (line.gapBefore === true) block.append(element('div', 'diff-gap muted', '⋯'));
      block.append(lineRow(line));
    }
    if (section.truncated === true) block.append(element('div', 'diff-gap muted', 'more changes than one comparison shows'));
    return block;
  };

  const run = async (): Promise<void> => {
    const mine = ++generation;
    elements.list.replaceChildren();
    const other = elements.withInput.value.trim();
    elements.title.textContent = other === '' ? 'Comparing with the last succeeded run…' : `Comparing with ${other}…`;
    try {
      const result = await summaries.compare(taskId, other === '' ? {} : { with: other });
      if (mine !== generation) return;
      const changed = result.sections.filter((s) => s.added + s.removed > 0);
      elements.withInput.placeholder = result.withTaskId;
      elements.title.textContent =
        `${taskId} against ${result.withTaskId}: +${formatCount(result.totals.added)} −${formatCount(result.totals.removed)} lines ` +
        `in ${formatCount(changed.length)} of ${formatCount(result.sections.length)} sections${result.truncated ? ' (cut)' : ''}`;
      // Sections without a change are one line each: the alignment stays readable.
      elements.list.append(...result.sections.map(sectionBlock));
    } catch (failure) {
      if (mine !== generation) return;
      elements.title.textContent = `Cannot compare: ${failure instanceof Error ? failure.message : String(failure)}`;
    }
  };

  elements.form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run();
  });
  elements.close.addEventListener('click', () => {
    generation += 1;
    elements.panel.hidden = true;
  });

  const view: CompareView = {
    async show() {
      elements.panel.hidden = false;
      await run();
    },
    async toggle() {
      if (elements.panel.hidden) await view.show();
      else elements.close.click();
    },
  };
  return view;
}
