// The far side's errors decide the exit code as they decide rsync's client's, against each server rsync
// (the installed 3.5, and 3.1.3 and 3.2.7 where they are built), with rsync as the client beside arsync:
// a transfer error the far side reports (its MSG_ERROR_XFER line: a file it could not make way for, a
// source it could not find) is exit 23 even where a 3.1 server itself exits 0; and a server that ends at
// its start (MSG_ERROR_EXIT: a destination it cannot make) is answered as rsync's client answers it, so
// that a 3.1 server, which waits for that answer, does not hold the run until its I/O timeout.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { fakeRsh } from '../helpers/fake-rsh.js';

let root: string;
let rsh: string;
let n = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpeerexit-'));
  rsh = fakeRsh(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const versions = ['3.5', ...(peersAvailable ? ['3.1.3', '3.2.7'] : [])];
const serverOf = (v: string): string => (v === '3.5' ? 'rsync' : peerRsync(v));

/** The same case for both clients, each on its own copy: what each printed to stderr and its exit code. */
async function both(engine: string, setup: (dir: string) => void, args: (dir: string) => string[]): Promise<Record<'rsync' | 'arsync', { code: number | null; stderr: string }>> {
  const out = {} as Record<'rsync' | 'arsync', { code: number | null; stderr: string }>;
  for (const tool of ['rsync', 'arsync'] as const) {
    const dir = path.join(root, `case-${n++}`);
    fs.mkdirSync(dir);
    setup(dir);
    const argv = ['-e', rsh, ...args(dir)];
    const r = tool === 'rsync' ? spawnSync('rsync', argv, { cwd: dir, encoding: 'utf8' }) : await runCli([`--engine=${engine}`, ...argv], { cwd: dir });
    const code = 'status' in r ? r.status : r.code;
    const stderr = r.stderr
      .replaceAll(dir, 'DIR')
      .replace(/^rsync error: (.*) at \S+ \[.*\]$/gm, 'arsync error: $1')
      .replace(/^rsync: \[Receiver\] write error: Broken pipe \(32\)\n/gm, '')
      // (rsync's own processes, stopped by one another's exit, sometimes say so: a race in its teardown.)
      .replace(/^arsync error: received SIGUSR1 \(code 19\)\n/gm, '');
    out[tool] = { code, stderr };
  }
  return out;
}

const source = (dir: string): void => {
  fs.mkdirSync(path.join(dir, 'src/d'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src/a'), 'a\n');
  fs.writeFileSync(path.join(dir, 'src/d/b'), 'b\n');
};

describeEngines((e) => {
  it.each(versions)('a transfer error the rsync %s server reports is exit 23, as rsync\'s client makes it', async (v) => {
    // A push: the receiving server cannot make way for a file where a full directory stands.
    const push = await both(
      e.name,
      (dir) => {
        source(dir);
        fs.mkdirSync(path.join(dir, 'dst/a/x'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'dst/a/x/y'), 'y\n');
      },
      (dir) => ['-a', `--rsync-path=${serverOf(v)}`, 'src/', `h:${dir}/dst/`],
    );
    expect(push.arsync, 'push').toEqual(push.rsync);
    expect(push.arsync.code, 'push').toBe(23);
    expect(push.arsync.stderr).toMatch(/could not make way for new regular file: a/);
    // A pull: the sending server cannot find the source.
    const pull = await both(e.name, source, (dir) => ['-a', `--rsync-path=${serverOf(v)}`, `h:${dir}/src/nonexist`, 'dst/']);
    expect(pull.arsync, 'pull').toEqual(pull.rsync);
    expect(pull.arsync.code, 'pull').toBe(23);
  });

  it.each(versions)('a rsync %s server that ends at its start is answered and left at once (exit 11, no I/O timeout)', async (v) => {
    const r = await both(e.name, source, (dir) => ['-a', `--rsync-path=${serverOf(v)}`, 'src/', `h:${dir}/nodir/x/y/`]);
    expect(r.arsync).toEqual(r.rsync);
    expect(r.arsync.code).toBe(11);
    expect(r.arsync.stderr).not.toMatch(/timeout/);
  }, 40_000);
});
