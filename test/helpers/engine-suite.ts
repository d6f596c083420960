// The title of an engine's suite (describeEngines, test/helpers/e2e.ts) and how a test's full name splits
// into its engine and the rest: the name the same test has under every engine. Shared by the helpers that
// treat a test's runs under the three engines as one case (shared-case.ts, child-coverage.ts).

import type { EngineName } from './cli.js';

const ENGINE_SUITE = /^engine (uring|sync|node)( \(skipped: .*\))?$/;

/** The suite title of `engine`, with the reason when it cannot run here. */
export function engineSuiteTitle(engine: EngineName, skip: string | null): string {
  return skip ? `engine ${engine} (skipped: ${skip})` : `engine ${engine}`;
}

/**
 * A test's suites and name (its full name split on ' > ') without its engine suite, and that engine; null
 * for a test outside an engine suite.
 */
export function splitEngine(names: string[]): { engine: EngineName; rest: string[] } | null {
  const at = names.findIndex((s) => ENGINE_SUITE.test(s));
  if (at < 0) return null;
  const engine = ENGINE_SUITE.exec(names[at] ?? '')?.[1] as EngineName;
  return { engine, rest: [...names.slice(0, at), ...names.slice(at + 1)] };
}
