import { describe, expect, it } from 'vitest';
import { createRejectionPolicy, INITIAL_BATCH_BYTES } from '../src/deliver/rejection-policy.js';

const tooLarge = { code: 'MESSAGE_TOO_LARGE', message: 'batch too large' };
const busy = { code: 'DATABASE_ERROR', message: 'database busy' };

describe('rejection policy', () => {
  it('halves the batch size after MESSAGE_TOO_LARGE down to 64 KiB, and calls one entry still too large there invalid', () => {
    const policy = createRejectionPolicy({ maxRetries: 3, retryIntervalMs: 1000 });
    expect(policy.batchBytes).toBe(INITIAL_BATCH_BYTES);
    const sizes: number[] = [];
    for (let i = 0; i < 6; i++) {
      expect(policy.rejected(tooLarge, 10)).toEqual({ failure: tooLarge, delayMs: 0 });
      sizes.push(policy.batchBytes / 1024);
    }
    expect(sizes).toEqual([512, 256, 128, 64, 64, 64]);
    expect(policy.rejected(tooLarge, 1)).toEqual({ failure: { ...tooLarge, code: 'INVALID_LOG_FORMAT' } });
  });

  it('sends a batch refused with a transient error again after Retry-After or the retry interval, maxRetries times, then backs off', () => {
    const policy = createRejectionPolicy({ maxRetries: 2, retryIntervalMs: 1000 });
    expect(policy.rejected(busy, 5)).toEqual({ failure: busy, delayMs: 1000 });
    const limited = { code: 'RATE_LIMIT_EXCEEDED', message: 'slow down', retryAfterMs: 3000 };
    expect(policy.rejected(limited, 5)).toEqual({ failure: limited, delayMs: 3000 });
    expect(policy.rejected(busy, 5)).toEqual({ failure: busy });
    // After the backoff the count starts again.
    expect(policy.rejected(busy, 5)).toEqual({ failure: busy, delayMs: 1000 });
  });

  it('counts transient refusals from 0 again once a batch is acknowledged', () => {
    const policy = createRejectionPolicy({ maxRetries: 1, retryIntervalMs: 500 });
    expect(policy.rejected(busy, 5)).toEqual({ failure: busy, delayMs: 500 });
    policy.acknowledged();
    expect(policy.rejected(busy, 5)).toEqual({ failure: busy, delayMs: 500 });
    expect(policy.rejected(busy, 5)).toEqual({ failure: busy });
  });

  it('asks for no retry after a final refusal (the reconnect schedule gives up on it)', () => {
    const policy = createRejectionPolicy({ maxRetries: 3, retryIntervalMs: 1000 });
    const refused = { code: 'FORBIDDEN', message: 'not this task' };
    expect(policy.rejected(refused, 5)).toEqual({ failure: refused });
  });
});
