// vitest setup file: when coverage is on, tells test/helpers/cli.ts where CLI child processes write their
// raw V8 coverage (coverage-provider.ts provides the directory), and at the end of each test file merges
// the dumps of the CLIs it ran into one file there (coverage-merge.ts), so that the end of the run has
// one file per test file to read instead of one per CLI. Only the CLIs get NODE_V8_COVERAGE: this worker
// is measured by the provider itself, and other children (rsync, npm) are not ours to count.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, inject } from 'vitest';
import { takeCountedExits } from './child-coverage.js';
import { mergeDumps } from './coverage-merge.js';

const dir = inject('arsyncChildCoverage');
if (dir) {
  process.env.ARSYNC_CHILD_V8_COVERAGE = dir;
  // Writable by everyone (sticky, as /tmp): a CLI that drops root (--copy-as, a run as nobody) still
  // writes its coverage when it exits, instead of Node's EACCES line on its stderr. Made here, in each
  // test worker, because the provider's clean-up at the start of a run removes what it would make earlier.
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o1777);

  // Registered first, so it runs after the test file's own afterAll hooks (vitest runs them as a stack).
  afterAll(() => {
    const pids = new Set(takeCountedExits());
    if (pids.size === 0) return;
    // Node names a dump coverage-PID-TIME-SEQ.json, one per process and worker thread. Each is claimed by a
    // rename first: another worker whose CLI reused a pid must not read the same file.
    const claimed: string[] = [];
    for (const f of fs.readdirSync(dir)) {
      const pid = /^coverage-(\d+)-\d+-\d+\.json$/.exec(f)?.[1];
      if (pid === undefined || !pids.has(Number(pid))) continue;
      const to = path.join(dir, `${f}.${process.pid}.claimed`);
      try {
        fs.renameSync(path.join(dir, f), to);
        claimed.push(to);
      } catch {
        /* taken by another worker */
      }
    }
    const merged = mergeDumps(claimed);
    if (merged) fs.writeFileSync(path.join(dir, `merged-${process.pid}-${Date.now()}.json`), JSON.stringify(merged));
  });
}
