// Deletions that fail, against rsync 3.5 on the same trees, on every engine. rsync prints a deletion's
// "*deleting" line, counts it in --stats and tells its sender only once the unlink, rmdir or backup worked
// (delete.c delete_item); a directory whose contents did not all go is "non-empty" (delete_dir_contents:
// once for it, and once more when its own rmdir is tried), and the failure is an FERROR_XFER line
// (exit 23) that leaves its io_error alone, so later deletions still happen. arsync printed and counted
// every deletion as it planned it, reported the rmdir of the kept directory as an error ("Directory not
// empty") and took the failure for an I/O error ("IO error encountered -- skipping file deletion"). Nor
// does a file the receiver fails to write stop the deletions (it did in arsync until session 54).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { expectSameOutput, pairContext, put, runPair, startingState } from '../helpers/differential.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

const isRoot = process.getuid?.() === 0;
const immutable: string[] = [];

afterAll(() => {
  for (const p of immutable) spawnSync('chattr', ['-i', p]);
  removeTemps();
});

/** Whether chattr +i works where the tests' trees are (ext4 does; tmpfs and overlayfs may not). */
function chattrWorks(): boolean {
  if (!isRoot) return false;
  const d = tempDir('arsync-chattr-probe-');
  const f = path.join(d, 'f');
  fs.writeFileSync(f, '');
  const ok = spawnSync('chattr', ['+i', f]).status === 0;
  if (ok) spawnSync('chattr', ['-i', f]);
  return ok;
}
const canImmutable = chattrWorks();

function setImmutable(root: string, rels: string[]): void {
  for (const rel of rels) {
    const p = path.join(root, rel);
    expect(spawnSync('chattr', ['+i', p]).status).toBe(0);
    immutable.push(p);
  }
}

