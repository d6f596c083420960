// Entry point (dist/addon-check.js) for the install script: says on stdout, as JSON, whether an addon loads
// with the expected ABI and which one, using the very loader the CLI uses, so `npm install` skips the build
// from source exactly when arsync would run a prebuilt anyway.

import { loadAddon } from './native.js';

const s = loadAddon();
process.stdout.write(`${JSON.stringify(s.ok ? { ok: true, kind: s.kind, path: s.path } : { ok: false, reason: s.reason })}\n`);
