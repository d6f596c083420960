#!/usr/bin/env node
// The arsync command from the plain bundle (dist/bin.js): catches signals before anything else runs,
// then hands argv to cli/main.ts, which returns rsync's exit code (cli/start.ts). main is imported lazily
// so that loading it (and everything it pulls in) happens after the signal handlers are in place. The
// start-up snapshot (snapshot.ts) starts the same way with main already loaded.
import { startCli } from './cli/start.js';

// Not a top-level await: the bundle is CommonJS (scripts/bundle.mjs), which Node loads faster than ESM.
startCli(() => import('./cli/main.js'));
