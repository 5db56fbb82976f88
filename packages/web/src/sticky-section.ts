// The header of the section the top row is in, kept over the list once the header itself has
// scrolled away, with the section's duration and status; a click on it goes to the header.
import type { LogGroup } from '@keruta/protocol';
import { element } from './dom.js';
import { groupName } from './line-markers.js';
import { LINE_FLAGS, type LineStore } from './line-store.js';
import { formatDuration } from './row-view.js';

export interface StickySection {
  /** The list was drawn with `firstLine` (absolute index, -1 for none) at its top. */
  update(firstLine: number): void;
  /** The header is written again at the next update (what is known of the sections changed). */
  forget(): void;
}

export function createStickySection(options: {
  element: HTMLElement;
  store: LineStore;
  /** The section whose header has this seq, when the page knows it. */
  section(seq: number): LogGroup | undefined;
  goToLine(seq: number): Promise<void>;
}): StickySection {
  const { element: sticky, store } = options;
  /** The header seq shown, 0 for none. */
  let shownSeq = 0;

  sticky.addEventListener('click', () => {
    if (shownSeq > 0) void options.goToLine(shownSeq);
  });

  return {
    update(firstLine) {
      const group = firstLine < 0 ? 0 : store.groupAt(firstLine);
      const headerIndex = group === 0 ? undefined : store.indexOfSeq(group);
      const headerInView = headerIndex === firstLine || (headerIndex !== undefined && firstLine >= 0 && store.flagsAt(firstLine) & LINE_FLAGS.groupStart);
      if (group === 0 || headerIndex === undefined || headerInView) {
        if (shownSeq !== 0) {
          shownSeq = 0;
          sticky.hidden = true;
        }
        return;
      }
      if (shownSeq === group) return;
      shownSeq = group;
      const info = options.section(group);
      const name = groupName(store.messageAt(headerIndex)) || '(section)';
      sticky.replaceChildren(element('span', 'fold', '▾'), element('span', 'ln', String(group)), element('span', 'msg', name));
      if (info !== undefined) sticky.append(element('span', 'dur', formatDuration(info.durationMs)));
      sticky.className = `sticky-section group-header${info === undefined ? '' : ` section-${info.status}`}`;
      sticky.dataset['seq'] = String(group);
      sticky.hidden = false;
    },
    forget() {
      shownSeq = 0;
    },
  };
}
