// Proves the rule of test/helpers/child-coverage.ts: of a test's runs under the engines, exactly one counts
// its CLIs for coverage, and it is one under which the test runs (a test skipped under the picked engine
// would otherwise count nowhere); the picks spread over the engines, the node engine's twice as often as
// each other's; a test outside an engine suite always
// counts, and nothing outside a running test does. The engine suites here are built with the real titles
// (engineSuiteTitle) but run no CLI: the rule depends only on the tests' names and modes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineName } from '../helpers/cli.js';
import { countsChild } from '../helpers/child-coverage.js';
import { engineSuiteTitle } from '../helpers/engine-suite.js';

const ENGINES: EngineName[] = ['uring', 'sync', 'node'];
/** For each case, the engines it ran under and those among them that counted. */
const ran = new Map<string, EngineName[]>();
const counted = new Map<string, EngineName[]>();

function record(engine: EngineName, name: string): void {
  const counts = countsChild();
  // The same answer for every CLI of the test (and its retry).
  expect(countsChild()).toBe(counts);
  ran.set(name, [...(ran.get(name) ?? []), engine]);
  if (counts) counted.set(name, [...(counted.get(name) ?? []), engine]);
}

beforeAll(() => {
  expect(countsChild(), 'a CLI started in beforeAll').toBe(false);
});

for (const engine of ENGINES) {
  describe(engineSuiteTitle(engine, null), () => {
    beforeAll(() => {
      expect(countsChild(), `a CLI started in engine ${engine}'s beforeAll`).toBe(false);
    });
    for (let i = 0; i < 30; i++) it(`case ${i}`, () => record(engine, `case ${i}`));
    describe('a nested suite', () => {
      for (let i = 0; i < 6; i++) it(`nested case ${i}`, () => record(engine, `nested case ${i}`));
    });
    for (const without of ENGINES) {
      for (let i = 0; i < 10; i++) {
        it.skipIf(engine === without)(`case ${i} without ${without}`, () => record(engine, `case ${i} without ${without}`));
      }
    }
  });
}

// An engine that cannot run here: its suite is skipped, so its copies of the tests never run or count.
describe.skip(engineSuiteTitle('node', 'not on this host'), () => {
  it('case 0', () => record('node', 'case 0'));
});

describe('outside the engine suites', () => {
  it('a test that runs once counts', () => {
    expect(countsChild()).toBe(true);
  });
});

describe('the picks', () => {
  it('count exactly one engine per case, one the case ran under', () => {
    expect(ran.size).toBe(30 + 6 + 30);
    for (const [name, engines] of ran) {
      const picked = counted.get(name) ?? [];
      expect(picked, name).toHaveLength(1);
      expect(engines, name).toContain(picked[0]);
      const without = /without (\w+)$/.exec(name)?.[1];
      expect(engines, name).toHaveLength(without ? 2 : 3);
    }
  });

  it('spread over the engines, node about as often as the other two together', () => {
    const per = new Map<EngineName, number>();
    for (const [, picked] of counted) for (const e of picked) per.set(e, (per.get(e) ?? 0) + 1);
    const uring = per.get('uring') ?? 0;
    const sync = per.get('sync') ?? 0;
    const node = per.get('node') ?? 0;
    // 66 cases, shares of 1:1:2: node expects 31 (half of the 36 that run everywhere, two thirds of the
    // 20 skipped under uring or sync, none of the 10 skipped under node), uring and sync 17.5 each; an even
    // pick would give each 22.
    expect(uring + sync + node).toBe(66);
    expect(node).toBeGreaterThanOrEqual(27);
    expect(node).toBeLessThanOrEqual(40);
    for (const n of [uring, sync]) {
      expect(n).toBeGreaterThanOrEqual(9);
      expect(n).toBeLessThanOrEqual(21);
    }
  });
});

afterAll(() => {
  expect(countsChild(), 'a CLI started in afterAll').toBe(false);
});
