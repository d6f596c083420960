// vitest setup file: when coverage is on, tells test/helpers/cli.ts where CLI child processes write their
// raw V8 coverage (coverage-provider.ts provides the directory). Only the CLIs get NODE_V8_COVERAGE: this
// worker is measured by the provider itself, and other children (rsync, npm) are not ours to count.
import * as fs from 'node:fs';
import { inject } from 'vitest';

const dir = inject('arsyncChildCoverage');
if (dir) {
  process.env.ARSYNC_CHILD_V8_COVERAGE = dir;
  // Writable by everyone (sticky, as /tmp): a CLI that drops root (--copy-as, a run as nobody) still
  // writes its coverage when it exits, instead of Node's EACCES line on its stderr. Made here, in each
  // test worker, because the provider's clean-up at the start of a run removes what it would make earlier.
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o1777);
}
