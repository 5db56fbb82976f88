// Whether the list follows the newest line (auto-scroll) and whether new lines wait (paused). The
// user scrolling up stops following and scrolling back to the bottom starts it again; while paused
// the user's scrolling changes nothing.

export interface ScrollFollow {
  readonly autoScroll: boolean;
  readonly paused: boolean;
  /** New lines are shown and scrolled to: auto-scroll on and not paused. */
  readonly following: boolean;
  setPaused(paused: boolean): void;
  /** Sets auto-scroll without saying so (the page's checkbox set it). */
  set(on: boolean): void;
  /** The user scrolled, to the bottom or not. */
  userScrolled(atBottom: boolean): void;
  /** Auto-scroll off, said when it was on: the view went to a line or to the top. */
  stop(): void;
  /** Auto-scroll on, said when it was off, unless paused: the view went to the bottom. */
  resume(): void;
  /** Runs `change` with auto-scroll off (the view keeps its place), then puts it back as it was without saying so. */
  suspended(change: () => void): void;
}

export function createScrollFollow(onAutoScrollChange: (on: boolean) => void): ScrollFollow {
  let autoScroll = true;
  let paused = false;

  const turn = (on: boolean): void => {
    autoScroll = on;
    onAutoScrollChange(on);
  };

  return {
    get autoScroll() {
      return autoScroll;
    },
    get paused() {
      return paused;
    },
    get following() {
      return autoScroll && !paused;
    },
    setPaused(next) {
      paused = next;
    },
    set(on) {
      autoScroll = on;
    },
    userScrolled(atBottom) {
      if (autoScroll !== atBottom && !paused) turn(atBottom);
    },
    stop() {
      if (autoScroll) turn(false);
    },
    resume() {
      if (!autoScroll && !paused) turn(true);
    },
    suspended(change) {
      const was = autoScroll;
      autoScroll = false;
      change();
      autoScroll = was;
    },
  };
}
