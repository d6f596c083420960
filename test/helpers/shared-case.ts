// Memo of work that a test repeats unchanged under every engine: rsync's side of a differential case
// (test/helpers/differential.ts), which does not depend on the arsync engine under test. The first engine's
// run of a test builds it; the same test under the next engines finds it by the case's key.
//
// A case's key is the test's full name without its "engine X" suite, the order of the call within that
// test, and whatever the caller says the memoised value depends on. A test outside an engine suite gets
// no key (nothing to share). Values hold temp dirs; once those are gone (removeTemps()), the next call
// builds the value again.

import * as fs from 'node:fs';
import { expect } from 'vitest';
import { splitEngine } from './engine-suite.js';

let currentTest = '';
let callsInTest = 0;

/**
 * The key of this call within the running test, or null outside an engine suite. Calls are counted per
 * test run: a retried test counts on from its failed attempt, so its calls miss and build afresh.
 */
export function caseKey(dependsOn: unknown): string | null {
  const name = expect.getState().currentTestName;
  if (name === undefined) return null;
  if (name !== currentTest) {
    currentTest = name;
    callsInTest = 0;
  }
  const call = callsInTest++;
  const split = splitEngine(name.split(' > '));
  if (split === null) return null;
  return JSON.stringify([split.rest, call, dependsOn]);
}

interface Entry {
  value: unknown;
  dirs: string[];
}

const memo = new Map<string, Entry>();

/**
 * The value built for `key` by an earlier call, if every dir it holds still exists; else `build()`'s,
 * remembered under `key` (unless null). `dirs` names the dirs a value holds.
 */
export function shared<T>(key: string | null, dirs: (v: T) => string[], build: () => T): T {
  if (key !== null) {
    const hit = memo.get(key);
    if (hit && hit.dirs.every((d) => fs.existsSync(d))) return hit.value as T;
  }
  const value = build();
  if (key !== null) memo.set(key, { value, dirs: dirs(value) });
  return value;
}

/**
 * A value built from files of its own (an rsync run in a temp dir made for it, its output or exit code),
 * which the same test under every engine would compute alike: built by the first engine's run of the
 * test and reused by the others'. `dependsOn` tells apart the calls of one test (a loop's values).
 */
export function sameForEveryEngine<T>(dependsOn: unknown, build: () => T): T {
  return shared(caseKey(dependsOn), () => [], build);
}
