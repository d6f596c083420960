// vitest's V8 coverage provider, extended to count the CLI child processes: most of src/ runs in
// `node dist/bin.js` (and its piscina workers, dist/worker.js) that e2e tests spawn, which the
// in-process provider never sees.
//
// How: the provider tells the test workers a directory (provide/inject, read by coverage-setup.ts);
// test/helpers/cli.ts sets NODE_V8_COVERAGE to it for every CLI it starts, so each child process and
// worker thread writes its raw V8 coverage there when it exits. Before the report, each such file is cut
// down to the dist/ bundle's scripts, all of them are merged (mergeProcessCovs, the provider's own merge,
// in chunks: see MERGE_CHUNK) and the merge is handed to the provider as one more suite's result, so its
// conversion counts it with the in-process results. The bundle's source map (scripts/bundle.mjs writes
// one) carries the counts back to src/*.ts.
//
// The provider's package brings @bcoe/v8-coverage; it is loaded from there, not declared again.
//
// The hooks used (onAfterSuiteRun, getSources, testExclude, coverageFilesDirectory) are the provider's
// internals in @vitest/coverage-v8 3.2.x; the version is pinned with vitest's in package.json.

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from '@vitest/coverage-v8';
import type { CoverageProvider, CoverageProviderModule, Vitest } from 'vitest/node';

declare module 'vitest' {
  interface ProvidedContext {
    /** Where CLI child processes write their raw V8 coverage (NODE_V8_COVERAGE); '' when coverage is off. */
    arsyncChildCoverage: string;
  }
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The bundles the CLI runs from (scripts/bundle.mjs). */
const DIST_URL = pathToFileURL(path.join(REPO, 'dist')).href + '/';

interface ScriptCoverage {
  url: string;
  functions: unknown[];
  startOffset?: number;
}
interface ProcessCoverage {
  result: ScriptCoverage[];
}
/** mergeProcessCovs of @bcoe/v8-coverage, the merge the V8 provider itself uses (loaded through it). */
type MergeProcessCovs = (covs: ProcessCoverage[]) => ProcessCoverage;
const providerRequire = createRequire(createRequire(import.meta.url).resolve('@vitest/coverage-v8'));
const { mergeProcessCovs } = providerRequire('@bcoe/v8-coverage') as { mergeProcessCovs: MergeProcessCovs };

/**
 * How many children's results are merged in one call. The provider merges what it is handed one result at a
 * time into the running total ([total, next]), which re-walks the total for every child: measured on 300
 * CLI children, 29 s that way against 3.1 s for one call over all of them. A chunk keeps that gain
 * without holding thousands of parsed dumps in memory at once.
 */
const MERGE_CHUNK = 100;

interface Sources {
  source: string;
  originalSource: string;
  sourceMap?: { sourcemap: unknown };
}
interface RawSourceMap {
  sources: (string | null)[];
  sourcesContent?: (string | null)[];
  [k: string]: unknown;
}

/** The internals of the V8 provider this module relies on (see the header). */
interface V8Internals extends CoverageProvider {
  coverageFilesDirectory: string;
  testExclude: { shouldInstrument(file: string): boolean };
  getSources(url: string, ...rest: unknown[]): Promise<Sources>;
}

function isBundle(fileOrUrl: string): boolean {
  const url = fileOrUrl.startsWith('file://') ? fileOrUrl : pathToFileURL(fileOrUrl).href;
  return url.startsWith(DIST_URL) && url.endsWith('.js');
}

/** The bundle as the child ran it, with its source map's sources made absolute (as the provider does for vite's). */
function bundleSources(url: string): Sources {
  const file = fileURLToPath(url);
  const source = fs.readFileSync(file, 'utf8');
  const map = JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as RawSourceMap;
  const sources = map.sources.map((s) => (s === null ? s : new URL(s, url).href));
  return { source, originalSource: source, sourceMap: { sourcemap: { ...map, version: 3, sources } } };
}

function extend(p: V8Internals): CoverageProvider {
  const childDir = (): string => path.join(p.coverageFilesDirectory, 'children');

  const initialize = p.initialize.bind(p);
  p.initialize = (ctx: Vitest) => {
    const r = initialize(ctx);
    ctx.provide('arsyncChildCoverage', childDir());
    // The bundles pass the include filter before conversion; after it, their src/ files are what counts.
    const shouldInstrument = p.testExclude.shouldInstrument.bind(p.testExclude);
    p.testExclude.shouldInstrument = (file: string) => isBundle(file) || shouldInstrument(file);
    return r;
  };

  const getSources = p.getSources.bind(p);
  p.getSources = (url: string, ...rest: unknown[]) => (isBundle(url) ? Promise.resolve(bundleSources(url)) : getSources(url, ...rest));

  const generateCoverage = p.generateCoverage.bind(p);
  p.generateCoverage = async (args) => {
    const dir = childDir();
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
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
        raw = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as ProcessCoverage;
      } catch {
        continue; // a child killed while writing leaves a partial file: it counts for nothing
      }
      fs.rmSync(path.join(dir, f));
      const result = raw.result.filter((s) => isBundle(s.url));
      if (result.length > 0) pending.push({ result });
      if (pending.length >= MERGE_CHUNK) flush();
    }
    flush();
    // The merge drops startOffset (the provider restores it the same way); a bundle's scripts start at 0.
    // 'web' keeps the children apart from the in-process 'ssr' results until both are converted.
    const result = merged?.result.map((s) => ({ ...s, startOffset: 0 })) ?? [];
    if (result.length > 0) p.onAfterSuiteRun({ coverage: { result }, transformMode: 'web', testFiles: ['children'] });
    return generateCoverage(args);
  };
  return p;
}

const mod: CoverageProviderModule = {
  ...v8,
  async getProvider() {
    return extend((await v8.getProvider()) as unknown as V8Internals);
  },
};

export default mod;
