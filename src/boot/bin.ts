#!/usr/bin/env node
// The arsync command as installed (dist/bin.js): loads the CLI bundle (dist/cli.js, from src/bin.ts)
// through V8's code cache (compile-cache.ts). Nothing else happens here, so the CLI's signal handlers are
// in place as early as before.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCached } from './compile-cache.js';

runCached(join(dirname(fileURLToPath(import.meta.url)), 'cli.js'), typeof module === 'undefined' ? undefined : module);
