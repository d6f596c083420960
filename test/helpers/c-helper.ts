// The tests' small C programs (test/helpers/*.c: set-times, xattrs), compiled on first use and kept under
// the system temp dir by their source's hash, so that concurrent test files share one build (through a
// rename) and a changed source is built again. One process per batch of paths is what makes them pay:
// a process per path, or a JavaScript walk beside a shell pipeline, cost the differential tests a large
// part of their time.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { REPO } from './cli.js';

const built = new Map<string, string>();

/** The program built from test/helpers/NAME.c. */
export function helperBinary(name: string): string {
  const hit = built.get(name);
  if (hit) return hit;
  const source = path.join(REPO, 'test', 'helpers', `${name}.c`);
  const hash = createHash('sha256').update(fs.readFileSync(source)).digest('hex').slice(0, 16);
  // Not under /dev/shm: a tmpfs may be mounted noexec.
  const dir = path.join(os.tmpdir(), 'arsync-test-bin');
  const bin = path.join(dir, `${name}-${hash}`);
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}`;
    const cc = spawnSync('cc', ['-std=c11', '-O1', '-Wall', '-Wextra', '-Werror', source, '-o', tmp], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`building ${source} failed:\n${cc.error?.message ?? cc.stderr}`);
    fs.renameSync(tmp, bin);
  }
  built.set(name, bin);
  return bin;
}
