// vitest setup file: when coverage is on, tells test/helpers/cli.ts where CLI child processes write their
// raw V8 coverage (coverage-provider.ts provides the directory). Only the CLIs get NODE_V8_COVERAGE: this
// worker is measured by the provider itself, and other children (rsync, npm) are not ours to count.
import { inject } from 'vitest';

const dir = inject('arsyncChildCoverage');
if (dir) process.env.ARSYNC_CHILD_V8_COVERAGE = dir;
