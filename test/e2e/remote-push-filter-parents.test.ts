// A push's -F with several operands, against rsync 3.5's client as the sender: the `: /.rsync-filter`
// rule scans the directories above the first directory the sender enters, and only that one (rsync
// finishes a dir-merge rule's setup once). Without incremental recursion that is the first operand
// given; with it, the first in rsync's sorted list. arsync's pushing walk used to scan above no operand
// at all (its rules' root was the operand's relative directory, so the scan started at "/p1").

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { itemLines } from '../helpers/remote-pull.js';

let root: string;
let rsh: string;
let n = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-pushparents-'));
  fs.mkdirSync(path.join(root, 'p1/a'), { recursive: true });
  fs.mkdirSync(path.join(root, 'p2/b'), { recursive: true });
  fs.writeFileSync(path.join(root, 'p1/.rsync-filter'), '- *.o\n');
  fs.writeFileSync(path.join(root, 'p2/.rsync-filter'), '- *.t\n');
  for (const f of ['p1/a/x.o', 'p1/a/x.t', 'p1/a/k', 'p2/b/y.o', 'p2/b/y.t', 'p2/b/k']) fs.writeFileSync(path.join(root, f), `${f}\n`);
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The files a tree holds, sorted. */
function files(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((p) => fs.statSync(path.join(dir, p)).isFile()).sort();
}

const CASES: string[][] = [
  ['--no-i-r', 'p2/b', 'p1/a'],
  ['--no-i-r', 'p1/a', 'p2/b'],
  ['--i-r', 'p2/b', 'p1/a'],
  ['--i-r', 'p1/a', 'p2/b'],
  ['--no-i-r', 'p2/b/', 'p1/a'],
];

describeEngines(({ name: engine }) => {
  for (const [ir, ...operands] of CASES) {
    it(`-r ${ir} -F ${operands.join(' ')}: the files and lines rsync's client sends`, async () => {
      const theirsDir = path.join(root, `dst-${++n}`);
      const oursDir = path.join(root, `dst-${++n}`);
      const args = ['-ri', ir!, '-F', '-e', rsh, ...operands];
      const theirs = spawnSync('rsync', [...args, `host:${theirsDir}/`], { cwd: root, encoding: 'latin1' });
      expect(theirs.status, theirs.stderr).toBe(0);
      const ours = await runCli([`--engine=${engine}`, ...args, `host:${oursDir}/`], { cwd: root });
      expect(ours.code, show(ours)).toBe(0);
      expect(files(oursDir)).toEqual(files(theirsDir));
      expect(itemLines(ours.stdout)).toEqual(itemLines(theirs.stdout));
      // The parents' rules did leave something out: the case tests the scan, not an empty rule set.
      expect(files(theirsDir).length).toBeLessThan(6);
    });
  }
});
