// A directory's set-group-ID bit under -p, against rsync on every engine: rsync's generator sets a
// directory's mode when it visits it, before it makes anything inside (its times wait for the end), and
// what is made inside a set-gid directory takes the directory's group (a new subdirectory the bit too).
// So a set-gid destination root whose source is not set-gid is no longer set-gid when its entries are
// made (they get the process's group, not the root's), and a set-gid source directory over an existing
// destination directory of another group without the bit gives what is made inside that group. The
// trees are compared with their modes and owners (gid included), as root and as a user (not root: a
// destination of a group the user is not in), and -n changes nothing; --fake-super receiving keeps no
// set-gid bit on disk from the visit on.

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

const isRoot = process.getuid?.() === 0;
/** A group neither root's runs nor the user's (NOBODY: 65534) are in. */
const OTHER = 4242;
const gidOf = (p: string): number => fs.lstatSync(p).gid;
const modeOf = (p: string): number => fs.lstatSync(p).mode & 0o7777;

/** The source: plain 0755 directories, a file at the top, in d and in d/sub. */
function source(root: string, dMode = 0o755): void {
  const src = path.join(root, 'src');
  put(src, 'top', 'top\n', 0o644);
  put(src, 'd/f', 'f\n', 0o644);
  put(src, 'd/sub/g', 'g\n', 0o644);
  stampTree(src);
  for (const d of ['.', 'd/sub']) fs.chmodSync(path.join(src, d), 0o755);
  fs.chmodSync(path.join(src, 'd'), dMode);
}

/** A set-gid destination root of another group (2775) over a source root without the bit. */
function setgidRoot(gid: number) {
  return (root: string): void => {
    source(root);
    const dst = path.join(root, 'dst');
    fs.mkdirSync(dst);
    fs.chownSync(dst, 0, gid);
    fs.chmodSync(dst, 0o2775);
    fs.utimesSync(dst, 1_600_000_000, 1_600_000_000);
  };
}

/** A set-gid source directory d (2755) over an existing destination d of another group without the bit. */
function setgidSub(gid: number) {
  return (root: string): void => {
    source(root, 0o2755);
    const d = path.join(root, 'dst/d');
    put(root, 'dst/d/old', 'old\n', 0o644);
    fs.chownSync(d, 0, gid);
    fs.chmodSync(d, 0o755);
    fs.utimesSync(d, 1_600_000_000, 1_600_000_000);
    fs.utimesSync(path.join(root, 'dst'), 1_600_000_000, 1_600_000_000);
  };
}

const ARGS = [['-rlpt'], ['-a', '--no-g'], ['-rlpt', '-n'], ['-rlt']];

