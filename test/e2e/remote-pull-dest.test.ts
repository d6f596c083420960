// A pull's destination is settled once the file list is in and before anything is fetched, as rsync's
// receiver settles it (cli/pull-dest-root.ts): one it cannot make (its parent read-only to the user, a
// parent missing) is exit 11, one it cannot stat (a file where a parent directory should be) exit 3,
// with rsync's lines in rsync's order and nothing more (the sending server, told so, leaves quietly), and
// no file data comes over. Differential against rsync 3.5 as the client through the same fake remote
// shell, run as nobody where the refusal is a permission; a second remote shell counts what the far side
// sent to arsync (a list, not the 1 MiB file); a destination that can be made gets rsync's -i lines.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { rsyncAs, NOBODY } from '../helpers/as-user.js';
import { expectSameOutput, runPair, startingState } from '../helpers/differential.js';
import { isRoot, removeTemps } from '../helpers/tree.js';

afterAll(() => removeTemps());

function setup(root: string): void {
  fs.mkdirSync(path.join(root, 'src/d'), { recursive: true });
  fs.writeFileSync(path.join(root, 'src/big'), Buffer.alloc(1 << 20, 7));
  fs.writeFileSync(path.join(root, 'src/d/x'), 'x');
  fs.mkdirSync(path.join(root, 'ro'));
  fs.chmodSync(path.join(root, 'ro'), 0o555);
  fs.writeFileSync(path.join(root, 'file'), 'not a directory');
  fs.writeFileSync(path.join(root, 'rsh'), '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
  // What the far side writes to its client, appended to `sent` as it passes.
  fs.writeFileSync(path.join(root, 'count-rsh'), '#!/bin/sh\nshift\nsh -c "$*" | tee -a sent\n', { mode: 0o755 });
  for (const d of ['.', 'src', 'src/d']) fs.chmodSync(path.join(root, d), 0o777);
}

/** [arguments, run as nobody] */
const CASES: [string[], boolean][] = [
  [['-a', 'h:src/', 'ro/dst/'], true],
  [['-av', 'h:src/', 'ro/dst'], true],
  [['-ai', 'h:src/', 'ro/dst/'], true],
  [['-a', 'h:src/', 'ro/a/b/'], true],
  [['-av', '--stats', 'h:src/', 'missing/dst/'], false],
  [['-a', 'h:src/', 'file/dst/'], false],
  [['-av', 'h:src/', 'file/dst'], false],
  // Made: rsync's line and "./" as a new directory.
  [['-ai', 'h:src/', 'new/'], false],
  [['-av', 'h:src/', 'new'], false],
];

describeEngines((e) => {
  it('a destination it cannot make or stat: rsync\'s lines, order and exit code, and nothing fetched', async () => {
    const state = startingState(`arsync-rpulldest-${e.name}-`, setup);
    fs.chmodSync(state.base, 0o755);
    for (const [i, [opts, asNobody]] of CASES.entries()) {
      const args = ['--no-i-r', '-e', './rsh', ...opts];
      const mine = args.slice(1);
      const r = await runPair(state, i, {
        rsync: (A) => (asNobody ? rsyncAs(NOBODY, args, A) : rsyncAs({ uid: 0, gid: 0 }, args, A)),
        arsync: (B) => runCli([`--engine=${e.name}`, ...mine], { cwd: B, ...(asNobody ? { user: NOBODY } : {}) }),
      });
      expectSameOutput(r);
      if (r.rsync.code === 0) continue;
      // The staging tree went with the refusal, and only the list came over.
      const counted = await runCli([`--engine=${e.name}`, ...mine.map((a) => (a === './rsh' ? './count-rsh' : a))], { cwd: r.B, ...(asNobody ? { user: NOBODY } : {}) });
      expect(counted.code).toBe(r.rsync.code);
      expect(fs.statSync(path.join(r.B, 'sent')).size, opts.join(' ')).toBeLessThan(4096);
      fs.rmSync(path.join(r.B, 'sent'));
    }
  });

  it.skipIf(!isRoot)('a TMPDIR the user may not write: the staging tree goes to /tmp and the pull is rsync\'s; nowhere to stage: exit 11 with the reason, nothing made', async () => {
    const state = startingState(`arsync-rpulltmp-${e.name}-`, setup);
    fs.chmodSync(state.base, 0o755);
    const args = ['-ai', '-e', './rsh', 'h:src/', 'dst/'];
    // ro/ is 0555: nobody may not write there.
    const r = await runPair(state, 0, {
      rsync: (A) => rsyncAs(NOBODY, args, A),
      arsync: (B) => runCli([`--engine=${e.name}`, ...args], { cwd: B, user: NOBODY, env: { TMPDIR: path.join(B, 'ro') } }),
    });
    expectSameOutput(r);
    expect(r.arsync.code).toBe(0);
    expect(fs.readFileSync(path.join(r.B, 'dst/d/x'), 'utf8')).toBe('x');
    // /tmp, /var/tmp and /dev/shm read-only for this run alone (the test's tree stays readable), and
    // TMPDIR unwritable: no place for the staging tree.
    const ro = ['/tmp', '/var/tmp', '/dev/shm'].map((d) => `mount --bind ${d} ${d} && mount -o remount,bind,ro ${d}`).join(' && ');
    const o = await runCli([`--engine=${e.name}`, '-a', '-e', path.join(r.B, 'rsh'), `h:${r.B}/src/`, `${r.B}/out/`], {
      user: NOBODY,
      env: { TMPDIR: path.join(r.B, 'ro') },
      mountNs: ro,
    });
    expect(o.code, o.stderr).toBe(11);
    // The mode refuses it, or the read-only mount first where the tree is on one of those filesystems.
    const why = '(Permission denied \\(13\\)|Read-only file system \\(30\\))';
    const dir = path.join(r.B, 'ro').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(o.stderr).toMatch(new RegExp(`^arsync: cannot make a staging directory in "${dir}": ${why}; set TMPDIR to a directory you may write\narsync error: error in file IO \\(code 11\\)\n$`));
    expect(fs.existsSync(path.join(r.B, 'out'))).toBe(false);
  });
});
