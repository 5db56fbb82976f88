// Where the task broke, over the whole stored log (not only the lines the page holds): the
// store's error index (error-index.ts) drives the first-failure jump, `n`/`N` and the error
// buttons with their position text, the minimap beside the list, the section durations and the
// sticky section header.
import type { SummaryClient } from 'keruta-client';
import { formatCount } from './dom.js';
import { createErrorIndex, type ErrorIndex } from './error-index.js';
import { createErrorMinimap } from './error-minimap.js';
import type { LogViewer } from './log-viewer.js';
import type { SectionInfo } from './row-view.js';
import { createStickySection } from './sticky-section.js';

export interface FailureNavElements {
  previous: HTMLButtonElement;
  next: HTMLButtonElement;
  position: HTMLElement;
  minimap: HTMLCanvasElement;
  sticky: HTMLElement;
}

export interface FailureNav extends Pick<ErrorIndex, 'load' | 'noteEntries' | 'errorSeqs'> {
  /** Goes to the next (1) or previous (-1) error from the line in view; false when the log has none. */
  go(direction: 1 | -1): Promise<boolean>;
  sectionInfo(seq: number): SectionInfo | undefined;
  /** The list was drawn with `firstLine` (absolute index) at its top. */
  drawn(firstLine: number): void;
}

export function createFailureNav(options: {
  summaries: SummaryClient;
  taskId: string;
  viewer: LogViewer;
  elements: FailureNavElements;
  goToLine(seq: number): Promise<void>;
}): FailureNav {
  const { viewer, elements } = options;
  const index = createErrorIndex({
    summaries: options.summaries,
    taskId: options.taskId,
    onRead() {
      sticky.forget();
      minimap.draw();
      updatePosition();
      viewer.redraw();
    },
  });
  const minimap = createErrorMinimap({ canvas: elements.minimap, errors: index, onPick: (seq) => void options.goToLine(seq).then(updatePosition) });
  const sticky = createStickySection({ element: elements.sticky, store: viewer.store, section: index.section, goToLine: options.goToLine });

  /** The top line in view, as last drawn. */
  let currentTopSeq: number | undefined;
  /** The seq the next error is counted from: the line last jumped to, else just above the top line in view. */
  const currentSeq = (): number => (viewer.targetSeq > 0 ? viewer.targetSeq : (currentTopSeq ?? 1) - 1);

  /** The target line the position text was written for. */
  let positionFor = -1;
  const updatePosition = (): void => {
    const { errorSeqs } = index;
    positionFor = viewer.targetSeq;
    const at = indexOfSorted(errorSeqs, viewer.targetSeq);
    const total = formatCount(errorSeqs.length);
    elements.position.textContent = errorSeqs.length === 0 ? 'no errors' : at >= 0 ? `error ${formatCount(at + 1)} / ${total}` : `${total} ${errorSeqs.length === 1 ? 'error' : 'errors'}`;
    elements.previous.disabled = errorSeqs.length === 0;
    elements.next.disabled = errorSeqs.length === 0;
  };

  const go = async (direction: 1 | -1): Promise<boolean> => {
    const loading = index.loading;
    if (loading !== undefined) await loading;
    const { errorSeqs } = index;
    if (errorSeqs.length === 0) return false;
    const from = currentSeq();
    let target: number | undefined;
    if (direction === 1) target = errorSeqs.find((seq) => seq > from) ?? errorSeqs[0];
    else target = errorSeqs.findLast((seq) => seq < from) ?? errorSeqs.at(-1);
    if (target === undefined) return false;
    await options.goToLine(target);
    updatePosition();
    return true;
  };
  elements.previous.addEventListener('click', () => void go(-1));
  elements.next.addEventListener('click', () => void go(1));

  return {
    load: index.load,
    go,
    get errorSeqs() {
      return index.errorSeqs;
    },
    sectionInfo(seq) {
      const group = index.section(seq);
      return group === undefined ? undefined : { durationMs: group.durationMs, status: group.status };
    },
    noteEntries: index.noteEntries,
    drawn(firstLine) {
      if (viewer.targetSeq !== positionFor) updatePosition();
      currentTopSeq = firstLine < 0 ? undefined : viewer.store.seqAt(firstLine);
      sticky.update(firstLine);
    },
  };
}

/** Where `seq` is in the ascending `seqs`, -1 when it is not there. */
function indexOfSorted(seqs: readonly number[], seq: number): number {
  let low = 0;
  let high = seqs.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((seqs[mid] as number) < seq) low = mid + 1;
    else high = mid;
  }
  return seqs[low] === seq ? low : -1;
}
