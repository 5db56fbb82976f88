// Turns the raw chunks of one pipe into lines: "\n" and "\r\n" across chunk boundaries, invalid
// UTF-8 replaced, a line rewritten with "\r" reduced to what a terminal would show at its end
// (the text after a "\r" overwrites from column 0), and an over-long line cut at `maxLength`
// without ever holding more than that (plus one chunk) of it in memory: past the cut its text is
// only counted, and the cut head is passed on at its newline with the length the line had. Its
// state between chunks is plain data, so that a run's processing can be saved and resumed.
import { overwriteCarriageReturns } from '@keruta/protocol';
import { createUtf8Chunks } from './utf8-chunks.js';

export interface LineSplitterOptions {
  /** Longest line passed on, in UTF-16 code units; longer ones are cut and flagged. */
  readonly maxLength: number;
  /** `originalLength`: the line's length before any cut (that of `line` when not truncated). */
  readonly onLine: (line: string, truncated: boolean, originalLength: number) => void;
  /** Resume where a splitter whose `state()` this is left off. */
  readonly state?: LineSplitterState;
}

/** What a splitter holds between chunks. */
export interface LineSplitterState {
  readonly carry: string;
  readonly carryHasCR: boolean;
  readonly discarding: boolean;
  /** The first bytes of a UTF-8 character that the next chunk completes. */
  readonly pendingBytes: readonly number[];
  /** While `discarding`: the cut head, waiting for its newline, and the line's length so far. */
  readonly cut?: CutLine;
}

export interface CutLine {
  readonly head: string;
  readonly length: number;
  /** "\r"s counted last: they are not the line's if "\n" follows ("\r\n"). */
  readonly trailingCRs: number;
}

export interface LineSplitter {
  push(chunk: Buffer): void;
  /** The line being written (no newline yet) as a terminal shows it now; '' when there is none. */
  partial(): string;
  /** The pipe closed: pass on a last line that had no newline. */
  end(): void;
  state(): LineSplitterState;
}

const CR = 13;

export function createLineSplitter({ maxLength, onLine, state }: LineSplitterOptions): LineSplitter {
  const chunks = createUtf8Chunks(state?.pendingBytes);
  /** The start of a line whose newline has not arrived yet. */
  let carry = state?.carry ?? '';
  let carryHasCR = state?.carryHasCR ?? false;
  const overLong = createOverLongLine(onLine, state);

  const emit = (raw: string, mayHaveCR: boolean): void => {
    let line = raw;
    if (mayHaveCR) line = visiblePart(line);
    if (line.length > maxLength) onLine(cut(line, maxLength), true, line.length);
    else onLine(line, false, line.length);
  };

  /** The line in progress as a terminal shows it now. */
  const visibleCarry = (): string => (carryHasCR ? visiblePart(carry) : carry);
  const clearCarry = (): void => {
    carry = '';
    carryHasCR = false;
  };

  const keep = (rest: string, restHasCR: boolean): void => {
    if (overLong.discarding) return overLong.count(rest, 0, rest.length);
    carry = carry.length === 0 ? rest : carry + rest;
    carryHasCR ||= restHasCR;
    // A progress bar rewrites its line with "\r"; only what is on the screen can ever be shown,
    // so the carry holds that and the part after the last "\r" (the same as holding every state,
    // which would let a bar that never prints "\n" grow without bound).
    if (carryHasCR && restHasCR) carry = dropOverwritten(carry);
    if ((carryHasCR ? longestShown(carry) : carry.length) > maxLength + 1) {
      const line = visibleCarry();
      overLong.start(cut(line, maxLength), line.length);
      clearCarry();
    }
  };

  const consume = (input: string): void => {
    let text = input;
    if (text.length === 0) return;
    // NUL bytes are valid UTF-8 but PostgreSQL text columns reject them; show them as U+FFFD.
    if (text.includes('\0')) text = text.replaceAll('\0', '\uFFFD');
    const hasCR = text.includes('\r');
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      if (overLong.discarding) {
        overLong.count(text, start, newline);
        overLong.end();
      } else if (carry.length === 0) {
        emit(text.slice(start, newline), hasCR);
      } else {
        emit(carry + text.slice(start, newline), hasCR || carryHasCR);
        clearCarry();
      }
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    if (start < text.length) keep(start === 0 ? text : text.slice(start), hasCR);
  };

  return {
    push(chunk) {
      consume(chunks.decode(chunk));
    },
    partial() {
      return overLong.discarding || carry.length === 0 ? '' : visibleCarry();
    },
    end() {
      consume(chunks.end());
      if (overLong.discarding) {
        overLong.end();
      } else if (carry.length > 0) {
        const line = visibleCarry();
        if (line.length > 0) emit(line, false);
      }
      clearCarry();
    },
    state() {
      const { cut: cutLine } = overLong;
      return { carry, carryHasCR, discarding: overLong.discarding, pendingBytes: chunks.pendingBytes(), ...(cutLine === undefined ? {} : { cut: cutLine }) };
    },
  };
}

interface OverLongLine {
  /** Inside an over-long line whose head was already cut: what follows is dropped until its newline. */
  readonly discarding: boolean;
  /** The head and the length so far; undefined while discarding only when resuming a state saved before heads waited (already passed on). */
  readonly cut: CutLine | undefined;
  /** A line is longer than the splitter keeps: `head` waits for its newline, the rest is counted. */
  start(head: string, length: number): void;
  /** text[from, to) of the line, dropped: a 1 GB line costs a number, not its text. */
  count(text: string, from: number, to: number): void;
  /** Its newline (or the pipe's end) came: passes the head on with the length the line had. */
  end(): void;
}

function createOverLongLine(onLine: LineSplitterOptions['onLine'], state: LineSplitterState | undefined): OverLongLine {
  let discarding = state?.discarding ?? false;
  let cutLine: CutLine | undefined = state?.cut;
  return {
    get discarding() {
      return discarding;
    },
    get cut() {
      return cutLine;
    },
    start(head, length) {
      cutLine = { head, length, trailingCRs: 0 };
      discarding = true;
    },
    count(text, from, to) {
      if (cutLine === undefined) return;
      let end = to;
      while (end > from && text.charCodeAt(end - 1) === CR) end--;
      const trailingCRs = end === from ? cutLine.trailingCRs + (to - from) : to - end;
      cutLine = { head: cutLine.head, length: cutLine.length + (to - from), trailingCRs };
    },
    end() {
      if (cutLine !== undefined) onLine(cutLine.head, true, cutLine.length - cutLine.trailingCRs);
      cutLine = undefined;
      discarding = false;
    },
  };
}

/** What a terminal shows of a line with "\r" in it. */
const visiblePart = overwriteCarriageReturns;

/**
 * The same line in its shortest form: what is shown up to the last "\r", then that "\r" and what
 * follows it (still being written: it may grow, or be the first half of "\r\n").
 */
function dropOverwritten(partial: string): string {
  const lastCR = partial.lastIndexOf('\r');
  const head = partial.slice(0, lastCR);
  if (!head.includes('\r')) return partial;
  return visiblePart(head) + partial.slice(lastCR);
}

/** The longest a line with "\r" in it, reduced by dropOverwritten, can show: what is shown now, or what follows its last "\r". */
function longestShown(partial: string): number {
  const lastCR = partial.lastIndexOf('\r');
  return Math.max(lastCR, partial.length - lastCR - 1);
}

/** The first `max` code units, never ending inside a surrogate pair. */
export function cut(line: string, max: number): string {
  const code = line.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? line.slice(0, max - 1) : line.slice(0, max);
}
