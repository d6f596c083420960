// -M values that set rsync's local receiver's own output: -v, -i/--itemize-changes, --out-format,
// --info=WORDS. rsync's forked receiver prints a few lines itself (created directory, skipping
// non-regular file, ignoring unsafe symlink) by its own settings; the client's lines (names, -i, deleting)
// follow the line's. Differential against rsync on every engine: same tree, exit code and stdout lines
// (compared as sorted lines: the two rsync processes write to one stdout). -vv and up, --debug, -ii,
// --info=progress are refused (exit 1, nothing written).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { changedSetup, differential, put } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** A source with files, a FIFO (skipped without -D) and a symlink out of the tree (unsafe), no dst. */
function outputSetup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a.txt', 'a\n');
  put(src, 'sub/b.txt', 'b\n');
  expect(spawnSync('mkfifo', [path.join(src, 'sub/fifo')]).status).toBe(0);
  fs.symlinkSync('/etc/passwd', path.join(src, 'out'));
}

/** outputSetup after a sync, with an extra file in dst that --delete removes. */
function deleteSetup(root: string): void {
  outputSetup(root);
  put(path.join(root, 'dst'), 'extra', 'x\n');
}

describeEngines((e) => {
  const engine = e.name;
  const cases: [string, string[], ((root: string) => void)?, { volatileDirsUnder?: string[] }?][] = [
    ['-M-v: the receiver\'s "created directory", skipped FIFO and unsafe symlink lines only', ['-rlt', '--safe-links', '-M-v']],
    ['-M-i: the receiver\'s lines (its format has %i), no itemized names', ['-rlt', '--safe-links', '-M-i']],
    ['-M--itemize-changes', ['-rlt', '--safe-links', '-M--itemize-changes']],
    ['-M--out-format=%n: no "created directory" (no %i)', ['-rlt', '--safe-links', '-M--out-format=%n']],
    ['-M--out-format=%i %n', ['-rlt', '--safe-links', '-M--out-format=%i %n']],
    ['-M--info=name1', ['-rlt', '--safe-links', '-M--info=name1']],
    ['-v -M--info=nonreg0,name0: the client\'s names, none of the receiver\'s lines', ['-rlt', '-v', '-M--info=nonreg0,name0']],
    ['-q -M-v: the receiver prints its lines', ['-rlt', '--safe-links', '-q', '-M-v']],
    ['-M-v --delete: deletions are the client\'s lines (none)', ['-rlt', '--delete', '-M-v'], deleteSetup],
    ['-i -M-v --delete: the client itemizes the deletions', ['-rlt', '-i', '--delete', '-M-v'], deleteSetup],
    ['-M-vv: the receiver\'s -vv lines ("delta-transmission", "is uptodate")', ['-rlt', '--safe-links', '-M-vv'], changedSetup],
    ['-M-vv on a fresh copy', ['-rlt', '--safe-links', '-M-vv']],
    ['-v -M-v: a -vv receiver under a -v client', ['-rlt', '-v', '-M-v'], changedSetup],
    ['-vv -M--info=name1: no "is uptodate" (the generator\'s)', ['-rlt', '-vv', '-M--info=name1'], changedSetup],
    ['-M-ii: the generator reports unchanged entries, the client prints none', ['-rlt', '-M-ii'], changedSetup],
    ['-i -M-ii: the client prints only changes', ['-rlt', '-i', '-M-ii'], changedSetup],
    ['-ii -M--no-i: the generator sends no unchanged entry', ['-rlt', '-ii', '-M--no-i'], changedSetup],
    ['-aii -M-i: every entry itemized', ['-rlt', '-ii', '-M-i'], changedSetup],
    ['-v -M-ii: the line\'s "%n%L" format stays the receiver\'s (no %i): "is uptodate" with -M-v', ['-rlt', '-v', '-M-ii', '-M-v'], changedSetup],
    ['-M-vv -u: the generator\'s skip lines', ['-rlt', '-u', '-M-vv'], changedSetup],
    ['-M--info=skip2 --ignore-existing', ['-rlt', '--ignore-existing', '-M--info=skip2'], changedSetup],
    ['-M-vv -b --backup-dir: the receiver\'s backup lines', ['-rlt', '-b', '--backup-dir=bk', '-M-vv'], changedSetup, { volatileDirsUnder: ['dst/bk'] }],
    ['-M--debug=del --delete: "deleting in"', ['-rlt', '--delete', '-M--debug=del'], deleteSetup],
    ['-M--debug=flist: "delta-transmission"', ['-rlt', '-M--debug=flist']],
    ['-M--log-file-format=%n without --log-file: nothing changes', ['-rlt', '-v', '-M--log-file-format=%n']],
  ];
  for (const [title, args, setup, extra] of cases) {
    it(title, async () => {
      await differential({ engine, setup: setup ?? outputSetup, args: [...args, 'src/', 'dst/'], noItemize: true, ...extra });
    });
  }
  it('--log-file with -M--log-file-format: the log keeps the line\'s format (the receiver has no log)', async () => {
    const root = tempDir('arsync-mout-');
    outputSetup(root);
    const r = await runCli(['-rlt', '--log-file=log', '-M--log-file-format=NAME %n', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    const log = fs.readFileSync(path.join(root, 'log'), 'utf8');
    expect(log).toMatch(/\] >f\+{9} a\.txt\n/);
    expect(log).not.toContain('NAME');
  });
  it('-M--log-file: refused (exit 1) with the reason, nothing written', async () => {
    const root = tempDir('arsync-mout-');
    outputSetup(root);
    const r = await runCli(['-rlt', '-M--log-file=log', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr, show(r)).toContain('the byte counts of its protocol stream');
    expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'log'))).toBe(false);
  });
  for (const opt of ['-M-vvv', '-M--debug=flist2', '-M--debug=genr', '-M--info=progress2']) {
    it(`${opt}: refused (exit 1), nothing written`, async () => {
      const root = tempDir('arsync-mout-');
      outputSetup(root);
      const r = await runCli(['-rlt', opt, `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr, show(r)).toContain(`-M/--remote-option=${opt.slice(2)}: the receiver's own -vvv trace`);
      expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
    });
  }
});
