import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: the suite runs real servers and agents, so files run two at a time.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