describeEngines((e) => {
  const engine = e.name;

  // As root: an immutable directory (chattr +i) keeps what is in it and itself.
  it.skipIf(!canImmutable)('as root: deletions in an immutable directory fail as rsync says, the rest go on', async () => {
    const state = startingState(`arsync-delete-failed-imm-${engine}-`, (root) => {
      put(root, 'src/k', 'k\n');
      put(root, 'src/imm/x', 'x\n');
      put(root, 'dst/k', 'k\n');
      put(root, 'dst/imm/x', 'x\n');
      put(root, 'dst/imm/y', 'y\n');
      put(root, 'dst/gone/sub/z', 'z\n');
      put(root, 'dst/gone/w', 'w\n');
      put(root, 'dst/top', 't\n');
      put(root, 'src/zz/a', 'a\n');
      put(root, 'dst/zz/a', 'a\n');
      put(root, 'dst/zz/extra', 'e\n');
      spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} +`]);
    });
    const cases = [
      ['-ri', '--delete', 'src/', 'dst/'],
      ['-ri', '--delete-after', '--stats', 'src/', 'dst/'],
      ['-ri', '--delete-before', 'src/', 'dst/'],
      ['-rin', '--delete', 'src/', 'dst/'],
    ];
    for (const [i, args] of cases.entries()) {
      const r = await runPair(state, i, {
        rsync: (A) => {
          setImmutable(A, ['dst/imm', 'dst/gone/sub']);
          return rsyncAs({ uid: 0, gid: 0 }, args, A);
        },
        arsync: (B) => {
          setImmutable(B, ['dst/imm', 'dst/gone/sub']);
          return runCli([`--engine=${engine}`, ...args], { cwd: B });
        },
      });
      expectSameOutput(r);
      // A dry run tries nothing: everything is listed, as rsync lists it.
      const dry = args.includes('-rin');
      expect(r.arsync.code, pairContext(r)).toBe(dry ? 0 : 23);
      if (dry) expect(r.arsync.stdout, pairContext(r)).toContain('*deleting   gone/sub/z');
      else expect(r.arsync.stdout, pairContext(r)).not.toContain('*deleting   gone/sub/z');
      // The deletions after the failure still happen.
      expect(fs.existsSync(path.join(r.B, 'dst/zz/extra')), pairContext(r)).toBe(dry);
      expect(formatDiffs(compareTrees(r.A, r.B, { times: false })), pairContext(r)).toEqual([]);
    }
  });

  // A file the receiver cannot write (mkstemp in root's directory, as nobody) is rsync's FERROR_XFER
  // line: exit 23, but its io_error stays clear (only the sender's reading errors set it), so the
  // deletions of every mode go on, after the failure too.
  it.skipIf(!isRoot)('a file that cannot be written leaves the deletions of every mode going, as rsync', async () => {
    const state = startingState(`arsync-delete-after-unwritten-${engine}-`, (root) => {
      put(root, 'src/a/new', 'new\n');
      put(root, 'src/a/same', 's\n');
      put(root, 'src/b/x', 'x\n');
      put(root, 'dst/a/same', 's\n');
      put(root, 'dst/b/x', 'x\n');
      put(root, 'dst/b/extra', 'e\n');
      put(root, 'dst/c/extra', 'e\n');
      put(root, 'dst/top', 't\n');
      spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} + && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}'`]);
      // Another's directory: neither writable nor made writable (rsync's generator adds u+w to a read-only
      // directory of the user's own, and so does arsync).
      fs.chownSync(path.join(root, 'dst/a'), 0, 0);
    });
    fs.chmodSync(state.base, 0o755);
    const cases = [
      ['-rti', '--delete-after', '--stats', 'src/', 'dst/'],
      ['-rti', '--delete', 'src/', 'dst/'],
      ['-rti', '--delete-delay', 'src/', 'dst/'],
      ['-rti', '--delete-before', 'src/', 'dst/'],
      ['-rt', '--delete-after', '--stats', '--inplace', 'src/', 'dst/'],
    ];
    for (const [i, args] of cases.entries()) {
      const r = await runPair(state, i, {
        rsync: (A) => rsyncAs(NOBODY, args, A),
        arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, user: NOBODY }),
      });
      expectSameOutput(r);
      expect(r.arsync.code, pairContext(r)).toBe(23);
      expect(r.arsync.stdout, pairContext(r)).not.toContain('IO error encountered');
      for (const gone of ['dst/b/extra', 'dst/c', 'dst/top']) expect(fs.existsSync(path.join(r.B, gone)), `${gone}: ${pairContext(r)}`).toBe(false);
      expect(fs.existsSync(path.join(r.B, 'dst/a/new')), pairContext(r)).toBe(false);
      expect(formatDiffs(compareTrees(r.A, r.B, { times: false })), pairContext(r)).toEqual([]);
    }
  });

  // Not as root: what the user may not delete (another's directory, a kept read-only one before the
  // transfer opens it) stays, with rsync's lines.
  it.skipIf(!isRoot)('not as root: deletions the user may not make fail as rsync says, the rest go on', async () => {
    const state = startingState(`arsync-delete-failed-nobody-${engine}-`, (root) => {
      put(root, 'src/ro/a', 'a\n');
      put(root, 'src/keep', 'keep\n');
      put(root, 'src/zz/a', 'a\n');
      put(root, 'dst/ro/a', 'a\n');
      put(root, 'dst/ro/extra', 'extra\n');
      put(root, 'dst/keep', 'keep\n');
      put(root, 'dst/gone/theirs/f', 'f\n');
      put(root, 'dst/gone/g', 'g\n');
      put(root, 'dst/zz/a', 'a\n');
      put(root, 'dst/zz/extra', 'e\n');
      spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} + && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}'`]);
      // Another's directory inside one of ours: its file cannot be unlinked.
      fs.chownSync(path.join(root, 'dst/gone/theirs'), 0, 0);
      for (const d of ['src/ro', 'dst/ro']) fs.chmodSync(path.join(root, d), 0o555);
    });
    fs.chmodSync(state.base, 0o755);
    const cases = [
      ['-rti', '--delete', 'src/', 'dst/'],
      ['-rti', '--delete-before', '--stats', 'src/', 'dst/'],
      ['-rti', '--delete-delay', 'src/', 'dst/'],
    ];
    for (const [i, args] of cases.entries()) {
      const r = await runPair(state, i, {
        rsync: (A) => rsyncAs(NOBODY, args, A),
        arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, user: NOBODY }),
      });
      expectSameOutput(r);
      expect(r.arsync.code, pairContext(r)).toBe(23);
      expect(r.arsync.stdout, pairContext(r)).not.toContain('*deleting   gone/theirs/f');
      expect(fs.existsSync(path.join(r.B, 'dst/zz/extra')), pairContext(r)).toBe(false);
      expect(formatDiffs(compareTrees(r.A, r.B, { times: false })), pairContext(r)).toEqual([]);
    }
  });
});
