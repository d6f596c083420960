// The start-up snapshot's preparation, run by bin.ts while `node --build-snapshot dist/bin.js` builds
// dist/arsync.blob (scripts/build-snapshot.mjs): every module of the CLI is loaded and initialised then,
// so a run from the blob neither compiles nor initialises them. Nothing that holds the process's state
// (signal handlers, streams, argv, env, the addon, workers) is touched here: that happens in the main
// function, at run time (cli/start.ts).
import { setFlagsFromString, startupSnapshot } from 'node:v8';
import { readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from './cli/main.js';
import { startCli } from './cli/start.js';
import { parseArgs, prebuildProgram } from './cli/options.js';
// A pull's and a push's modules, which main imports only for a command line naming another machine:
// imported here they are initialised into the blob, their classes there for compileAhead to reach, so
// that a remote run neither initialises them nor compiles what the trace saw it call (docs/benchmarks.md,
// "remote, session 21"). The build's own imports: a plain start still loads them only when needed.
import './cli/pull.js';
import './cli/remote-push.js';
import './cli/push-log.js';
import './run/staged-source.js';
import './cli/pull-current.js';

/** Warm what every run uses and set the blob's main function. */
export function prepareSnapshot(): void {
  // Every run parses its command line: parsing one here compiles the parser (commander, ~300 options) and
  // V8 keeps that bytecode in the blob (about 3 ms of CPU a run, docs/benchmarks.md). Not from the process
  // (no environment, no /proc/self/cmdline), and nothing it makes outlives the call.
  parseArgs(['node', 'arsync', '-a', '/nonexistent-src/', '/nonexistent-dst/']);
  // And the program the run's own parse will use, its options registered (it reads the environment then).
  prebuildProgram();
  const compiled = compileAhead();
  // For scripts/build-snapshot.mjs, which reads the build's stdout. A plain write to the descriptor: the
  // process.stdout stream would be made now and kept in the blob.
  writeSync(1, `arsync-snapshot: ${compiled} functions compiled ahead\n`);

  startupSnapshot.setDeserializeMainFunction(() => {
    // The bundle finds its files (the addon, the worker) from its own URL; from the blob that is the plain
    // bundle's path, which the launcher (bin/arsync) passes as argv[1], made absolute as Node makes a script's.
    const bin = resolve(process.argv[1]!);
    process.argv[1] = bin;
    (globalThis as { __arsyncModuleUrl?: string }).__arsyncModuleUrl = pathToFileURL(bin).href;
    startCli(() => Promise.resolve({ main }));
  });
}

type Table = () => Record<string, unknown>;

/**
 * Compile, without calling them, the bundle's functions named in the file ARSYNC_SNAPSHOT_WARM (one a line:
 * those a small local copy, pull and push called, traced by scripts/build-snapshot.mjs), so that their bytecode is in the
 * blob: a run from it would otherwise compile each on its first call (docs/benchmarks.md, "Small jobs,
 * session 14"). A build parameter, read only while the blob is built: nothing read here is kept. V8 offers
 * no call for "compile this function" but its test intrinsics, so they are allowed for this one step and
 * disallowed again before the blob is written (the blob records V8's flags, and a run's must match).
 */
function compileAhead(): number {
  const holder = globalThis as { __arsyncTopFunctions?: Table };
  const table = holder.__arsyncTopFunctions; // scripts/bundle.mjs: the bundle's top-level functions by name
  delete holder.__arsyncTopFunctions;
  const list = process.env.ARSYNC_SNAPSHOT_WARM;
  if (!list || !table) return 0;
  const fns = table();
  let count = 0;
  setFlagsFromString('--allow-natives-syntax');
  try {
    const compile = new Function('f', '%CompileBaseline(f)') as (f: unknown) => void;
    const wanted = new Set(readFileSync(list, 'utf8').split('\n'));
    const ahead = (fn: unknown, name: string): void => {
      if (typeof fn !== 'function' || !wanted.has(name)) return;
      compile(fn);
      count++;
    };
    for (const [name, fn] of Object.entries(fns)) {
      ahead(fn, name);
      // A class's methods and accessors (the log names a getter `get x`); a name the trace saw in another
      // class only costs a little bytecode in the blob.
      if (typeof fn !== 'function' || typeof fn.prototype !== 'object' || fn.prototype === null) continue;
      for (const owner of [fn.prototype as object, fn]) {
        for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(owner))) {
          if (key === 'constructor' || key === 'prototype') continue;
          ahead(d.value, key);
          ahead(d.get, `get ${key}`);
          ahead(d.set, `set ${key}`);
        }
      }
    }
  } finally {
    setFlagsFromString('--no-allow-natives-syntax');
  }
  return count;
}
