import { describe, expect, it } from 'vitest';
import { createLineSplitter } from '../src/read/line-splitter.js';

function split(chunks: (string | Buffer)[], maxLength = 100): { line: string; truncated: boolean }[] {
  const lines: { line: string; truncated: boolean }[] = [];
  const splitter = createLineSplitter({ maxLength, onLine: (line, truncated) => lines.push({ line, truncated }) });
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  splitter.end();
  return lines;
}

const texts = (chunks: (string | Buffer)[], maxLength?: number) => split(chunks, maxLength).map((l) => l.line);

describe('line splitter', () => {
  it('splits on \\n and \\r\\n, also when a chunk boundary falls anywhere', () => {
    const input = 'one\ntwo\r\nthree\n\nfive\r\n';
    expect(texts([input])).toEqual(['one', 'two', 'three', '', 'five']);
    const bytes = [...Buffer.from(input)].map((b) => Buffer.from([b]));
    expect(texts(bytes)).toEqual(['one', 'two', 'three', '', 'five']);
  });

  it('passes on a last line without a newline when the pipe closes', () => {
    expect(texts(['a\nb'])).toEqual(['a', 'b']);
    expect(texts(['a\n'])).toEqual(['a']);
  });

  it('decodes UTF-8 split across chunks and replaces invalid bytes instead of failing', () => {
    const euro = Buffer.from('€ ok\n');
    expect(texts([euro.subarray(0, 1), euro.subarray(1, 2), euro.subarray(2)])).toEqual(['€ ok']);
    expect(texts([Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a])])).toEqual(['a\uFFFD\uFFFDb']);
  });

  it('shows NUL bytes as U+FFFD', () => {
    expect(texts([Buffer.from([0x61, 0x00, 0x62, 0x0a])])).toEqual(['a\uFFFDb']);
  });

  it('keeps only what a terminal shows of a \\r progress bar', () => {
    expect(texts(['10%\r20%\r100%\n'])).toEqual(['100%']);
    expect(texts(['10%\r', '20%\r', '100%\r', '\n', 'done\n'])).toEqual(['100%', 'done']);
    expect(texts(['half\r', '\nnext\n'])).toEqual(['half', 'next']);
  });

  it('stores a \\r-rewritten line as a terminal shows it at the end: the text after \\r overwrites from column 0', () => {
    expect(texts(['Downloading... 100%\rDone\n'])).toEqual(['Doneloading... 100%']);
    expect(texts(['abcdef\rxy\rz\n'])).toEqual(['zycdef']);
    expect(texts(['abc\r\rX\r\n'])).toEqual(['Xbc']);
    // \r\n stays a plain line end, however the chunks fall.
    expect(texts(['one\r\ntwo\r', '\nthree\n'])).toEqual(['one', 'two', 'three']);
  });

  it('overwrites alike wherever the chunk boundaries fall', () => {
    const input = 'Downloading... 10%\rDownloading... 100%\rDone\nnext\rN\n';
    const bytes = [...Buffer.from(input)].map((b) => Buffer.from([b]));
    expect(texts(bytes)).toEqual(['Doneloading... 100%', 'Next']);
    const halves = [input.slice(0, 23), input.slice(23, 40), input.slice(40)];
    expect(texts(halves)).toEqual(['Doneloading... 100%', 'Next']);
  });

  it('resumes an overwritten line from a saved state', () => {
    const lines: string[] = [];
    const first = createLineSplitter({ maxLength: 100, onLine: (line) => lines.push(line) });
    first.push(Buffer.from('Downloading... 100%\rDo'));
    const second = createLineSplitter({ maxLength: 100, onLine: (line) => lines.push(line), state: first.state() });
    second.push(Buffer.from('ne\n'));
    expect(lines).toEqual(['Doneloading... 100%']);
  });

  it('tells the line still being written, as a terminal shows it now', () => {
    const splitter = createLineSplitter({ maxLength: 100, onLine: () => undefined });
    expect(splitter.partial()).toBe('');
    splitter.push(Buffer.from('progress 10%'));
    expect(splitter.partial()).toBe('progress 10%');
    splitter.push(Buffer.from('\rprogress 50%\r'));
    expect(splitter.partial()).toBe('progress 50%');
    splitter.push(Buffer.from('done'));
    expect(splitter.partial()).toBe('doneress 50%');
    splitter.push(Buffer.from('\n'));
    expect(splitter.partial()).toBe('');
  });

  it('holds a line that a progress bar rewrites for ever within twice the maximum', () => {
    let longest = 0;
    const lines: string[] = [];
    const splitter = createLineSplitter({ maxLength: 100, onLine: (line) => lines.push(line) });
    for (let i = 0; i < 200_000; i++) {
      splitter.push(Buffer.from(`\r[${'#'.repeat(i % 60)}${' '.repeat(60 - (i % 60))}] ${i}`));
      longest = Math.max(longest, splitter.state().carry.length);
    }
    splitter.push(Buffer.from('\n'));
    expect(longest).toBeLessThanOrEqual(2 * 100 + 2);
    expect(lines).toEqual([`[${'#'.repeat(199_999 % 60)}${' '.repeat(60 - (199_999 % 60))}] 199999`]);
  });

  it('cuts a line whose shown text grows past the maximum through overwrites, and resumes at the next line', () => {
    const lines = split(['x'.repeat(60), '\r', 'y'.repeat(150), '\nnext\n'], 100);
    expect(lines).toEqual([
      { line: 'y'.repeat(100), truncated: true },
      { line: 'next', truncated: false },
    ]);
    // Short overwrites of a long line never count as long.
    expect(split([`${'x'.repeat(90)}\r`, 'y'.repeat(50), '\r', 'z'.repeat(50), '\n'], 100)).toEqual([
      { line: `${'z'.repeat(50)}${'x'.repeat(40)}`, truncated: false },
    ]);
  });

  it('does not let a progress bar without newlines grow the line', () => {
    const updates = Array.from({ length: 10_000 }, (_, i) => `progress ${i}\r`);
    const lines = split(updates, 100);
    expect(lines).toEqual([{ line: 'progress 9999', truncated: false }]);
  });

  it('cuts an over-long line at the maximum, marks it, and resumes at the next line', () => {
    const long = 'x'.repeat(250);
    expect(split([`${long}\nnext\n`], 100)).toEqual([
      { line: 'x'.repeat(100), truncated: true },
      { line: 'next', truncated: false },
    ]);
  });

  it('cuts a 10 MB line arriving in 64 KB chunks without holding it whole', () => {
    const lines: { line: string; truncated: boolean }[] = [];
    const splitter = createLineSplitter({ maxLength: 8192, onLine: (line, truncated) => lines.push({ line, truncated }) });
    const chunk = Buffer.alloc(64 * 1024, 'y');
    for (let sent = 0; sent < 10 * 1024 * 1024; sent += chunk.length) splitter.push(chunk);
    splitter.push(Buffer.from('\nafter\n'));
    splitter.end();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({ line: 'y'.repeat(8192), truncated: true });
    expect(lines[1]).toEqual({ line: 'after', truncated: false });
  });

  it('never cuts a surrogate pair in half', () => {
    const line = `${'a'.repeat(9)}😀😀`;
    const [first] = split([`${line}\n`], 10);
    expect(first).toEqual({ line: 'a'.repeat(9), truncated: true });
  });

  it("gives a cut line's original length, counted across chunks without its text, \r\n excluded, also at the pipe's end and after a saved state", () => {
    const got: { line: string; truncated: boolean; originalLength: number }[] = [];
    const onLine = (line: string, truncated: boolean, originalLength: number) => got.push({ line, truncated, originalLength });
    const first = createLineSplitter({ maxLength: 10, onLine });
    first.push(Buffer.from('a'.repeat(25)));
    first.push(Buffer.from('b'.repeat(30)));
    // The head waits for its newline, so that it can say how long the line was.
    expect(got).toEqual([]);
    const resumed = createLineSplitter({ maxLength: 10, onLine, state: JSON.parse(JSON.stringify(first.state())) as ReturnType<typeof first.state> });
    resumed.push(Buffer.from('c'.repeat(45)));
    resumed.push(Buffer.from('\r'));
    resumed.push(Buffer.from('\nshort\n'));
    resumed.push(Buffer.from(`${'d'.repeat(12)}\n${'e'.repeat(15)}`));
    resumed.end();
    expect(got).toEqual([
      { line: 'a'.repeat(10), truncated: true, originalLength: 100 },
      { line: 'short', truncated: false, originalLength: 5 },
      { line: 'd'.repeat(10), truncated: true, originalLength: 12 },
      { line: 'e'.repeat(10), truncated: true, originalLength: 15 },
    ]);
  });
});
