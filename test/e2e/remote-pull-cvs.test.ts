// -C with --delete-excluded in a pull: rsync's receiving client adds its -C rules (the CVS defaults and
// the .cvsignore dir-merge) after it has sent its rules to the server, so --delete-excluded never makes
// them the sender's: they keep protecting the destination's CVS-ignored names (x.o, core) from deletion,
// where a local copy and a push delete them. Differential against rsync 3.5 as the client, same remote
// shell and server, every engine: the same tree, exit code and -i lines.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { fakeRsh } from '../helpers/fake-rsh.js';

let root: string;
let rsh: string;
let n = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rcvs-'));
  rsh = fakeRsh(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const T = 1_600_000_000;

function setup(dir: string): void {
  const put = (rel: string, data: string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  };
  put('src/a', 'a\n');
  put('src/sub/b', 'b\n');
  put('src/src.o', 'built\n');
  put('dst/x.o', 'o\n');
  put('dst/core', 'c\n');
  put('dst/keep', 'k\n');
  put('dst/sub/y.o', 'y\n');
  put('dst/sub/gone', 'g\n');
  const walk = (p: string): void => {
    if (fs.lstatSync(p).isDirectory()) for (const c of fs.readdirSync(p)) walk(path.join(p, c));
    fs.utimesSync(p, T, T);
  };
  walk(path.join(dir, 'src'));
  walk(path.join(dir, 'dst'));
}

const tree = (d: string): string[] => (fs.readdirSync(d, { recursive: true }) as string[]).sort();

describeEngines((e) => {
  it.each([
    [['-ai', '--delete', '-C', '--delete-excluded']],
    [['-ai', '--delete-after', '-C', '--delete-excluded']],
    [['-ai', '--delete', '-C']],
  ])('a pull with %j keeps or deletes the CVS-ignored names as rsync\'s client does', async (opts) => {
    const out: Record<string, { code: number | null; lines: string[]; tree: string[] }> = {};
    for (const tool of ['rsync', 'arsync'] as const) {
      const dir = path.join(root, `case-${n++}`);
      setup(dir);
      const argv = ['-e', rsh, ...opts, `h:${dir}/src/`, 'dst/'];
      const r = tool === 'rsync' ? spawnSync('rsync', argv, { cwd: dir, encoding: 'utf8' }) : await runCli([`--engine=${e.name}`, ...argv], { cwd: dir });
      out[tool] = { code: 'status' in r ? r.status : r.code, lines: r.stdout.split('\n').filter(Boolean).sort(), tree: tree(path.join(dir, 'dst')) };
    }
    expect(out['arsync']).toEqual(out['rsync']);
    // rsync 3.5's own answer: the CVS-ignored names stay, the plain extraneous ones go.
    expect(out['arsync']!.tree).toEqual(['a', 'core', 'sub', 'sub/b', 'sub/y.o', 'x.o']);
  });
});
