// When the lines that came are shown: in the next animation frame, in one batch. In a burst every
// frame would replace every row in view, so then they are shown every other frame instead, which
// halves the page's work while the lines still appear at 30 frames a second.

/** More new lines than this in a frame is a burst… */
const BURST_LINES = 200;
/** …and then new lines are shown at most this often, in ms (30 times a second). */
const BURST_FRAME_GAP_MS = 30;

export interface FramePacer {
  /** Shows the lines to show in the next animation frame, or in a later one during a burst. */
  schedule(): void;
}

export function createFramePacer(options: {
  /** How many lines are to be shown now (0: none, e.g. while paused). */
  pending(): number;
  show(): void;
}): FramePacer {
  let frame = 0;
  let lastShownAt = -Infinity;

  const onFrame = (now: number): void => {
    frame = 0;
    const pending = options.pending();
    if (pending <= 0) return;
    if (pending > BURST_LINES && now - lastShownAt < BURST_FRAME_GAP_MS) {
      frame = requestAnimationFrame(onFrame);
      return;
    }
    lastShownAt = now;
    options.show();
  };

  return {
    schedule() {
      if (frame === 0) frame = requestAnimationFrame(onFrame);
    },
  };
}
