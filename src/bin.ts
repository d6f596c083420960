#!/usr/bin/env node
// The arsync command. All logic lives in cli/main.ts, which returns rsync's exit code.
import { main } from './cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`arsync: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 11;
  },
);
