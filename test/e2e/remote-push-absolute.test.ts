// A push with -R of an absolute path (`arsync -R /abs/dir host:dst/`): rsync's sending client names the
// entries of such an operand from the root in its -v, -i and --out-format lines ("/tmp/x"), as a local
// -R copy does (run/lines.ts fromRoot), while the far side gets them without the slash. Differential
// against rsync 3.5 as the client through the same fake remote shell: exit code, stdout and stderr line
// for line (the work roots made alike), for an absolute operand alone, beside a relative one (sorted:
// the two tools order such a mixed list apart), and with --delete.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { rsyncAs } from '../helpers/as-user.js';
import { expectSameOutput, pairContext, runPair, startingState } from '../helpers/differential.js';
import { normaliseOutput, sameRoot } from '../helpers/normalise.js';
import { removeTemps } from '../helpers/tree.js';

afterAll(() => removeTemps());

function setup(root: string): void {
  fs.mkdirSync(path.join(root, 'src/d/e'), { recursive: true });
  fs.writeFileSync(path.join(root, 'src/d/e/f'), 'f');
  fs.writeFileSync(path.join(root, 'src/d/g'), 'g');
  fs.writeFileSync(path.join(root, 'src/h'), 'h');
  fs.mkdirSync(path.join(root, 'dst'));
  fs.writeFileSync(path.join(root, 'rsh'), '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
}

/** Each case's arguments, given its clone's root (the absolute operands are under it). */
const CASES: ((root: string) => string[])[] = [
  (r) => ['-avR', `${r}/src/d`, 'h:dst/'],
  (r) => ['-aiR', `${r}/src/d/e/f`, 'h:dst/'],
  (r) => ['-aR', '--out-format=%n|%i', `${r}/src/d/`, 'h:dst/'],
  (r) => ['-aiR', '--delete', `${r}/src/d`, 'h:dst/'],
];

describeEngines((e) => {
  it('-R of an absolute path: the names start with "/" as rsync\'s client prints them', async () => {
    const state = startingState(`arsync-rpushabs-${e.name}-`, setup);
    for (const [i, args] of CASES.entries()) {
      const r = await runPair(state, i, {
        rsync: (A) => rsyncAs({ uid: 0, gid: 0 }, ['--no-i-r', '-e', './rsh', ...args(A)], A),
        arsync: (B) => runCli([`--engine=${e.name}`, '-e', './rsh', ...args(B)], { cwd: B }),
      });
      expectSameOutput(r);
    }
  });

  it('beside a relative operand: the same lines (sorted)', async () => {
    const state = startingState(`arsync-rpushabs2-${e.name}-`, setup);
    const args = (root: string): string[] => ['-aiR', `${root}/src/d/g`, 'src/h', 'h:dst/'];
    const r = await runPair(state, 0, {
      rsync: (A) => rsyncAs({ uid: 0, gid: 0 }, ['--no-i-r', '-e', './rsh', ...args(A)], A),
      arsync: (B) => runCli([`--engine=${e.name}`, '-e', './rsh', ...args(B)], { cwd: B }),
    });
    const lines = (out: string, root: string, tool: 'rsync' | 'arsync'): string[] => normaliseOutput(sameRoot(out, root), tool).split('\n').sort();
    expect(r.arsync.code, pairContext(r)).toBe(r.rsync.code);
    expect(lines(r.arsync.stdout, r.B, 'arsync'), pairContext(r)).toEqual(lines(r.rsync.stdout, r.A, 'rsync'));
  });
});

/** %f in both directions, relative operands (the work root is the cwd; the far side runs there too). */
const FULL_NAME_CASES: string[][] = [
  ['src/', 'h:dst/a/'],
  ['src', 'h:dst/b/'],
  ['./src/', 'h:dst/c/'],
  ['-R', 'src/./d', 'h:dst/e/'],
  ['src/d/g', 'h:dst/f/'],
  ['h:src/', 'dst/g/'],
  ['-R', 'h:src/d', 'dst/h/'],
  ['h:src/d/g', 'dst/i/'],
];

describeEngines((e) => {
  // rsync's log.c: a sender's %f is the path it reads ("src/d/g", a "dir/" operand's own entry "src/.");
  // a receiver's is the list's name. arsync printed a push's list names, and a pull's staging path.
  it('--out-format=%f: the sender\'s path in a push, the list\'s name in a pull, as rsync\'s client', async () => {
    const state = startingState(`arsync-rfullname-${e.name}-`, setup);
    for (const [i, args] of FULL_NAME_CASES.entries()) {
      const opts = ['-a', '--out-format=%n|%f|%o', '-e', './rsh', ...args];
      const r = await runPair(state, i, {
        rsync: (A) => rsyncAs({ uid: 0, gid: 0 }, opts, A),
        arsync: (B) => runCli([`--engine=${e.name}`, ...opts], { cwd: B }),
      });
      expectSameOutput(r);
      expect(r.arsync.stdout).not.toMatch(/arsync-pull-/);
    }
  });
});
