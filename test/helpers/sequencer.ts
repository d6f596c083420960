// The order test files start in: vitest's own (files that failed last time first, then the longest by
// its results cache; without a cache, as on CI's fresh clone, the largest source first), except that a
// few files which take long but are short to read start first. By size they would start last, and one
// of them running alone while the other worker has nothing left is wall time lost: in the 1,562 s CI run
// of session 11, install.test.ts (85 s) started among the last unit tests.

import * as path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Long (CI times of session 11, coverage on) for their size: started first, in this order. */
const LONG_AND_SHORT = [
  'test/e2e/install.test.ts', // 85 s: npm pack with the arm64 cross build, an install in a chroot
  'test/e2e/wide-memory.test.ts', // 48 s
  'test/e2e/archive.test.ts', // 37 s
  'test/e2e/cli-fuzz.test.ts', // 37 s
];

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (s: TestSpecification): number => {
      const i = LONG_AND_SHORT.indexOf(path.relative(this.ctx.config.root, s.moduleId).split(path.sep).join('/'));
      return i < 0 ? LONG_AND_SHORT.length : i;
    };
    // Array.prototype.sort is stable: the others keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
