// isoOfMs: the protocol's timestamp of an epoch-ms value, exactly as Date.toISOString writes it.
import { describe, expect, it } from 'vitest';
import { isoOfMs } from '../src/iso-time.js';

describe('isoOfMs', () => {
  it('writes what Date.toISOString writes, at the edges of seconds, years and its fast range', () => {
    const edges = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, Date.parse('2024-02-29T23:59:59.999Z'), 253_402_300_799_999];
    for (const ms of edges) expect(isoOfMs(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it('writes what Date.toISOString writes outside years 0000-9999 and for fractional milliseconds', () => {
    for (const ms of [-1, -1000, 253_402_300_800_000, 8.64e15, 1.5]) expect(isoOfMs(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it('agrees with Date.toISOString on runs of neighbouring and scattered times', () => {
    const t0 = Date.parse('2024-05-01T10:00:00.000Z');
    for (let i = 0; i < 5_000; i++) {
      const ms = i % 2 === 0 ? t0 + i * 7 : Math.floor(((i * 2_654_435_761) % 1_000_003) * 250_000_000);
      expect(isoOfMs(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
