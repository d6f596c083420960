// Differential tests against rsync (issue 3): backups (--backup, --backup-dir, --suffix), snapshots
// (--link-dest, --compare-dest, --copy-dest) and --remove-source-files.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { clone, deleteSetup, differential, freshSetup, put, shiftMtime, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

/**
 * root/prev is the previous snapshot (an earlier state of src); dst does not exist yet. Since prev:
 * a.txt grew, b.bin changed (same size, new mtime), exec.sh's mode changed (content the same: with -a
 * not linkable), new.txt was added. Everything else is identical to prev.
 */
function snapshotSetup(root: string): void {
  const src = path.join(root, 'src');
  freshSetup(root);
  clone(src, path.join(root, 'prev'));
  fs.appendFileSync(path.join(src, 'a.txt'), 'more\n');
  fs.writeFileSync(path.join(src, 'b.bin'), Buffer.alloc(20_000, 7));
  shiftMtime(path.join(src, 'b.bin'), 60);
  fs.chmodSync(path.join(src, 'exec.sh'), 0o750);
  fs.writeFileSync(path.join(src, 'new.txt'), 'new\n');
}

const UNCHANGED = ['empty', 'ro.txt', 'sub/c.txt', 'sub/deep/e.txt', 'sub/deep/f.o', 'docs/readme.md'];
const CHANGED = ['a.txt', 'b.bin', 'exec.sh', 'new.txt'];
const ino = (p: string): number => fs.lstatSync(p).ino;

describeEngines((e) => {
  const engine = e.name;

  it('--backup (suffix ~) with --delete: replaced and deleted files are kept as name~', async () => {
    // --backup without --backup-dir implies --omit-dir-times in rsync (backups move directory mtimes),
    // and in arsync: every directory under dst keeps the time of the run, so those are not compared.
    await differential({ engine, setup: deleteSetup, args: ['-a', '--backup', '--delete', 'src/', 'dst/'], volatileDirsUnder: ['dst'] });
  });

  it("--backup --delete: rsync's implied P *~ comes after the operator's rules (an R *~ deletes old backups, unsuffixed), and not under --delete-excluded", async () => {
    const setup = (root: string): void => {
      deleteSetup(root);
      put(root, 'dst/sub/old~', 'an earlier backup\n');
      put(root, 'dst/plain', 'extraneous\n');
    };
    const gone = (args: string[]) => differential({
      engine, setup, args: ['-a', '--backup', ...args, 'src/', 'dst/'], volatileDirsUnder: ['dst'],
      after: (r) => {
        expect(fs.existsSync(path.join(r.B, 'dst/sub/old~')), 'old~').toBe(false);
        expect(fs.existsSync(path.join(r.B, 'dst/sub/old~~')), 'old~~').toBe(false);
      },
    });
    await gone(['--delete', '--filter=R *~']);
    await gone(['--delete-excluded', '--exclude=nothing']);
    await differential({ engine, setup, args: ['-a', '--backup', '--delete', 'src/', 'dst/'], volatileDirsUnder: ['dst'], after: (r) => expect(fs.existsSync(path.join(r.B, 'dst/sub/old~'))).toBe(true) });
  });

  it('--backup --backup-dir=../bak --suffix=.old with --delete', async () => {
    await differential({ engine, setup: deleteSetup, args: ['-a', '--delete', '--backup', '--backup-dir=../bak', '--suffix=.old', 'src/', 'dst/'], volatileDirsUnder: ['bak'] });
  });

  it('--backup-dir without --backup (implies it), into a dir inside dst', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '--backup-dir=.versions', 'src/', 'dst/'], volatileDirsUnder: ['dst/.versions'] });
  });

  it('--link-dest=../prev: unchanged files share the previous snapshot\'s inodes, changed ones do not', async () => {
    await differential({
      engine,
      setup: snapshotSetup,
      args: ['-a', '--link-dest=../prev', 'src/', 'dst/'],
      after: ({ A, B }) => {
        for (const [who, r] of [['rsync', A], ['arsync', B]] as const) {
          for (const f of UNCHANGED) expect.soft(ino(path.join(r, 'dst', f)), `${who}: dst/${f} is a hard link to prev/${f}`).toBe(ino(path.join(r, 'prev', f)));
          for (const f of CHANGED.filter((x) => x !== 'new.txt')) expect.soft(ino(path.join(r, 'dst', f)), `${who}: dst/${f} must not share prev's inode`).not.toBe(ino(path.join(r, 'prev', f)));
          expect.soft(fs.readFileSync(path.join(r, 'prev/a.txt'), 'utf8'), `${who}: prev untouched`).toBe('alpha\n');
        }
      },
    });
  });

  it('--link-dest with a relative and an absolute dir, onto an existing partial dst', async () => {
    await differential({
      engine,
      setup: (root) => {
        snapshotSetup(root);
        fs.mkdirSync(path.join(root, 'dst'));
        fs.writeFileSync(path.join(root, 'dst/a.txt'), 'stale\n');
      },
      args: ['-a', '--link-dest=../prev', '--link-dest=../none', 'src/', 'dst/'],
      volatile: ['dst'],
    });
  });

  it('--compare-dest=../prev: only what differs from prev lands in dst', async () => {
    await differential({ engine, setup: snapshotSetup, args: ['-a', '--compare-dest=../prev', 'src/', 'dst/'] });
  });

  // A directory made from its twin (no line: nothing differs from prev's) still moves its parent's time,
  // which rsync sets back at the end; arsync left the destination root at the time of the mkdir.
  it('--compare-dest=../prev onto an existing dst with the source root\'s time: directories made from twins, dst\'s time kept', async () => {
    await differential({
      engine,
      setup: (root) => {
        // Everything in prev already: only the directories are made in dst, nothing else lands there.
        put(root, 'src/top', 'top\n');
        put(root, 'src/sub/deep/x', 'x\n');
        for (const d of ['src/sub/deep', 'src/sub', 'src']) fs.utimesSync(path.join(root, d), 1_700_000_000, 1_700_000_000);
        clone(path.join(root, 'src'), path.join(root, 'prev'));
        fs.mkdirSync(path.join(root, 'dst'));
        fs.utimesSync(path.join(root, 'dst'), 1_700_000_000, 1_700_000_000);
      },
      args: ['-a', '--compare-dest=../prev', 'src/', 'dst/'],
    });
  });

  it('--copy-dest=../prev: unchanged files are copied locally from prev (not linked)', async () => {
    await differential({
      engine,
      setup: snapshotSetup,
      args: ['-a', '--copy-dest=../prev', 'src/', 'dst/'],
      after: ({ B }) => {
        for (const f of UNCHANGED) expect.soft(ino(path.join(B, 'dst', f))).not.toBe(ino(path.join(B, 'prev', f)));
      },
    });
  });

  it('--remove-source-files removes transferred (and already up-to-date) files, never dirs', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '--remove-source-files', 'src/', 'dst/'], sourceChanges: true, volatileDirsUnder: ['src'] });
  });

  it('--remove-source-files on a fresh copy with -n removes nothing', async () => {
    await differential({ engine, setup: freshSetup, args: ['-an', '--remove-source-files', 'src/', 'dst/'], unchanged: ['.'] });
  });
});
