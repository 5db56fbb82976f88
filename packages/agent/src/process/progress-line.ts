// The line the script is still writing (a progress bar, a prompt), sent now and then over the
// agent's WebSocket as a `partial` message (docs/live-partial-lines.md) so that watchers see it
// move; the line itself is stored once, when its newline comes. Only a line that has waited
// DELAY_MS without its newline is sent, so ordinary lines never cause one; at most one every
// INTERVAL_MS per pipe and only when it changed; masked and cut like a stored line. Nothing of it
// is spooled or resent: a message the socket cannot take at once is dropped, the next one follows.
import { levelRank, type AgentPartialMessage, type LogLevel } from '@keruta/protocol';
import { cut } from '../read/line-splitter.js';
import { detectLevel } from './level-detector.js';
import type { Redactor } from './redactor.js';

type Pipe = 'stdout' | 'stderr';

/** How long a line must have been without its newline before it is sent. */
export const PARTIAL_DELAY_MS = 50;
/** The shortest time between two messages of one pipe. */
export const PARTIAL_INTERVAL_MS = 100;

export interface PartialLinesOptions {
  readonly runId: string;
  readonly minLevel: LogLevel;
  readonly maxMessageLength: number;
  readonly redact: Redactor;
  /** Sends one frame if the connection can take it now; false when it was dropped. */
  readonly send: (frame: string) => boolean;
}

export interface PartialLines {
  /**
   * What a pipe's line being written is now (as a terminal shows it; '' when there is none) and
   * the lineNumber it will have; called whenever the output read so far has been processed.
   */
  update(source: Pipe, lineNumber: number, text: string): void;
  /** The run is over: nothing more is sent. */
  stop(): void;
}

interface PipeState {
  lineNumber: number;
  text: string;
  /** When this line was first seen without its newline. */
  since: number;
  sentText: string | undefined;
  sentAt: number;
  timer: NodeJS.Timeout | undefined;
}

export function createPartialLines(options: PartialLinesOptions): PartialLines {
  const minRank = levelRank(options.minLevel);
  const pipes = new Map<Pipe, PipeState>();
  let stopped = false;

  const fire = (source: Pipe, state: PipeState): void => {
    state.timer = undefined;
    if (stopped || pipes.get(source) !== state || state.text === state.sentText) return;
    const { text, lineNumber } = state;
    // A line below --log-level is not streamed when complete; neither is what it shows before.
    if (levelRank(detectLevel(text)) < minRank) return;
    const now = Date.now();
    // A timer may fire a millisecond before its time on Date.now()'s clock.
    if (now < state.sentAt + PARTIAL_INTERVAL_MS) return arm(source, state, state.sentAt + PARTIAL_INTERVAL_MS);
    let shown = options.redact(text);
    if (shown.length > options.maxMessageLength) shown = cut(shown, options.maxMessageLength);
    const message: AgentPartialMessage = { type: 'partial', source, runId: options.runId, lineNumber, text: shown, timestamp: new Date(now).toISOString() };
    if (options.send(JSON.stringify(message))) {
      state.sentText = text;
      state.sentAt = now;
    } else {
      // The socket is busy (or not a WebSocket): try again later, while the line is still unsent.
      arm(source, state, now + PARTIAL_INTERVAL_MS);
    }
  };

  const arm = (source: Pipe, state: PipeState, at: number): void => {
    if (state.timer !== undefined) return;
    state.timer = setTimeout(() => fire(source, state), Math.max(0, at - Date.now()));
    // The run's end does not wait for a progress message.
    state.timer.unref();
  };

  return {
    update(source, lineNumber, text) {
      if (stopped) return;
      let state = pipes.get(source);
      if (text === '') {
        if (state !== undefined) clearTimeout(state.timer);
        pipes.delete(source);
        return;
      }
      const now = Date.now();
      if (state === undefined || state.lineNumber !== lineNumber) {
        if (state !== undefined) clearTimeout(state.timer);
        state = { lineNumber, text, since: now, sentText: undefined, sentAt: -Infinity, timer: undefined };
        pipes.set(source, state);
      }
      state.text = text;
      if (text !== state.sentText) arm(source, state, Math.max(state.since + PARTIAL_DELAY_MS, state.sentAt + PARTIAL_INTERVAL_MS));
    },
    stop() {
      stopped = true;
      for (const state of pipes.values()) clearTimeout(state.timer);
      pipes.clear();
    },
  };
}
