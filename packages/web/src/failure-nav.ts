// Where the task broke, over the whole stored log (not only the lines the page holds): the
// store's error index read through GET /summary drives the first-failure jump, `n`/`N` and the
// error buttons, the minimap beside the list, the section durations and the sticky section header.
import type { SummaryClient } from 'keruta-client';
import type { LogEntry, LogGroup, TaskLogSummary } from '@keruta/protocol';
import { isErrorAnnotation, isGroupEnd } from '@keruta/protocol';
import { element, formatCount } from './dom.js';
import { groupName } from './line-markers.js';
import { LINE_FLAGS } from './line-store.js';
import type { LogViewer } from './log-viewer.js';
import { formatDuration, type SectionInfo } from './row-view.js';

/** Errors and sections per summary request: the most the server gives. */
const PAGE = 1000;
/** After live lines that change the index, the summary is read again at most this often, in ms. */
const REFRESH_GAP_MS = 1000;

export interface FailureNavElements {
  previous: HTMLButtonElement;
  next: HTMLButtonElement;
  position: HTMLElement;
  minimap: HTMLCanvasElement;
  sticky: HTMLElement;
}

export interface FailureNav {
  /** Reads the index; the summary, or undefined when the task has no log yet (or the read failed). */
  load(): Promise<TaskLogSummary | undefined>;
  /** Goes to the next (1) or previous (-1) error from the line in view; false when the log has none. */
  go(direction: 1 | -1): Promise<boolean>;
  sectionInfo(seq: number): SectionInfo | undefined;
  /** New lines arrived: an error or a section's end among them means the index moved. */
  noteEntries(entries: readonly LogEntry[]): void;
  /** The list was drawn with `firstLine` (absolute index) at its top. */
  drawn(firstLine: number): void;
  readonly errorSeqs: readonly number[];
}

