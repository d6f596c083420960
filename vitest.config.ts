import { defineConfig } from 'vitest/config';
import type { CoverageV8Options } from 'vitest/node';
import LongFirstSequencer from './test/helpers/sequencer.js';

/**
 * Line and branch coverage of src/, in the test processes and in the CLI child processes the e2e tests
 * start (test/helpers/coverage-provider.ts says how). Off in `npm test`, on in `npm run test:coverage`
 * (`--coverage.enabled=true`): counting it costs the e2e files about 28% more CPU (a counted CLI cannot
 * start from the start-up snapshot and writes a dump), which kept `npm test` over its 30-minute budget
 * on two cores (docs/coverage.md, "Coverage out of npm test").
 */
const coverage: CoverageV8Options = {
  enabled: false,
  include: ['src/**/*.ts'],
  all: true,
  // The per-file table goes to coverage/coverage.txt, not the console: CI shows only the end of the
  // output, and a failed test's report must not scroll off behind 150 lines of figures.
  reporter: [['text-summary'], ['text', { skipFull: true, file: 'coverage.txt' }], ['html'], ['json-summary'], ['json']],
  reportsDirectory: 'coverage',
  // A flaky test must not hide the figures; the exit code still says it failed.
  reportOnFailure: true,
  // The CLI bundles are converted, then only their src/ files count.
  excludeAfterRemap: true,
  // Statements and branches from the AST on both sides of the source maps, so that the same line seen
  // through vite's transform (unit tests) and through the esbuild bundle (the CLI) counts once.
  experimentalAstAwareRemapping: true,
};

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // e2e tests spawn the CLI and its workers; two cores cannot take more than two files at once.
    maxWorkers: 2,
    minWorkers: 1,
    // Which engines this machine can test, probed once per run (engine-probe-setup.ts says why).
    globalSetup: ['test/helpers/engine-probe-setup.ts'],
    setupFiles: ['test/helpers/coverage-setup.ts', 'test/helpers/temp-cleanup.ts', 'test/helpers/byte-equality.ts'],
    reporters: ['default', './test/helpers/failures-last.ts'],
    // A few long files that are short to read start first (test/helpers/sequencer.ts says why).
    sequence: { sequencer: LongFirstSequencer },
    // Under CI a failed test runs once more. Two cores shared by e2e tests that fork the CLI, its workers and
    // rsync make rare timing failures (EMFILE retries under ulimit, clock ticks) that a second run passes;
    // failures-last.ts lists every test that needed the retry, so a flake is reported, not hidden.
    // Locally (no CI variable) nothing is retried.
    retry: process.env.CI ? 1 : 0,
    coverage: { provider: 'custom', customProviderModule: 'test/helpers/coverage-provider.ts', ...coverage },
  },
});
