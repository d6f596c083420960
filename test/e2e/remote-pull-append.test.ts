// A pull with --append or --append-verify: rsync's sender is told the mode, so the receiving client must
// ask as rsync's generator does in it (a destination file as long as the source's or longer is not
// asked for at all; a shorter one is asked for with the sum header of its length and no sums) and put
// the destination's bytes before the data that comes. arsync sent block sums there, which the sender
// read as the next file's index: "File-list index 58 not in -1 - 2", exit 12, and with more files a
// hang. Differential against rsync 3.5 as the client on every engine: the same tree and exit code, and
// under --append the same -i lines. (Under --append-verify a file whose kept bytes differ is sent again
// in rsync's redo phase, where rsync's client prints a warning and a second -i line for it; arsync
// sends it again too and prints the same warning but one -i line: compared there are the tree, the exit
// code and stderr.)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { destPairs, itemLines, rsyncClient } from '../helpers/remote-pull.js';

let root: string;
let src: string;
let rsh: string;

const stamp = (p: string, t: string): void => void execFileSync('touch', ['-d', `@${t}`, p]);

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpullappend-'));
  src = path.join(root, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'grows'), 'hello world, and more\n');
  fs.writeFileSync(path.join(src, 'shorter'), 'hello\n');
  fs.writeFileSync(path.join(src, 'same-size'), 'twelve bytes');
  fs.writeFileSync(path.join(src, 'other-prefix'), 'same\n');
  // Past one block: the prefix is read from the destination in pieces, the rest comes as data.
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  fs.writeFileSync(path.join(src, 'sub', 'big'), big);
  fs.writeFileSync(path.join(src, 'sub', 'new'), 'not there yet\n');
  for (const f of ['grows', 'shorter', 'same-size', 'other-prefix', 'sub/big', 'sub/new', 'sub', '.']) stamp(path.join(src, f), '1700000000');
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The destination both clients start from: shorter, longer, equal and differing files. */
function seed(dst: string): void {
  fs.mkdirSync(path.join(dst, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dst, 'grows'), 'hello world');
  fs.writeFileSync(path.join(dst, 'shorter'), 'hello world, longer than the source\n');
  fs.writeFileSync(path.join(dst, 'same-size'), 'twelve BYTES');
  fs.writeFileSync(path.join(dst, 'other-prefix'), 'sa\n');
  fs.writeFileSync(path.join(dst, 'sub', 'big'), fs.readFileSync(path.join(src, 'sub', 'big')).subarray(0, 100_000));
  for (const f of ['grows', 'shorter', 'same-size', 'other-prefix', 'sub/big', 'sub', '.']) stamp(path.join(dst, f), '1600000000');
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const pair = destPairs(() => root, e.name);

  for (const mode of ['--append', '--append-verify']) {
    it(`${mode}: asked as rsync's generator asks, the same tree and exit code as rsync's`, async () => {
      seed(pair.theirs);
      seed(pair.mine);
      const r = rsyncClient(['-ai', mode, '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
      const ours = await runCli([eng, '-ai', mode, '-e', rsh, `host:${src}/`, `${pair.mine}/`]);
      expect(r.code, r.out + r.err).toBe(0);
      expect(ours.code, show(ours)).toBe(0);
      if (mode === '--append') expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
      // Under --append-verify the file whose kept bytes differ is asked for again, with rsync's warning.
      else expect(ours.stderr).toBe(r.err);
      expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false }))).toEqual([]);
      // The kept bytes and what came after them.
      expect(fs.readFileSync(path.join(pair.mine, 'grows'), 'utf8')).toBe('hello world, and more\n');
      expect(fs.readFileSync(path.join(pair.mine, 'shorter'), 'utf8')).toBe('hello world, longer than the source\n');
      expect(fs.readFileSync(path.join(pair.mine, 'sub', 'big')).equals(fs.readFileSync(path.join(src, 'sub', 'big')))).toBe(true);
    });
  }
});
