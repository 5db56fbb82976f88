// What the main thread (execute.ts, streaming.ts) and the reading thread (reader-worker.ts) tell
// each other. Output itself never travels in a message: it goes through the intake journal.
import type { Invocation, ScriptExit } from '../run/runner.js';
import type { EventPayload } from './intake.js';

export interface ReaderWorkerData {
  readonly scriptPath: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where to journal the output (absent when nothing is streamed: the output is only echoed). */
  readonly intake?: {
    readonly dir: string;
    /** How the reading thread wakes the main thread (wake-signal.ts). */
    readonly signal: SharedArrayBuffer;
    /** `started`'s metadata besides the script's pid, which only the reading thread knows first. */
    readonly started: Readonly<Record<string, unknown>>;
    /** filters.excludePatterns, applied before anything is journaled (intake-masker.ts); absent without patterns. */
    readonly mask?: { readonly patterns: readonly string[]; readonly keepChars: number };
  };
}

export type ToReader =
  /** One of the agent's own entries, to be journaled after everything read so far. */
  | { readonly type: 'event'; readonly payload: EventPayload }
  /** After `exited` (when given) nothing more is journaled: close the intake. */
  | { readonly type: 'seal'; readonly payload?: EventPayload };

export type FromReader =
  /** `group`: the script leads a process group of its own, which signals are passed on to. */
  | { readonly type: 'spawned'; readonly pid: number; readonly via: Invocation; readonly group: boolean }
  /** The intake grew while the main thread was asleep. */
  | { readonly type: 'wake' }
  /** The intake could not be written (disk full …): that output is echoed but not kept. */
  | { readonly type: 'intake-error'; readonly reason: string }
  /** The script is done and its output journaled; `event` is the `exited` entry, to be sealed with. */
  | { readonly type: 'exited'; readonly exit: ScriptExit; readonly event: EventPayload; readonly failure?: { readonly code: string; readonly message: string } }
  /** The intake is closed. */
  | { readonly type: 'sealed' };
