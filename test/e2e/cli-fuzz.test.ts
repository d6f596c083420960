// The command-line fuzzer, bounded for `npm test`: the corpus of past crashes, then 200 seeded cases (random and adversarial
// options, values, operands and list-file contents; see test/fuzz/cli-fuzz.ts) through the built CLI on
// every engine this machine has. Any internal error, stack frame, hang, death by signal, exit code rsync
// never uses, or change outside a case's sandbox fails the test with the argv that reproduces it.
// A longer run: `npm run fuzz -- --cases=5000 --seed=42`.

import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { engines } from '../helpers/cli.js';
import { describeFailure, fuzz } from '../fuzz/cli-fuzz.js';

const SEED = Number(process.env.ARSYNC_FUZZ_SEED ?? 20261130);
const CASES = Number(process.env.ARSYNC_FUZZ_CASES ?? 200);

afterAll(() => removeTemps());

it(`${CASES} fuzzed command lines (seed ${SEED}): no internal error, stack frame, hang or foreign exit code`, async () => {
  const usable = engines().filter((e) => e.skip === null).map((e) => e.name);
  const failures = await fuzz({ seed: SEED, cases: CASES, base: tempDir('arsync-fuzz-'), concurrency: 4, timeoutMs: 60_000, engines: usable });
  expect(failures.map((f) => describeFailure(f, SEED))).toEqual([]);
}, 600_000);
