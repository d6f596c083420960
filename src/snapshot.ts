// The start-up snapshot's preparation, run by bin.ts while `node --build-snapshot dist/bin.js` builds
// dist/arsync.blob (scripts/build-snapshot.mjs): every module of the CLI is loaded and initialised then,
// so a run from the blob neither compiles nor initialises them. Nothing that holds the process's state
// (signal handlers, streams, argv, env, the addon, workers) is touched here: that happens in the main
// function, at run time (cli/start.ts).
import { startupSnapshot } from 'node:v8';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from './cli/main.js';
import { startCli } from './cli/start.js';
import { parseArgs, prebuildProgram } from './cli/options.js';

/** Warm what every run uses and set the blob's main function. */
export function prepareSnapshot(): void {
  // Every run parses its command line: parsing one here compiles the parser (commander, ~300 options) and
  // V8 keeps that bytecode in the blob (about 3 ms of CPU a run, docs/benchmarks.md). Not from the process
  // (no environment, no /proc/self/cmdline), and nothing it makes outlives the call.
  parseArgs(['node', 'arsync', '-a', '/nonexistent-src/', '/nonexistent-dst/']);
  // And the program the run's own parse will use, its options registered (it reads the environment then).
  prebuildProgram();

  startupSnapshot.setDeserializeMainFunction(() => {
    // The bundle finds its files (the addon, the worker) from its own URL; from the blob that is the plain
    // bundle's path, which the launcher (bin/arsync) passes as argv[1], made absolute as Node makes a script's.
    const bin = resolve(process.argv[1]!);
    process.argv[1] = bin;
    (globalThis as { __arsyncModuleUrl?: string }).__arsyncModuleUrl = pathToFileURL(bin).href;
    startCli(() => Promise.resolve({ main }));
  });
}
