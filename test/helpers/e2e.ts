// Glue for e2e test files: one suite per engine, and the standard "dst is an exact copy of src" check
// (both judges, with what the engine can preserve).

import { describe, expect } from 'vitest';
import { compareTrees, findTempFiles, formatDiffs, oracle, type CompareOptions } from './compare.js';
import { engines, fidelity, type EngineCase, type EngineName } from './cli.js';

/** Declare `fn`'s tests once per engine; engines that cannot run here are skipped with the reason. */
export function describeEngines(fn: (e: EngineCase) => void): void {
  for (const e of engines()) describe.skipIf(e.skip !== null)(e.title, () => fn(e));
}

export interface ExactOptions extends CompareOptions {
  /** Oracle and compare without -H grouping (plain -a copies). */
  noHardlinks?: boolean;
  /** Whether the engine copied xattrs/ACLs (default: whatever the engine can). */
  withXattrs?: boolean;
}

/** Assert dst is an exact copy of src: rsync's itemized dry run is empty, compareTrees finds nothing. */
export function expectExactCopy(src: string, dst: string, engine: EngineName, o: ExactOptions = {}): void {
  const f = fidelity(engine);
  const xattrs = o.withXattrs ?? f.xattrs;
  const r = oracle(src, dst, {
    acls: xattrs,
    xattrs,
    nsTimes: f.nsTimes,
    ...(o.noHardlinks ? { hardlinks: false } : {}),
    ...(o.owners === false ? { owners: false } : {}),
  });
  expect(r.code, `${r.argv.join(' ')}: ${r.stderr}`).toBe(0);
  // Joined, so that a failure's message shows the lines themselves (an array's are folded away).
  expect(r.lines.slice(0, 20).join('\n'), `rsync oracle (${r.argv.join(' ')}) itemized differences`).toBe('');
  const diffs = compareTrees(src, dst, {
    xattrs,
    acls: xattrs,
    mtimeToleranceNs: f.mtimeToleranceNs,
    ...(o.noHardlinks ? { hardlinks: false } : {}),
    ...o,
  });
  expect(formatDiffs(diffs), 'compareTrees differences').toEqual([]);
  expect(findTempFiles(dst, src), 'temp files left behind').toEqual([]);
}
