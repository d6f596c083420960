// The raw V8 coverage that CLI child processes write (NODE_V8_COVERAGE), cut down to the dist/ bundle's
// scripts and merged into one result. Used twice: by coverage-setup.ts at the end of each test file, for
// the dumps of the CLIs that file ran (so that the merging happens while the other core is busy with
// tests), and by coverage-provider.ts at the end of the run, for those files' results and whatever dump
// no test file took (a CLI that started a CLI of its own, or one still running when its file ended).
//
// mergeProcessCovs is @bcoe/v8-coverage's, the merge the V8 provider itself uses; it is loaded through
// @vitest/coverage-v8, whose dependency it is, not declared again.

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The bundles the CLI runs from (scripts/bundle.mjs). */
const DIST_URL = pathToFileURL(path.join(REPO, 'dist')).href + '/';

export interface ScriptCoverage {
  url: string;
  functions: unknown[];
  startOffset?: number;
}
export interface ProcessCoverage {
  result: ScriptCoverage[];
}
type MergeProcessCovs = (covs: ProcessCoverage[]) => ProcessCoverage;
const providerRequire = createRequire(createRequire(import.meta.url).resolve('@vitest/coverage-v8'));
const { mergeProcessCovs } = providerRequire('@bcoe/v8-coverage') as { mergeProcessCovs: MergeProcessCovs };

/**
 * How many results are merged in one call. Merging one at a time into a running total ([total, next])
 * re-walks the total for every child: measured on 300 CLI children, 29 s that way against 3.1 s for one
 * call over all of them. A chunk keeps that gain without holding thousands of parsed dumps at once.
 */
const MERGE_CHUNK = 100;

/** Whether a file or URL is one of the CLI's bundles. */
export function isBundle(fileOrUrl: string): boolean {
  const url = fileOrUrl.startsWith('file://') ? fileOrUrl : pathToFileURL(fileOrUrl).href;
  return url.startsWith(DIST_URL) && url.endsWith('.js');
}

/**
 * The bundle scripts of the dumps in `files`, merged; undefined when none had any. Each file is removed
 * once read. One that cannot be parsed (a child killed while writing it) counts for nothing and stays.
 */
export function mergeDumps(files: string[]): ProcessCoverage | undefined {
  let merged: ProcessCoverage | undefined;
  let pending: ProcessCoverage[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    merged = mergeProcessCovs(merged ? [merged, ...pending] : pending);
    pending = [];
  };
  for (const f of files) {
    let raw: ProcessCoverage;
    try {
      raw = JSON.parse(fs.readFileSync(f, 'utf8')) as ProcessCoverage;
    } catch {
      continue;
    }
    fs.rmSync(f, { force: true });
    const result = raw.result.filter((s) => isBundle(s.url));
    if (result.length > 0) pending.push({ result });
    if (pending.length >= MERGE_CHUNK) flush();
  }
  flush();
  return merged;
}
