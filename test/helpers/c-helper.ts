// The tests' small C programs and LD_PRELOAD fault libraries (test/helpers/*.c: set-times, xattrs,
// shrink-read, epoll-fault), compiled on first use and kept under the system temp dir by their source's
// hash, so that concurrent test files share one build (through a rename), a changed source is built
// again, and no test process leaves a build of its own behind. One process per batch of paths is what makes them pay:
// a process per path, or a JavaScript walk beside a shell pipeline, cost the differential tests a large
// part of their time.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { REPO } from './cli-command.js';

const built = new Map<string, string>();

/**
 * test/helpers/NAME.c compiled with `flags` to NAME-HASH`suffix` (built once: the hash covers the source
 * and the flags), or the compiler's error.
 */
function build(name: string, suffix: string, flags: string[], libs: string[] = []): { bin: string } | { error: string } {
  const key = `${name}${suffix}`;
  const hit = built.get(key);
  if (hit) return { bin: hit };
  const source = path.join(REPO, 'test', 'helpers', `${name}.c`);
  const hash = createHash('sha256').update(fs.readFileSync(source)).update(flags.join(' ')).digest('hex').slice(0, 16);
  // Not under /dev/shm: a tmpfs may be mounted noexec.
  const dir = path.join(os.tmpdir(), 'arsync-test-bin');
  const bin = path.join(dir, `${name}-${hash}${suffix}`);
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}`;
    const cc = spawnSync('cc', [...flags, source, '-o', tmp, ...libs], { encoding: 'utf8' });
    if (cc.status !== 0) return { error: `building ${source} failed:\n${cc.error?.message ?? cc.stderr}` };
    fs.renameSync(tmp, bin);
  }
  built.set(key, bin);
  return { bin };
}

/** The program built from test/helpers/NAME.c. */
export function helperBinary(name: string): string {
  const r = build(name, '', ['-std=c11', '-O1', '-Wall', '-Wextra', '-Werror']);
  if ('error' in r) throw new Error(r.error);
  return r.bin;
}

/** The LD_PRELOAD library built from test/helpers/NAME.c, or undefined when it cannot be built (no compiler). */
export function helperLibrary(name: string): string | undefined {
  const r = build(name, '.so', ['-shared', '-fPIC', '-O2'], ['-ldl']);
  return 'bin' in r ? r.bin : undefined;
}