describeEngines((e) => {
  const engine = e.name;

  it.skipIf(!isRoot)('a set-gid destination root is made not set-gid before its entries are made (--no-g: they get the process\'s group), as rsync', async () => {
    for (const args of [...ARGS, ['-rlpt', '--chmod=Dg-s']]) {
      // --chmod: the source root set-gid too, the option taking the bit away.
      const setup = args.includes('--chmod=Dg-s')
        ? (root: string): void => {
            setgidRoot(OTHER)(root);
            fs.chmodSync(path.join(root, 'src'), 0o2755);
          }
        : setgidRoot(OTHER);
      const r = await differential({ engine, setup, args: [...args, 'src/', 'dst/'] });
      const what = args.join(' ');
      if (args.includes('-n') || !args.some((a) => a === '-rlpt' || a === '-a')) continue;
      // What rsync gives (the trees are compared above): the root's bit gone, d and its file the run's group.
      expect(modeOf(path.join(r.B, 'dst')), what).toBe(0o755);
      expect([gidOf(path.join(r.B, 'dst/d')), gidOf(path.join(r.B, 'dst/d/f')), gidOf(path.join(r.B, 'dst/top'))], what).toEqual([0, 0, 0]);
    }
  });

  it.skipIf(!isRoot)('a set-gid source directory over an existing one of another group without the bit: what is made inside takes its group, as rsync', async () => {
    for (const args of [...ARGS, ['-rlpt', '--chmod=Dg+s']]) {
      const setup = args.includes('--chmod=Dg+s')
        ? (root: string): void => {
            setgidSub(OTHER)(root);
            fs.chmodSync(path.join(root, 'src/d'), 0o755);
          }
        : setgidSub(OTHER);
      const r = await differential({ engine, setup, args: [...args, 'src/', 'dst/'] });
      const what = args.join(' ');
      if (args.includes('-n') || !args.some((a) => a === '-rlpt' || a === '-a')) continue;
      expect(modeOf(path.join(r.B, 'dst/d')), what).toBe(0o2755);
      // The new file and subdirectory inherit d's group; the subdirectory's inherited bit goes at its own
      // visit (its source is 0755), so its file is the run's group; --chmod=Dg+s keeps it there too.
      const chmod = args.includes('--chmod=Dg+s');
      expect([gidOf(path.join(r.B, 'dst/d/f')), gidOf(path.join(r.B, 'dst/d/sub')), gidOf(path.join(r.B, 'dst/d/sub/g'))], what).toEqual([OTHER, OTHER, chmod ? OTHER : 0]);
      expect(modeOf(path.join(r.B, 'dst/d/sub')), what).toBe(chmod ? 0o2755 : 0o755);
    }
  });

  // --fake-super receiving: rsync keeps a directory's set-id bits (and the owners -a preserves) in its
  // xattr and gives the disk only the access bits when it visits the directory, so the root's bit goes
  // before its entries are made, which keep the process's group on disk. (-a: without -o/-g rsync 3.5
  // records ids in the xattr that are not the entry's, a difference of its own.) The node engine refuses
  // the option (test/e2e/fake-super.test.ts).
  it.skipIf(!isRoot || engine === 'node')('--fake-super: the disk\'s set-gid bit goes at the visit, as rsync', async () => {
    for (const setup of [setgidRoot(OTHER), setgidSub(OTHER)]) {
      const r = await differential({ engine, setup, args: ['-a', '--fake-super', 'src/', 'dst/'] });
      expect(modeOf(path.join(r.B, 'dst')) & 0o2000).toBe(0);
      expect(gidOf(path.join(r.B, 'dst/d/sub/g'))).toBe(0);
    }
  });

  // Not root: the user owns the destination but is not in its group; the kernel drops a set-gid bit the
  // user asks for on such a directory, for rsync and arsync alike.
  it.skipIf(!isRoot)('as a user (not root): set-gid destination root and set-gid source directory, as rsync', async () => {
    for (const [name, setup] of [['root', setgidRoot(OTHER)], ['sub', setgidSub(OTHER)]] as const) {
      const state = startingState(`arsync-setgid-${name}-${engine}-`, (root) => {
        setup(root);
        // The user's own trees, the destination's groups kept (chown by root), their bits put back (chown clears them).
        const keep = ['dst', 'dst/d', 'src/d'].map((d) => path.join(root, d)).filter((p) => fs.existsSync(p)).map((p) => [p, fs.lstatSync(p).mode & 0o7777] as const);
        spawnSync('chown', ['-R', `${NOBODY.uid}`, root]);
        spawnSync('chown', ['-R', `:${NOBODY.gid}`, path.join(root, 'src')]);
        for (const [p, mode] of keep) fs.chmodSync(p, mode);
      });
      fs.chmodSync(state.base, 0o755);
      for (const [i, args] of [['-rlpt', 'src/', 'dst/'], ['-rlpt', '-n', 'src/', 'dst/']].entries()) {
        const r = await runPair(state, i, {
          rsync: (A) => rsyncAs(NOBODY, ['-i', ...args], A),
          arsync: (B) => runCli([`--engine=${engine}`, '-i', ...args], { cwd: B, user: NOBODY }),
        });
        expectSameOutput(r);
        for (const root of [r.A, r.B]) fs.utimesSync(root, 1_600_000_000, 1_600_000_000);
        expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), pairContext(r)).toEqual([]);
        if (name === 'root' && !args.includes('-n')) expect(gidOf(path.join(r.B, 'dst/d/f')), pairContext(r)).toBe(NOBODY.gid);
      }
    }
  });
});