export function createFailureNav(options: {
  summaries: SummaryClient;
  taskId: string;
  viewer: LogViewer;
  elements: FailureNavElements;
  goToLine(seq: number): Promise<void>;
}): FailureNav {
  const { summaries, taskId, viewer, elements } = options;
  let errorSeqs: number[] = [];
  const groups = new Map<number, LogGroup>();
  let lastSeq = 0;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let loading: Promise<TaskLogSummary | undefined> | undefined;

  /** Set once a whole read succeeded: later reads go on from what is held. */
  let complete = false;

  /**
   * Reads every error's seq (for `n`/`N` and the minimap: 8 bytes each, a thousand per request)
   * and every section. Once held, a read for new lines asks only for errors after the last one
   * held and for sections from the last one held (the open one's end and duration move).
   */
  const readAll = async (): Promise<TaskLogSummary | undefined> => {
    const errorsFrom = complete ? (errorSeqs.at(-1) ?? 0) : 0;
    let lastGroup = 0;
    if (complete) for (const seq of groups.keys()) lastGroup = Math.max(lastGroup, seq);
    const groupsFrom = Math.max(0, lastGroup - 1);
    let first: TaskLogSummary;
    try {
      first = await summaries.getSummary(taskId, { context: 0, size: PAGE, errorsAfter: errorsFrom, groupsAfter: groupsFrom });
    } catch {
      // No log yet (TASK_NOT_FOUND) or the server cannot answer now: the page works without the
      // index, and reads it again when lines with errors arrive.
      return undefined;
    }
    const seqs = first.errors.map((e) => e.seq);
    const found: LogGroup[] = [...first.groups];
    let page = first;
    while (page.nextErrorsAfter !== null || page.nextGroupsAfter !== null) {
      page = await summaries.getSummary(taskId, {
        context: 0,
        size: PAGE,
        errorsAfter: page.nextErrorsAfter ?? Number.MAX_SAFE_INTEGER,
        groupsAfter: page.nextGroupsAfter ?? Number.MAX_SAFE_INTEGER,
      });
      seqs.push(...page.errors.map((e) => e.seq));
      found.push(...page.groups);
    }
    // A delete may have taken lines: then the counts no longer add up, and everything is read again.
    const held = errorsFrom === 0 ? [] : errorSeqs;
    if (complete && held.length + seqs.length !== first.counts.errors + first.counts.annotations) {
      complete = false;
      return readAll();
    }
    errorSeqs = [...held, ...seqs];
    if (!complete) groups.clear();
    for (const group of found) groups.set(group.startSeq, group);
    complete = true;
    lastSeq = first.lastSeq;
    stickySeq = 0;
    drawMinimap();
    updatePosition();
    viewer.redraw();
    return first;
  };

  const load = (): Promise<TaskLogSummary | undefined> => {
    loading ??= readAll().finally(() => {
      loading = undefined;
    });
    return loading;
  };

  /** The top line in view, as last drawn. */
  let currentTopSeq: number | undefined;
  /** The seq the next error is counted from: the line last jumped to, else just above the top line in view. */
  const currentSeq = (): number => (viewer.targetSeq > 0 ? viewer.targetSeq : (currentTopSeq ?? 1) - 1);

  /** The target line the position text was written for. */
  let positionFor = -1;
  const updatePosition = (): void => {
    positionFor = viewer.targetSeq;
    const at = indexOfSorted(errorSeqs, viewer.targetSeq);
    const total = formatCount(errorSeqs.length);
    elements.position.textContent = errorSeqs.length === 0 ? 'no errors' : at >= 0 ? `error ${formatCount(at + 1)} / ${total}` : `${total} ${errorSeqs.length === 1 ? 'error' : 'errors'}`;
    elements.previous.disabled = errorSeqs.length === 0;
    elements.next.disabled = errorSeqs.length === 0;
  };

  const go = async (direction: 1 | -1): Promise<boolean> => {
    if (loading !== undefined) await loading;
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

  function drawMinimap(): void {
    const canvas = elements.minimap;
    const height = canvas.clientHeight;
    const width = canvas.clientWidth;
    if (height === 0) return;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const context = canvas.getContext('2d');
    if (context === null) return;
    context.scale(ratio, ratio);
    context.clearRect(0, 0, width, height);
    canvas.dataset['marks'] = String(errorSeqs.length);
    canvas.title = errorSeqs.length === 0 ? 'No errors in this log' : `${formatCount(errorSeqs.length)} errors over the whole log: click to go to one`;
    if (lastSeq === 0) return;
    context.fillStyle = getComputedStyle(canvas).color;
    // One 3-pixel mark per error; a million errors still draw as at most one mark per pixel row.
    let lastY = -1;
    for (const seq of errorSeqs) {
      const y = Math.floor(((seq - 1) / Math.max(1, lastSeq - 1)) * (height - 3));
      if (y === lastY) continue;
      lastY = y;
      context.fillRect(0, y, width, 3);
    }
  }

  elements.minimap.addEventListener('click', (event) => {
    if (errorSeqs.length === 0 || lastSeq === 0) return;
    const rect = elements.minimap.getBoundingClientRect();
    const seqAt = 1 + ((event.clientY - rect.top) / Math.max(1, rect.height)) * (lastSeq - 1);
    let best = errorSeqs[0] as number;
    for (const seq of errorSeqs) if (Math.abs(seq - seqAt) < Math.abs(best - seqAt)) best = seq;
    void options.goToLine(best).then(updatePosition);
  });
  new ResizeObserver(() => drawMinimap()).observe(elements.minimap);
  elements.previous.addEventListener('click', () => void go(-1));
  elements.next.addEventListener('click', () => void go(1));

  let stickySeq = 0;
  elements.sticky.addEventListener('click', () => {
    if (stickySeq > 0) void options.goToLine(stickySeq);
  });

  return {
    load,
    go,
    get errorSeqs() {
      return errorSeqs;
    },
    sectionInfo(seq) {
      const group = groups.get(seq);
      return group === undefined ? undefined : { durationMs: group.durationMs, status: group.status };
    },
    noteEntries(entries) {
      if (refreshTimer !== undefined) return;
      const moves = entries.some((e) => e.level === 'ERROR' || isErrorAnnotation(e.message) || isGroupEnd(e.message));
      if (!moves) return;
      refreshTimer = setTimeout(() => {
        refreshTimer = undefined;
        void load();
      }, REFRESH_GAP_MS);
    },
    drawn(firstLine) {
      const { store } = viewer;
      if (viewer.targetSeq !== positionFor) updatePosition();
      currentTopSeq = firstLine < 0 ? undefined : store.seqAt(firstLine);
      // The header of the section the top row is in, once the header itself has scrolled away.
      const group = firstLine < 0 ? 0 : store.groupAt(firstLine);
      const headerIndex = group === 0 ? undefined : store.indexOfSeq(group);
      const headerInView = headerIndex === firstLine || (headerIndex !== undefined && firstLine >= 0 && store.flagsAt(firstLine) & LINE_FLAGS.groupStart);
      if (group === 0 || headerIndex === undefined || headerInView) {
        if (stickySeq !== 0) {
          stickySeq = 0;
          elements.sticky.hidden = true;
        }
        return;
      }
      if (stickySeq === group) return;
      stickySeq = group;
      const info = groups.get(group);
      const name = groupName(store.messageAt(headerIndex)) || '(section)';
      elements.sticky.replaceChildren(element('span', 'fold', '▾'), element('span', 'ln', String(group)), element('span', 'msg', name));
      if (info !== undefined) elements.sticky.append(element('span', 'dur', formatDuration(info.durationMs)));
      elements.sticky.className = `sticky-section group-header${info === undefined ? '' : ` section-${info.status}`}`;
      elements.sticky.dataset['seq'] = String(group);
      elements.sticky.hidden = false;
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
