// Builds the LD_PRELOAD fault libraries of the e2e tests (test/helpers/*.c) once per test process, into
// a temp directory; undefined when no C compiler is here (the test that needs one is then skipped).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const built = new Map<string, string | undefined>();

/** The shared object built from test/helpers/`name`.c, or undefined without a compiler. */
export function faultLib(name: string): string | undefined {
  if (built.has(name)) return built.get(name);
  const src = fileURLToPath(new URL(`${name}.c`, import.meta.url));
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-fault-')), `${name}.so`);
  const r = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', out, src, '-ldl'], { encoding: 'utf8' });
  const lib = r.status === 0 ? out : undefined;
  built.set(name, lib);
  return lib;
}
