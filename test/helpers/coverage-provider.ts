// vitest's V8 coverage provider, extended to count the CLI child processes: most of src/ runs in
// `node dist/bin.js` (and its piscina workers, dist/worker.js) that e2e tests spawn, which the
// in-process provider never sees.
//
// How: the provider tells the test workers a directory (provide/inject, read by coverage-setup.ts);
// test/helpers/cli.ts sets NODE_V8_COVERAGE to it for the CLIs it starts (child-coverage.ts says which), so
// each such child process and its worker threads write their raw V8 coverage there when they exit. At the
// end of each test file, coverage-setup.ts cuts its CLIs' dumps down to the dist/ bundle's scripts and
// merges them into one file (coverage-merge.ts). Before the report, those files and any dump left over
// are merged the same way and handed to the provider as one more suite's result, so its conversion counts
// them with the in-process results. The bundle's source map (scripts/bundle.mjs writes one) carries the
// counts back to src/*.ts.
//
// The hooks used (onAfterSuiteRun, getSources, testExclude, coverageFilesDirectory) are the provider's
// internals in @vitest/coverage-v8 3.2.x; the version is pinned with vitest's in package.json.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from '@vitest/coverage-v8';
import type { CoverageProvider, CoverageProviderModule, Vitest } from 'vitest/node';
import { isBundle, mergeDumps } from './coverage-merge.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** Where CLI child processes write their raw V8 coverage (NODE_V8_COVERAGE); '' when coverage is off. */
    arsyncChildCoverage: string;
  }
}

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
    const merged = mergeDumps(files.map((f) => path.join(dir, f)));
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
