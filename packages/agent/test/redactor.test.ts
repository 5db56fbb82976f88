import { describe, expect, it } from 'vitest';
import { createRedactor } from '../src/process/redactor.js';

describe('redactor', () => {
  it('replaces every match of every pattern with [REDACTED]', () => {
    const redact = createRedactor(['password=\\S+', 'ghp_[A-Za-z0-9]{8}']);
    expect(redact('login password=hunter2 token ghp_abcdEFGH and password=x')).toBe('login [REDACTED] token [REDACTED] and [REDACTED]');
  });

  it('leaves lines alone when there are no patterns', () => {
    const redact = createRedactor([]);
    expect(redact('password=hunter2')).toBe('password=hunter2');
  });

  it('still works when patterns cannot be joined into one expression', () => {
    const redact = createRedactor(['(?<s>secret)', '(?<s>token)']);
    expect(redact('a secret and a token')).toBe('a [REDACTED] and a [REDACTED]');
  });
});
