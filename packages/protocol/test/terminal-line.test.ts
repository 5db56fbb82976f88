import { describe, expect, it } from 'vitest';
import { overwriteCarriageReturns } from '../src/terminal-line.js';

describe('overwriteCarriageReturns', () => {
  it('overwrites from column 0 with the text after each "\\r", as a terminal does', () => {
    expect(overwriteCarriageReturns('Downloading… 100%\rDone')).toBe('Doneloading… 100%');
    expect(overwriteCarriageReturns('10%\r20%\r100%')).toBe('100%');
    expect(overwriteCarriageReturns('abcdef\rxy\rz')).toBe('zycdef');
  });

  it('changes nothing for an empty part (a trailing "\\r", "\\r\\r") or a line without "\\r"', () => {
    expect(overwriteCarriageReturns('half\r')).toBe('half');
    expect(overwriteCarriageReturns('abc\r\rX')).toBe('Xbc');
    expect(overwriteCarriageReturns('plain')).toBe('plain');
    expect(overwriteCarriageReturns('')).toBe('');
  });

  it('never leaves half of a surrogate pair', () => {
    expect(overwriteCarriageReturns('😀b\ra')).toBe('ab');
    expect(overwriteCarriageReturns('a😀\rb')).toBe('b😀');
  });
});

describe('overwriteCarriageReturns with erase-in-line', () => {
  it('applies ESC[K and ESC[2K in a line rewritten with "\\r", as progress bars use them', () => {
    expect(overwriteCarriageReturns('Downloading 100%\r\u001b[KDone')).toBe('Done');
    expect(overwriteCarriageReturns('Downloading 100%\r\u001b[0KDone')).toBe('Done');
    expect(overwriteCarriageReturns('Downloading 100%\u001b[2K\rDone')).toBe('Done');
    expect(overwriteCarriageReturns('Downloading 100%\r\u001b[2KDone')).toBe('Done');
    expect(overwriteCarriageReturns('abcdef\rxy\u001b[K')).toBe('xy');
    expect(overwriteCarriageReturns('abcdef\rxy\u001b[2Kz')).toBe('  z');
  });

  it('drops the blanks at the end of a line rewritten with "\r" (padding a shorter state), not those of other lines', () => {
    expect(overwriteCarriageReturns('Downloading 100%\rDone            ')).toBe('Done');
    expect(overwriteCarriageReturns('plain   ')).toBe('plain   ');
    expect(overwriteCarriageReturns('crlf   \r')).toBe('crlf   ');
    expect(overwriteCarriageReturns('erased\u001b[2K\r')).toBe('');
  });

  it('keeps colours and other sequences as text, and leaves a line without "\\r" alone', () => {
    expect(overwriteCarriageReturns('\u001b[32m10%\u001b[0m\r\u001b[32m20%\u001b[0m')).toBe('\u001b[32m20%\u001b[0m');
    expect(overwriteCarriageReturns('a\u001b[Kb')).toBe('a\u001b[Kb');
  });

  it('gives the same result when what is shown up to the last "\\r" is taken first (how the agent holds a line)', () => {
    const lines = ['Downloading... 100%\rDone', 'a\r\u001b[Kbc\rd', 'abc\u001b[2K\r\rxy\u001b[K\rz', '😀😀\rab\rc', 'long  line   \rx  \ry', 'abcdef\u001b[2K\rab  ', 'pad   \r\r', 'x\u001b[2K\r\r'];
    for (const line of lines) {
      const last = line.lastIndexOf('\r');
      const compact = `${overwriteCarriageReturns(line.slice(0, last))}${line.slice(last)}`;
      expect(overwriteCarriageReturns(compact)).toBe(overwriteCarriageReturns(line));
    }
  });
});
