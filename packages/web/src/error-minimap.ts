// The minimap beside the list: a mark for every error of the whole log at its place among the
// log's seqs, drawn again when its size changes; a click goes to the error nearest to it.
import { formatCount } from './dom.js';
import type { ErrorIndex } from './error-index.js';

export interface ErrorMinimap {
  /** Draws the marks again (the index changed). */
  draw(): void;
}

export function createErrorMinimap(options: {
  canvas: HTMLCanvasElement;
  errors: Pick<ErrorIndex, 'errorSeqs' | 'lastSeq'>;
  onPick(seq: number): void;
}): ErrorMinimap {
  const { canvas, errors } = options;

  const draw = (): void => {
    const { errorSeqs, lastSeq } = errors;
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
  };

  canvas.addEventListener('click', (event) => {
    const { errorSeqs, lastSeq } = errors;
    if (errorSeqs.length === 0 || lastSeq === 0) return;
    const rect = canvas.getBoundingClientRect();
    const seqAt = 1 + ((event.clientY - rect.top) / Math.max(1, rect.height)) * (lastSeq - 1);
    let best = errorSeqs[0] as number;
    for (const seq of errorSeqs) if (Math.abs(seq - seqAt) < Math.abs(best - seqAt)) best = seq;
    options.onPick(best);
  });
  new ResizeObserver(() => draw()).observe(canvas);
  return { draw };
}
