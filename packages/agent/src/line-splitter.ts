// Turns the raw chunks of one pipe into lines: "\n" and "\r\n" across chunk boundaries, invalid
// UTF-8 replaced, a "\r" progress bar reduced to what a terminal would show, and an over-long line
// cut at `maxLength` without ever holding more than that (plus one chunk) of it in memory: past the
// cut its text is only counted, and the cut head is passed on at its newline with the length the
// line had. Its state between chunks is plain data, so that a run's processing can be saved and resumed.

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
  /** The pipe closed: pass on a last line that had no newline. */
  end(): void;
  state(): LineSplitterState;
}

const CR = 13;
const NO_BYTES = Buffer.alloc(0);

export function createLineSplitter({ maxLength, onLine, state }: LineSplitterOptions): LineSplitter {
  /** The start of a line whose newline has not arrived yet. */
  let carry = state?.carry ?? '';
  let carryHasCR = state?.carryHasCR ?? false;
  /** Inside an over-long line whose head was already passed on: drop until its newline. */
  let discarding = state?.discarding ?? false;
  let pending = state === undefined || state.pendingBytes.length === 0 ? NO_BYTES : Buffer.from(state.pendingBytes);
  /** Undefined while discarding only when resuming a state saved before heads waited (already passed on). */
  let cutLine: CutLine | undefined = state?.cut;

  /** Counts text[from, to) of a cut line, which is dropped: a 1 GB line costs a number, not its text. */
  const countCut = (text: string, from: number, to: number): void => {
    if (cutLine === undefined) return;
    let end = to;
    while (end > from && text.charCodeAt(end - 1) === CR) end--;
    const trailingCRs = end === from ? cutLine.trailingCRs + (to - from) : to - end;
    cutLine = { head: cutLine.head, length: cutLine.length + (to - from), trailingCRs };
  };
  const endCut = (): void => {
    if (cutLine !== undefined) onLine(cutLine.head, true, cutLine.length - cutLine.trailingCRs);
    cutLine = undefined;
    discarding = false;
  };

  const emit = (raw: string, mayHaveCR: boolean): void => {
    let line = raw;
    if (mayHaveCR) line = visiblePart(line);
    if (line.length > maxLength) onLine(cut(line, maxLength), true, line.length);
    else onLine(line, false, line.length);
  };

  const keep = (rest: string, restHasCR: boolean): void => {
    if (discarding) {
      countCut(rest, 0, rest.length);
      return;
    }
    carry = carry.length === 0 ? rest : carry + rest;
    carryHasCR ||= restHasCR;
    if (carryHasCR) {
      // A progress bar rewrites its line with "\r"; only the last state can ever be shown, so
      // keeping the earlier ones would let a bar that never prints "\n" grow without bound.
      carry = dropOverwritten(carry);
      carryHasCR = carry.includes('\r');
    }
    if (carry.length > maxLength + 1) {
      const line = carryHasCR ? visiblePart(carry) : carry;
      cutLine = { head: cut(line, maxLength), length: line.length, trailingCRs: 0 };
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
        countCut(text, start, newline);
        endCut();
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
      let bytes = chunk;
      if (pending.length > 0) {
        bytes = Buffer.concat([pending, chunk]);
        pending = NO_BYTES;
      }
      const end = bytes.length - incompleteTail(bytes);
      if (end < bytes.length) pending = Buffer.from(bytes.subarray(end));
      consume(bytes.toString('utf8', 0, end));
    },
    end() {
      if (pending.length > 0) consume(pending.toString('utf8'));
      pending = NO_BYTES;
      if (discarding) {
        endCut();
      } else if (carry.length > 0) {
        const line = carryHasCR ? visiblePart(carry) : carry;
        if (line.length > 0) emit(line, false);
      }
      carry = '';
      carryHasCR = false;
    },
    state() {
      return { carry, carryHasCR, discarding, pendingBytes: [...pending], ...(cutLine === undefined ? {} : { cut: cutLine }) };
    },
  };
}

/**
 * How many bytes at the end of `bytes` begin a UTF-8 character that they do not finish (0-3):
 * they wait for the next chunk. Decoding the rest at once gives the same text as decoding the
 * whole stream, invalid bytes replaced alike.
 */
function incompleteTail(bytes: Buffer): number {
  const n = bytes.length;
  if (n === 0 || (bytes[n - 1] as number) < 0x80) return 0;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const byte = bytes[n - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    if (byte < 0xc0) return 0;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    return length > back ? back : 0;
  }
  return 0;
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
