import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // e2e tests spawn the CLI and its workers; two cores cannot take more than two files at once.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
