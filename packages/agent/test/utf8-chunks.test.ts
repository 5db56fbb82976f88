import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createUtf8Chunks } from '../src/read/utf8-chunks.js';

/** `bytes` cut at `cuts`, decoded chunk by chunk (resuming from the saved pending bytes at `resumeAt`). */
function decodeInChunks(bytes: Buffer, cuts: readonly number[], resumeAt = -1): string {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let chunks = createUtf8Chunks(undefined);
  let text = '';
  let from = 0;
  for (const [i, point] of [...points, bytes.length].entries()) {
    text += chunks.decode(bytes.subarray(from, point));
    from = point;
    if (i === resumeAt) chunks = createUtf8Chunks(chunks.pendingBytes());
  }
  return text + chunks.end();
}

describe('utf8 chunks', () => {
  it('decodes a stream cut anywhere as the whole stream decodes at once, invalid bytes replaced alike', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), fc.array(fc.nat(48), { maxLength: 8 }), (bytes, cuts) => {
        const stream = Buffer.from(bytes);
        expect(decodeInChunks(stream, cuts)).toBe(stream.toString('utf8'));
      }),
    );
  });

  it('holds the first bytes of a character until the chunk that finishes it, and resumes from them when saved', () => {
    const text = 'a€b😀c';
    const bytes = Buffer.from(text);
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 6 }), fc.nat(6), (cuts, resumeAt) => {
        expect(decodeInChunks(bytes, cuts, resumeAt)).toBe(text);
      }),
    );
    const chunks = createUtf8Chunks(undefined);
    expect(chunks.decode(Buffer.from([0x61, 0xe2, 0x82]))).toBe('a');
    expect(chunks.pendingBytes()).toEqual([0xe2, 0x82]);
    expect(chunks.decode(Buffer.from([0xac]))).toBe('€');
    expect(chunks.pendingBytes()).toEqual([]);
  });

  it('gives what still waits when the stream ends, replaced as invalid', () => {
    const chunks = createUtf8Chunks([0xf0, 0x9f]);
    expect(chunks.end()).toBe(Buffer.from([0xf0, 0x9f]).toString('utf8'));
    expect(chunks.end()).toBe('');
  });
});
