// New directories' modes without -p, against rsync on every engine: a directory the run makes gets the
// source's bits that the destination's default permissions allow (rsync's dest_mode for a new entry),
// even when they lack owner write or search (0555, 0500, 0600), once its entries are written; an existing
// destination directory keeps its own mode, and the run still fills it. The destination root made by
// the run is a new directory too; one --mkpath made is not (rsync compares it as existing). Each case is
// differential (test/helpers/differential.ts): exit code, -i lines, and the trees with their modes.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { differential, expectSameOutput, pairContext, put, runPair, stampTree, startingState } from '../helpers/differential.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';


afterAll(() => removeTemps());

const mode = (p: string): number => fs.lstatSync(p).mode & 0o7777;

/** Directories without some of the owner's bits (made last: their entries are written first), one plain, one empty. */
function tree(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'ro/f', 'f\n', 0o644);
  put(src, 'ro/inner/g', 'g\n', 0o644);
  put(src, 'noexec/h', 'h\n', 0o644);
  put(src, 'plain/k', 'k\n', 0o644);
  fs.mkdirSync(path.join(src, 'ro/empty'));
  stampTree(src);
  fs.chmodSync(path.join(src, 'ro/empty'), 0o555);
  fs.chmodSync(path.join(src, 'ro/inner'), 0o500);
  fs.chmodSync(path.join(src, 'ro'), 0o555);
  fs.chmodSync(path.join(src, 'noexec'), 0o600);
  fs.chmodSync(path.join(src, 'plain'), 0o750);
}

/** The tree already copied once (rsync's modes: 0555 directories in the destination), then changed. */
function copied(root: string): void {
  tree(root);
  const dst = path.join(root, 'dst');
  spawnSync('cp', ['-a', path.join(root, 'src'), dst]);
  for (const d of ['ro/empty', 'ro/inner', 'ro', 'noexec', 'plain', '.']) {
    fs.chmodSync(path.join(dst, d), mode(path.join(root, 'src', d)));
  }
  fs.chmodSync(path.join(dst, 'ro'), 0o755);
  put(dst, 'ro/extra', 'extraneous\n', 0o644);
  fs.chmodSync(path.join(dst, 'ro'), 0o555);
  fs.chmodSync(path.join(root, 'src/ro'), 0o755);
  put(root, 'src/ro/f', 'f changed\n', 0o644);
  put(root, 'src/ro/new', 'new\n', 0o644);
  fs.chmodSync(path.join(root, 'src/ro'), 0o555);
}

describeEngines((e) => {
  const engine = e.name;

  it('without -p, a new directory gets the source\'s bits less the umask (0555, 0500, 0600), as rsync, with -t, --inplace, -n, --delete', async () => {
    for (const args of [['-rt'], ['-rt', '--inplace'], ['-rtn'], ['-rt', '--delete'], ['-rlt', '--chmod=Do-x']]) {
      const r = await differential({ engine, setup: tree, args: [...args, 'src/', 'dst/'], volatile: ['dst'] });
      if (args.includes('-rtn')) continue;
      expect(mode(path.join(r.B, 'dst/ro')), args.join(' ')).toBe(mode(path.join(r.A, 'dst/ro')));
      expect(mode(path.join(r.B, 'dst/ro/inner')), args.join(' ')).toBe(mode(path.join(r.A, 'dst/ro/inner')));
    }
    // The plain case's modes as rsync gives them as root, and as arsync gives them as anyone.
    const r = await differential({ engine, setup: tree, args: ['-rt', 'src/', 'dst/'] });
    if (process.getuid?.() === 0) {
      expect([mode(path.join(r.B, 'dst/ro')), mode(path.join(r.B, 'dst/ro/inner')), mode(path.join(r.B, 'dst/noexec'))]).toEqual([0o555, 0o500, 0o600]);
    }
    expect(fs.readFileSync(path.join(r.B, 'dst/ro/inner/g'), 'utf8')).toBe('g\n');
  });

  it('without -p, the destination root made by the run is a new directory (0555 source), one --mkpath made is not', async () => {
    const ro = (root: string): void => {
      tree(root);
      fs.chmodSync(path.join(root, 'src'), 0o555);
    };
    for (const args of [['-rt', 'src/', 'dst/'], ['-rt', '--mkpath', 'src/', 'a/b/dst/'], ['-rt', 'src/ro/', 'dst/']]) {
      const made = args.includes('--mkpath') ? 'a/b/dst' : 'dst';
      const r = await differential({ engine, setup: ro, args, volatile: [made, 'a', 'a/b'].filter((d) => !d.startsWith('a') || args.includes('--mkpath')) });
      expect(mode(path.join(r.B, made)), args.join(' ')).toBe(mode(path.join(r.A, made)));
    }
  });

  it('without -p, an existing 0555 destination directory keeps its mode and is still filled (a changed file, a new one, --delete)', async () => {
    for (const args of [['-rt'], ['-rt', '--delete'], ['-rt', '--inplace']]) {
      const r = await differential({ engine, setup: copied, args: [...args, 'src/', 'dst/'] });
      expect(mode(path.join(r.B, 'dst/ro')), args.join(' ')).toBe(0o555);
      expect(fs.readFileSync(path.join(r.B, 'dst/ro/f'), 'utf8')).toBe('f changed\n');
    }
  });

  // Not as root, rsync makes a directory owner-writable while it fills it and gives the mode back only when
  // that mode lacks owner write (0600 stays 0700); an existing 0555 one is opened up and closed again.
  it.skipIf(process.getuid?.() !== 0)('as a user (not root): new and existing 0555 directories, an unreadable file (exit 23), as rsync', async () => {
    const state = startingState(`arsync-dir-modes-${engine}-`, (root) => {
      copied(root);
      // A source directory the user cannot search fails otherwise in rsync (opendir) than here (each entry).
      fs.chmodSync(path.join(root, 'src/noexec'), 0o700);
      put(root, 'src/plain/secret', 'secret\n', 0o000);
      fs.rmSync(path.join(root, 'dst/noexec'), { recursive: true });
      // One time everywhere: only sizes and modes differ (rsync here compares whole seconds, arsync ns).
      spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} + && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}'`]);
    });
    fs.chmodSync(state.base, 0o755);
    const cases = [['-rt', 'src/', 'dst/'], ['-rt', '--delete', 'src/', 'new/']];
    for (const [i, args] of cases.entries()) {
      const r = await runPair(state, i, {
        rsync: (A) => rsyncAs(NOBODY, args, A),
        // No -i here: the lines of a file that cannot be opened are test/e2e/unopenable-lines.test.ts's.
        arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, user: NOBODY }),
      });
      expectSameOutput(r);
      expect(r.arsync.code, pairContext(r)).toBe(23);
      // The work root and a destination made by the run get the time of the run.
      for (const root of [r.A, r.B]) for (const d of ['.', args[args.length - 1]!]) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), pairContext(r)).toEqual([]);
    }
  });
});
