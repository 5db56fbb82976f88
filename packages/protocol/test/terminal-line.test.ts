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
