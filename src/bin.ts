#!/usr/bin/env node
// The arsync command's one bundle, dist/bin.js, and its two starts. Run as a script (the launcher's fallback:
// another Node, NODE_OPTIONS, no blob), it catches signals before anything else runs and hands argv to
// cli/main.ts, which returns rsync's exit code (cli/start.ts); main is imported lazily so that loading it
// (and everything it pulls in) happens after the signal handlers are in place. Run by `node
// --build-snapshot` (scripts/build-snapshot.mjs), it is the start-up snapshot's entry (snapshot.ts). One
// file for both, so the package holds one copy of the code (docs/benchmarks.md, "Small jobs, session 14").
import { startupSnapshot } from 'node:v8';
import { startCli } from './cli/start.js';

if (startupSnapshot.isBuildingSnapshot()) {
  // The URL the bundle's banner set is where the blob is built; the run sets its own from argv[1]
  // (snapshot.ts), and no module may see the build's while it is initialised into the blob.
  (globalThis as { __arsyncModuleUrl?: string }).__arsyncModuleUrl = undefined;
  // A failure here rejects unhandled, which fails the build: the launcher then starts from this file.
  void import('./snapshot.js').then((s) => s.prepareSnapshot());
} else {
  // Not a top-level await: the bundle is CommonJS (scripts/bundle.mjs), which Node loads faster than ESM.
  startCli(() => import('./cli/main.js'));
}
