// Turns the raw chunks of one pipe into lines: "\n" and "\r\n" across chunk boundaries, invalid
// UTF-8 replaced, a "\r" progress bar reduced to what a terminal would show, and an over-long line
// cut at `maxLength` without ever holding more than that (plus one chunk) of it in memory.
import { StringDecoder } from 'node:string_decoder';

export interface LineSplitterOptions {
  /** Longest line passed on, in UTF-16 code units; longer ones are cut and flagged. */
  readonly maxLength: number;
  readonly onLine: (line: string, truncated: boolean) => void;
}

export interface LineSplitter {
  push(chunk: Buffer): void;
  /** The pipe closed: pass on a last line that had no newline. */
  end(): void;
}

const CR = 13;

export function createLineSplitter({ maxLength, onLine }: LineSplitterOptions): LineSplitter {
  const decoder = new StringDecoder('utf8');
  /** The start of a line whose newline has not arrived yet. */
  let carry = '';
  let carryHasCR = false;
  /** Inside an over-long line whose head was already passed on: drop until its newline. */
  let discarding = false;

  const emit = (raw: string, mayHaveCR: boolean): void => {
    let line = raw;
    if (mayHaveCR) line = visiblePart(line);
    if (line.length > maxLength) onLine(cut(line, maxLength), true);
    else onLine(line, false);
  };

  const keep = (rest: string, restHasCR: boolean): void => {
    if (discarding) return;
    carry = carry.length === 0 ? rest : carry + rest;
    carryHasCR ||= restHasCR;
    if (carryHasCR) {
      // A progress bar rewrites its line with "\r"; only the last state can ever be shown, so
      // keeping the earlier ones would let a bar that never prints "\n" grow without bound.
      carry = dropOverwritten(carry);
      carryHasCR = carry.includes('\r');
    }
    if (carry.length > maxLength + 1) {
      onLine(cut(carryHasCR ? visiblePart(carry) : carry, maxLength), true);
      carry = '';
      carryHasCR = false;
      discarding = true;
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
      if (discarding) {
        discarding = false;
      } else if (carry.length === 0) {
        emit(text.slice(start, newline), hasCR);
      } else {
        emit(carry + text.slice(start, newline), hasCR || carryHasCR);
        carry = '';
        carryHasCR = false;
      }
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    if (start < text.length) keep(start === 0 ? text : text.slice(start), hasCR);
  };

  return {
    push(chunk) {
      consume(decoder.write(chunk));
    },
    end() {
      consume(decoder.end());
      if (!discarding && carry.length > 0) {
        const line = carryHasCR ? visiblePart(carry) : carry;
        if (line.length > 0) emit(line, false);
      }
      carry = '';
      carryHasCR = false;
      discarding = false;
    },
  };
}

/** What a terminal shows of a line with "\r" in it: the text after the last one that is not trailing. */
function visiblePart(line: string): string {
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === CR) end--;
  const lastCR = line.lastIndexOf('\r', end - 1);
  return line.slice(lastCR + 1, end);
}

/** Drops what a later "\r" overwrote, keeping any trailing "\r" (it may be the first half of "\r\n"). */
function dropOverwritten(partial: string): string {
  let end = partial.length;
  while (end > 0 && partial.charCodeAt(end - 1) === CR) end--;
  const lastCR = end === 0 ? -1 : partial.lastIndexOf('\r', end - 1);
  return lastCR === -1 ? partial : partial.slice(lastCR + 1);
}

/** The first `max` code units, never ending inside a surrogate pair. */
export function cut(line: string, max: number): string {
  const code = line.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? line.slice(0, max - 1) : line.slice(0, max);
}
