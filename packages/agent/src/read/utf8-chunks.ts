// Decodes one pipe's chunks of UTF-8 as if the whole stream were decoded at once: the first bytes of
// a character that a chunk does not finish wait for the next chunk, and invalid bytes are replaced
// alike. What waits is plain data, so that the line splitter's state can be saved and resumed.

export interface Utf8Chunks {
  /** The text of what waited and `chunk`, up to the last character `chunk` finishes. */
  decode(chunk: Buffer): string;
  /** The stream ended: what still waits, decoded ('' when nothing does). */
  end(): string;
  /** The bytes that wait for the next chunk. */
  pendingBytes(): number[];
}

const NO_BYTES = Buffer.alloc(0);

export function createUtf8Chunks(pendingBytes: readonly number[] | undefined): Utf8Chunks {
  let pending = pendingBytes === undefined || pendingBytes.length === 0 ? NO_BYTES : Buffer.from(pendingBytes);
  return {
    decode(chunk) {
      let bytes = chunk;
      if (pending.length > 0) {
        bytes = Buffer.concat([pending, chunk]);
        pending = NO_BYTES;
      }
      const end = bytes.length - incompleteTail(bytes);
      if (end < bytes.length) pending = Buffer.from(bytes.subarray(end));
      return bytes.toString('utf8', 0, end);
    },
    end() {
      const rest = pending.length > 0 ? pending.toString('utf8') : '';
      pending = NO_BYTES;
      return rest;
    },
    pendingBytes() {
      return [...pending];
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
