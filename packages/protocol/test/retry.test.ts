// The retry policy the agent and the client share: which codes are final, the backoff, and how an
// error answer's Retry-After and body are read.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, backoffDelay, isFinalError, parseRetryAfter, readErrorBody } from '../src/index.js';

describe('isFinalError', () => {
  it('is true exactly for the refusals that sending again cannot fix', () => {
    const final = Object.keys(ERROR_CODES).filter(isFinalError).sort();
    expect(final).toEqual(['FORBIDDEN', 'INVALID_LOG_FORMAT', 'INVALID_MESSAGE_FORMAT', 'INVALID_TASK_ID', 'TASK_NOT_FOUND', 'UNAUTHORIZED']);
  });

  it('is false for codes outside the table: network failures, timeouts, a proxy answer', () => {
    for (const code of ['NETWORK', 'TIMEOUT', 'HTTP_502', 'NETWORK_ERROR', 'UNEXPECTED_RESPONSE', '']) expect(isFinalError(code)).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('doubles the base per attempt up to the maximum, with up to half of it as jitter', () => {
    const options = { baseMs: 100, maxMs: 800, random: () => 1 };
    expect([0, 1, 2, 3, 4, 5, 9, 1000].map((attempt) => backoffDelay(attempt, options))).toEqual([100, 100, 200, 400, 800, 800, 800, 800]);
    expect(backoffDelay(1, { baseMs: 100, maxMs: 800, random: () => 0 })).toBe(50);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 800, random: () => 0.5 })).toBe(300);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30);
    expect(parseRetryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(0);
  });

  it('is undefined, not 0, when the header is absent or unreadable', () => {
    for (const value of [null, undefined, '', '  ', 'soon', '-1', '1.5']) expect(parseRetryAfter(value)).toBeUndefined();
  });
});

describe('readErrorBody', () => {
  it('reads the code, message and timestamp of an error body', () => {
    expect(readErrorBody({ code: 'DATABASE_ERROR', message: 'down', timestamp: '2026-01-01T00:00:00.000Z' })).toEqual({
      code: 'DATABASE_ERROR',
      message: 'down',
      timestamp: '2026-01-01T00:00:00.000Z',
    });
    expect(readErrorBody({ code: 'SOMETHING_NEW' })).toEqual({ code: 'SOMETHING_NEW', message: 'SOMETHING_NEW' });
  });

  it('is undefined for anything else', () => {
    for (const value of [undefined, null, 'DATABASE_ERROR', 42, [], { message: 'no code' }, { code: 7 }]) expect(readErrorBody(value)).toBeUndefined();
  });
});
