// Which CLI child processes write their V8 coverage when the run measures coverage (test/helpers/cli.ts
// sets NODE_V8_COVERAGE for those; coverage-provider.ts counts what they write).
//
// Why not all of them: a CLI under NODE_V8_COVERAGE cannot start from the start-up snapshot (bin/arsync)
// and writes a dump at exit, about 180 ms more CPU per run, and the e2e tests run every case under each of
// the three engines: counting all three runs cost about a third of the suite's CPU. What a case covers
// outside the engines is the same under any of them, so one engine's run of each case is counted.
//
// The rules:
// - A test in an engine suite: its CLIs are counted under one engine only, picked by a hash of the test's
//   name without its engine suite among the engines under which that test runs (not skipped, whether by
//   the engine's probe, a skipIf or -t); a test and its retry pick the same engine on every run. The node
//   engine weighs as much as the other two together (WEIGHT): almost all the TypeScript that only one
//   engine runs is its own (src/engine/node-*.ts), while uring and sync share the addon's TypeScript side
//   and differ in C, which this coverage does not measure. Picked evenly, a sample of 24 test files lost
//   147 lines against counting every engine, all but two in node-*.ts; weighted so, 33 (docs/benchmarks.md,
//   "testcov, session 20").
// - A test outside an engine suite runs once: all its CLIs are counted.
// - A CLI started outside a running test (collection-time probes such as engines()', beforeAll and
//   afterAll): never counted. They prepare what tests then run and count.
// - Runs that measure memory (cli.ts, peakRssFile): never counted, the counters would perturb them.
//
// It also keeps the pids of the counted CLIs that have exited, whose dumps coverage-setup.ts merges at
// the end of the test file.

import { getCurrentTest } from 'vitest/suite';
import type { EngineName } from './cli.js';
import { splitEngine } from './engine-suite.js';

type Test = NonNullable<ReturnType<typeof getCurrentTest>>;
type File = Test['file'];
type Task = File['tasks'][number];

/** The engines in a fixed order, so that a pick depends on nothing but the set of engines a test runs under. */
const ORDER: EngineName[] = ['uring', 'sync', 'node'];
/** How many shares of the cases each engine gets (see the header). */
const WEIGHT: Record<EngineName, number> = { uring: 1, sync: 1, node: 2 };

/** A test's full name split on ' > ' (vitest's currentTestName: its suites and name, not the file's). */
function names(t: Task): string[] {
  const out = [t.name];
  for (let s = t.suite; s && s !== t.file; s = s.suite) out.unshift(s.name);
  return out;
}

/** FNV-1a: a cheap string hash that spreads similar names (tests differ by a word) evenly. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** For each case of a file (a test's name without its engine suite), the engines under which it runs. */
function enginesByCase(file: File): Map<string, Set<EngineName>> {
  const byCase = new Map<string, Set<EngineName>>();
  const visit = (tasks: Task[]): void => {
    for (const t of tasks) {
      if (t.type === 'suite') visit(t.tasks);
      if (t.type !== 'test' || (t.mode !== 'run' && t.mode !== 'queued')) continue;
      const split = splitEngine(names(t));
      if (split === null) continue;
      const key = split.rest.join(' > ');
      const set = byCase.get(key) ?? new Set<EngineName>();
      byCase.set(key, set.add(split.engine));
    }
  };
  visit(file.tasks);
  return byCase;
}

// Worked out once per file (before a test of it may skip itself at run time, which would change the
// set between its engines' runs), and once per test.
const perFile = new WeakMap<File, Map<string, Set<EngineName>>>();
const perTest = new WeakMap<Test, boolean>();

function decide(test: Test): boolean {
  const split = splitEngine(names(test));
  if (split === null) return true;
  const key = split.rest.join(' > ');
  let byCase = perFile.get(test.file);
  if (!byCase) perFile.set(test.file, (byCase = enginesByCase(test.file)));
  const runs = new Set(byCase.get(key)).add(split.engine);
  const candidates = ORDER.filter((e) => runs.has(e));
  let share = hash(key) % candidates.reduce((n, e) => n + WEIGHT[e], 0);
  const picked = candidates.find((e) => (share -= WEIGHT[e]) < 0);
  return picked === split.engine;
}

/** Whether a CLI started now counts for coverage (the rules above; peakRssFile is cli.ts's). */
export function countsChild(): boolean {
  const test = getCurrentTest();
  if (!test) return false;
  let counts = perTest.get(test);
  if (counts === undefined) perTest.set(test, (counts = decide(test)));
  return counts;
}

const exited: number[] = [];

/** A counted CLI has exited: its dumps (and its worker threads') are complete. */
export function noteCountedExit(pid: number | undefined): void {
  if (pid !== undefined) exited.push(pid);
}

/** The pids noted since the last call. */
export function takeCountedExits(): number[] {
  return exited.splice(0);
}
