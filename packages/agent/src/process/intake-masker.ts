// Masking before anything reaches the disk (filters.excludePatterns): with patterns set, the
// reading thread journals only complete pieces of output — up to a "\n" or "\r" — masked, and holds
// the piece in progress in memory, at most 4 × `keepChars` bytes of it. Past that the piece is
// longer than any line is stored: its masked head (`keepChars` long) is journaled and the rest
// replaced by a filler that the line splitter drops (it keeps only the head of an over-long line),
// so that no byte of an unmasked secret is ever written. Without patterns none of this runs (reader-worker.ts).
import type { OutputSource } from '../run/runner.js';
import { createRedactor } from './redactor.js';

export interface IntakeMasker {
  /** What of `buffer[0, length)` can be journaled now, masked (empty when no piece is complete). */
  take(source: OutputSource, buffer: Buffer, length: number): Buffer;
  /** The pipe closed: the piece in progress, masked. */
  end(source: OutputSource): Buffer;
}

const LF = 0x0a;
const CR = 0x0d;
/** Stands in for the bytes of an over-long piece past its head; never stored (see above). */
const FILLER = 0x2e;
const EMPTY = Buffer.alloc(0);
/** A run of text between separators: what each pattern is matched against, as the processing does per line. */
const PIECE = /[^\r\n]+/g;

interface Held {
  readonly bytes: Buffer;
  length: number;
  /** Past `maxPieceBytes`: the head is journaled, the rest of the piece becomes filler. */
  over: boolean;
}

function lastSeparator(buffer: Buffer, length: number): number {
  for (let i = length - 1; i >= 0; i--) {
    const byte = buffer[i];
    if (byte === LF || byte === CR) return i;
  }
  return -1;
}

/** The end of the last whole UTF-8 character in `bytes[0, end)`. */
function wholeCharacters(bytes: Buffer, end: number): number {
  let start = end;
  while (start > 0 && ((bytes[start - 1] ?? 0) & 0xc0) === 0x80) start--;
  if (start === 0) return end;
  const lead = bytes[start - 1] ?? 0;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return end - (start - 1) >= size ? end : start - 1;
}

export function createIntakeMasker(options: { readonly patterns: readonly string[]; readonly keepChars: number }): IntakeMasker {
  const redact = createRedactor(options.patterns);
  const { keepChars } = options;
  // A UTF-16 code unit takes at most 3 bytes: what is held past the kept head is context for masking.
  const maxPieceBytes = 4 * keepChars + 4;
  const held: Record<OutputSource, Held> = {
    stdout: { bytes: Buffer.allocUnsafe(maxPieceBytes), length: 0, over: false },
    stderr: { bytes: Buffer.allocUnsafe(maxPieceBytes), length: 0, over: false },
  };
  const mask = (bytes: Buffer): Buffer => Buffer.from(bytes.toString('utf8').replace(PIECE, (piece) => redact(piece)), 'utf8');

  /** Adds bytes of the piece in progress (no separator among them); returns what must be journaled now. */
  const hold = (state: Held, bytes: Buffer): Buffer[] => {
    if (state.over) return [Buffer.alloc(bytes.length, FILLER)];
    const room = maxPieceBytes - state.length;
    if (bytes.length <= room) {
      state.bytes.set(bytes, state.length);
      state.length += bytes.length;
      return [];
    }
    state.bytes.set(bytes.subarray(0, room), state.length);
    state.over = true;
    // Masked with everything held around it, so that a secret across the cut is matched whole; only
    // what the splitter keeps is journaled.
    const text = mask(state.bytes.subarray(0, wholeCharacters(state.bytes, maxPieceBytes))).toString('utf8');
    const head = Buffer.from(text.slice(0, keepChars), 'utf8');
    state.length = 0;
    return [head, Buffer.alloc(Math.max(1, maxPieceBytes - head.length) + bytes.length - room, FILLER)];
  };

  const reset = (state: Held): void => {
    state.length = 0;
    state.over = false;
  };

  return {
    take(source, buffer, length) {
      const state = held[source];
      const last = lastSeparator(buffer, length);
      if (last < 0) {
        const out = hold(state, buffer.subarray(0, length));
        return out.length === 0 ? EMPTY : Buffer.concat(out);
      }
      let first = 0;
      while (buffer[first] !== LF && buffer[first] !== CR) first++;
      // The held piece ends at the first separator; all up to the last is complete, the rest is held.
      const parts = hold(state, buffer.subarray(0, first));
      const complete = buffer.subarray(first, last + 1);
      parts.push(state.over ? mask(complete) : mask(Buffer.concat([state.bytes.subarray(0, state.length), complete])));
      reset(state);
      parts.push(...hold(state, buffer.subarray(last + 1, length)));
      return Buffer.concat(parts);
    },
    end(source) {
      const state = held[source];
      const out = state.over || state.length === 0 ? EMPTY : mask(state.bytes.subarray(0, state.length));
      reset(state);
      return out;
    },
  };
}
