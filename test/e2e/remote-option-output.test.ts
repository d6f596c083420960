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
import { differential, put } from '../helpers/differential.js';

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
  const cases: [string, string[], ((root: string) => void)?][] = [
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
  ];
  for (const [title, args, setup] of cases) {
    it(title, async () => {
      await differential({ engine, setup: setup ?? outputSetup, args: [...args, 'src/', 'dst/'], noItemize: true });
    });
  }
  for (const opt of ['-M--log-file=log', '-M--log-file-format=%n']) {
    it(`${opt}: refused (exit 1) with the reason, nothing written`, async () => {
      const root = tempDir('arsync-mout-');
      outputSetup(root);
      const r = await runCli(['-rlt', opt, `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr, show(r)).toContain('the byte counts of its protocol stream');
      expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
      expect(fs.existsSync(path.join(root, 'log'))).toBe(false);
    });
  }
  for (const opt of ['-M-vv', '-M-vvv', '-M--debug=flist', '-M-ii', '-M--info=progress2']) {
    it(`${opt}: refused (exit 1), nothing written`, async () => {
      const root = tempDir('arsync-mout-');
      outputSetup(root);
      const r = await runCli(['-rlt', opt, `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr, show(r)).toContain(`-M/--remote-option=${opt.slice(2)}: the receiver's own lines at this level`);
      expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
    });
  }
});
