#!/usr/bin/env node
// The arsync command: catches signals before anything else runs, then hands argv to cli/main.ts, which
// returns rsync's exit code. main is imported lazily so that loading it (and everything it pulls in)
// happens after the signal handlers are in place.
import { installSignalHandlers, setSignalExitHook } from './cli/signals.js';
import { jsonMode, summaryDocument } from './progress/json.js';
import { EventStream } from './progress/events.js';
import { VERSION } from './version.js';

let finished = false;
const exitWith = (code: number): void => {
  finished = true;
  process.exit(code);
};
installSignalHandlers(exitWith);
// Under --json even a signal before main() has loaded ends with the document (main replaces this hook
// with one that knows what the run did).
const jsonOut = jsonMode(process.argv.slice(2));
if (jsonOut !== undefined) {
  const started = performance.now();
  // --json=events ends its stream with the `end` event that carries the document.
  const events = jsonOut === 'events' ? new EventStream(process.stdout) : undefined;
  setSignalExitHook((code) => {
    const doc = summaryDocument(VERSION, { errors: [] }, code, performance.now() - started);
    if (events) events.end(doc);
    else process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  });
}
// A reader that went away (`arsync -v ... | head`) must not take the copy down with it: the lines are
// dropped and the run finishes.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
// If the event loop ever ran dry while a run was still waiting on something, Node would exit with 0 as
// if all had gone well: never let an unfinished run look like a success.
process.on('exit', () => {
  if (!finished) {
    process.stderr.write('arsync: internal error: exited before the run finished\n');
    process.exitCode = 11;
  }
});

// Not a top-level await: the bundle is CommonJS (scripts/bundle.mjs), which Node loads faster than ESM.
void import('./cli/main.js').then(({ main }) => main(process.argv)).then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (err: unknown) => {
    finished = true;
    process.stderr.write(`arsync: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 11;
  },
);
