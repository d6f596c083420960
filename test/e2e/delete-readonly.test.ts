// --delete by a user who is not root, of read-only trees of that user's own (a module cache, a build's
// read-only output), against rsync run as the same user, on every engine. rsync makes such a directory
// owner-writable before it deletes inside it; arsync failed every entry in it ("delete_file:
// unlink(gone/sub/f) failed: Permission denied", exit 23), which then held back every later deletion.
// A directory that stays (the destination's own, one the source still has) keeps its mode.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { expectSameOutput, pairContext, put, runPair, startingState } from '../helpers/differential.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

afterAll(() => {
  // What the runs left read-only is nobody's: root removes it all the same.
  removeTemps();
});

function setup(root: string): void {
  put(root, 'src/ro/a', 'a\n', 0o644);
  put(root, 'src/keep', 'keep\n', 0o644);
  put(root, 'dst/ro/a', 'a\n', 0o644);
  put(root, 'dst/ro/extra', 'extra\n', 0o444);
  put(root, 'dst/keep', 'keep\n', 0o644);
  put(root, 'dst/gone/sub/deep/f', 'f\n', 0o444);
  put(root, 'dst/gone/g', 'g\n', 0o400);
  put(root, 'dst/gone2/h', 'h\n', 0o644);
  // Another's file inside a read-only directory of ours: deleted as well (unlinking needs the directory's
  // write permission only).
  put(root, 'dst/gone2/theirs', 'theirs\n', 0o644);
  // One time everywhere (rsync compares a directory's time in whole seconds here, arsync to the ns).
  spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} + && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}'`]);
  fs.chownSync(path.join(root, 'dst/gone2/theirs'), 0, 0);
  for (const d of ['src/ro', 'dst/ro', 'dst/gone/sub/deep', 'dst/gone/sub', 'dst/gone', 'dst/gone2']) fs.chmodSync(path.join(root, d), 0o555);
}

describeEngines((e) => {
  const engine = e.name;

  it.skipIf(process.getuid?.() !== 0)('not as root: read-only directories of ours are deleted as rsync deletes them', async () => {
    const state = startingState(`arsync-delete-ro-${engine}-`, setup);
    fs.chmodSync(state.base, 0o755);
    const cases = [
      ['-rti', '--delete', 'src/', 'dst/'],
      ['-ai', '--delete-after', 'src/', 'dst/'],
      ['-ai', '--delete-delay', 'src/', 'dst/'],
      ['-rti', '--delete-before', 'src/', 'dst/'],
      ['-rtin', '--delete', 'src/', 'dst/'],
    ];
    for (const [i, args] of cases.entries()) {
      const r = await runPair(state, i, {
        rsync: (A) => rsyncAs(NOBODY, args, A),
        arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, user: NOBODY }),
      });
      const dry = args.includes('-rtin');
      const before = args.includes('--delete-before');
      // Before the transfer a kept read-only directory is not open yet: rsync fails its extraneous entry,
      // and prints no "*deleting" line for it (test/e2e/delete-failed.test.ts).
      expectSameOutput(r);
      expect(r.arsync.code, pairContext(r)).toBe(before ? 23 : 0);
      expect(r.arsync.stdout, pairContext(r)).toContain('*deleting   gone/sub/deep/f');
      for (const root of [r.A, r.B]) fs.utimesSync(path.join(root, 'dst'), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), pairContext(r)).toEqual([]);
      for (const gone of ['dst/gone', 'dst/gone2']) expect(fs.existsSync(path.join(r.B, gone)), pairContext(r)).toBe(dry);
      expect(fs.existsSync(path.join(r.B, 'dst/ro/extra')), pairContext(r)).toBe(dry || before);
      expect(fs.lstatSync(path.join(r.B, 'dst/ro')).mode & 0o7777).toBe(0o555);
    }
  });

  // --backup: each deleted file is moved to its backup name beside it, inside the read-only directories
  // too (arsync failed each, "keep_backup failed: ... Permission denied", exit 23). rsync also gives each
  // entry of ours it deletes owner write first, whether the deletion then happens or not (DEL_NO_UID_WRITE,
  // delete_dir_contents' chmod): a read-only file's backup has it, and so has every directory it tried to
  // empty, a directory that holds only a subdirectory kept by its backups or one --max-delete stopped at
  // included. arsync gave it only to a directory a move or an unlink in it needed (the modes of the
  // backups and of those directories differed), and said "cannot delete non-empty directory" once for a
  // directory whose subdirectory stayed, where rsync says it twice (once emptying it, once trying rmdir).
  it.skipIf(process.getuid?.() !== 0)('not as root: --delete --backup inside read-only directories of ours, as rsync (modes included)', async () => {
    const state = startingState(`arsync-delete-ro-bak-${engine}-`, (root) => {
      setup(root);
      // A read-only file where the deletion starts (a kept directory), and a directory that holds only a
      // directory whose file is backed up.
      put(root, 'dst/rotop', 'top\n', 0o444);
      put(root, 'dst/gone3/only/x/y', 'y\n', 0o444);
      spawnSync('sh', ['-c', `touch -h -d @1700000000 '${root}/dst/rotop' && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}/dst/rotop' '${root}/dst/gone3'`]);
      for (const d of ['dst/gone3/only/x', 'dst/gone3/only']) fs.chmodSync(path.join(root, d), 0o555);
    });
    fs.chmodSync(state.base, 0o755);
    const cases = [
      ['-rti', '--delete', '--backup', 'src/', 'dst/'],
      ['-rti', '--delete-after', '--backup', 'src/', 'dst/'],
      ['-rti', '--delete-delay', '--backup-dir=../bk', 'src/', 'dst/'],
      ['-rti', '--delete', '--max-delete=2', 'src/', 'dst/'],
    ];
    for (const [i, args] of cases.entries()) {
      const r = await runPair(state, i, {
        rsync: (A) => rsyncAs(NOBODY, args, A),
        arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, user: NOBODY }),
      });
      expectSameOutput(r);
      expect(r.arsync.code, pairContext(r)).toBe(args.includes('--max-delete=2') ? 25 : 0);
      // Modes, owners and contents; the directories' times are the runs' own.
      expect(formatDiffs(compareTrees(r.A, r.B, { times: false })), pairContext(r)).toEqual([]);
      // The kept directory keeps its mode in both.
      expect(fs.lstatSync(path.join(r.B, 'dst/ro')).mode & 0o7777).toBe(0o555);
    }
  });
});
