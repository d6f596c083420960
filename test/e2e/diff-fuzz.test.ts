// The differential fuzzer, bounded for `npm test`: seeded random trees, drifted destinations and command
// lines (test/fuzz/diff-cases.ts), each run by rsync 3.5 and by arsync on every engine, which must agree on
// the exit code, the -i lines, the trees and the untouched source (test/helpers/differential.ts).
// A longer run, or one case again:
//   ARSYNC_DIFF_FUZZ_CASES=400 ARSYNC_DIFF_FUZZ_SEED=7 npx vitest run test/e2e/diff-fuzz.test.ts
//   ARSYNC_DIFF_FUZZ_FROM=123 ARSYNC_DIFF_FUZZ_CASES=1 ...   (case 123 of that seed alone)

import { afterAll, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential } from '../helpers/differential.js';
import { diffCase } from '../fuzz/diff-cases.js';

const SEED = Number(process.env.ARSYNC_DIFF_FUZZ_SEED ?? 20261205);
const FROM = Number(process.env.ARSYNC_DIFF_FUZZ_FROM ?? 0);
const CASES = Number(process.env.ARSYNC_DIFF_FUZZ_CASES ?? 60);
/** ARSYNC_DIFF_FUZZ_PULL=1: every case as a pull through the fake remote shell (rsync as the client too); _PUSH=1: as a push. */
const PULL = process.env.ARSYNC_DIFF_FUZZ_PULL === '1';
const PUSH = process.env.ARSYNC_DIFF_FUZZ_PUSH === '1';
const rsh = PULL || PUSH ? fakeRsh(tempDir('arsync-diff-fuzz-rsh-')) : '';

afterAll(() => removeTemps());

describeEngines((e) => {
  for (let i = FROM; i < FROM + CASES; i++) {
    const c = diffCase(SEED, i);
    // The source operand is the far side's (the fake shell runs it in the same work root). Both clients
    // without incremental recursion, which arsync's does not do: rsync's first -v line and its list's
    // --stats size differ with it, as the README says ("A push's or a pull's first -v line").
    const args = PULL
      ? ['-e', rsh, '--no-i-r', ...c.args.slice(0, -2), `localhost:${c.args.at(-2)!}`, c.args.at(-1)!]
      : PUSH
        ? // (No --stats: a push's "File list size" is the list's own, where rsync's client counts what its
          // output buffer had flushed by then, often 0; README "-v summary and --stats byte totals".)
          ['-e', rsh, '--no-i-r', ...c.args.slice(0, -2).filter((a) => a !== '--stats'), c.args.at(-2)!, `localhost:${c.args.at(-1)!}`]
        : c.args;
    it(`case ${i} (seed ${SEED}): ${c.args.join(' ')}`, async () => {
      await differential({ engine: e.name, setup: c.setup, args, sourceChanges: c.sourceChanges, volatile: c.volatile, volatileDirsUnder: c.volatileDirsUnder, unchanged: c.sourceChanges ? [] : ['src'] });
    });
  }
});
