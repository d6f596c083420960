#!/usr/bin/env node
// The arsync command. All logic lives in cli/main.ts, which returns rsync's exit code.
import { main } from './cli/main.js';

let finished = false;
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

main(process.argv).then(
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
