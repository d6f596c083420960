// What the differential fuzzer (diff-fuzz.test.ts) found, each as a small case of its own against rsync 3.5:
//  - a directory made from an alternate directory's twin under -O (or -b, which implies it) or without -t:
//    rsync judges the twin's time under -t even with -O, and itemizes any local change with `t` where
//    directory times are not kept (`T` without -t, for a file's twin too);
//  - -H with --remove-source-files: members removed from the source before the walk met the group's
//    last member left it with one link, so it was sent as a file of its own instead of linked;
//  - -H where a member's name holds a directory on the destination: for the group's first name rsync
//    deletes it and makes the link as new (`hf+++++++++`, counted as created), arsync itemized it
//    against the directory; a later name is itemized against what was there (a symlink: `hf.stp.....`);
//  - -m under -d without -r: a directory below the operand is listed without its entries, so rsync's
//    list holds it empty and prunes it (a named directory operand too, unless protected);
//  - --remove-source-files with --delete-after or --delete-delay: the deletion pass walked the source
//    again after the transfer had removed the files from it, and deleted their new copies from the
//    destination: the files were lost on both sides;
//  - -H --compare-dest where the destination holds a group linked and current and the twin matches: rsync
//    removes every member (each matches its twin), arsync kept the members after the leader;
//  - --delete-after into a destination the run makes, after an I/O error: rsync's pass goes into it and
//    says "IO error encountered -- skipping file deletion"; arsync skipped the pass silently;
//  - a symlink, FIFO or device whose destination name holds another entry (a directory, a file, a link
//    with another target) and whose twin in a --*-dest directory matches: rsync makes it anew
//    (`cL+++++++++`), arsync linked or copied the twin silently;
//  - --remove-source-files with a --link-dest or --compare-dest twin of a symlink or FIFO: rsync's
//    generator leaves such a source entry (only a file its twin settles is reported done), arsync
//    removed it;
//  - -I with --size-only: rsync's quick check takes --size-only first (a file of the same size is
//    current), arsync sent every file (also as a pull);
//  - --append with a --*-dest twin of another size for a file the destination lacks: rsync zeroes the
//    file's start, arsync writes the source's bytes, locally and (since this) in a pull, which kept the
//    twin's start;
//  - --delay-updates where the destination has a directory at a file's name: rsync deletes it before
//    the transfer (empty, or with --delete/--force), arsync left it and failed the final rename (exit 23,
//    the file left in .~tmp~);
//  - a pull with -m where a directory holds only files the destination has current: the pull does not
//    stage them, and -m's look below the directory saw it empty and pruned it, so --chmod's change to
//    those files was never made;
//  - -b with --link-dest over a current destination: rsync replaces each current file by a link to its
//    exact twin without a backup; arsync backed each one up. A file with other data is still backed up
//    by arsync (rsync loses it: docs/options.md, --link-dest), which the last case here holds;
//  - --safe-links without -l: rsync's generator judges only the links it makes, so an unsafe link is
//    skipped as any other ("skipping non-regular file"); arsync passed it by without a line;
//  - -d (without -r) making a directory from a --*-dest twin whose time differs: rsync itemizes it as a
//    local change (`cd..t......`), arsync printed `.d..t......` (a directory made but not entered);
//  - --remove-source-files with -L: rsync's sender re-stats a followed link and removes the link;
//    arsync kept it (its identity check saw the link, not the file it leads to). Under
//    --copy-unsafe-links rsync's re-lstat finds the link changed: kept with an error, exit 23;
//  - below a directory --existing passes by (or one whose mkdir failed), rsync's sender still lists the
//    source through the links it follows: one leading nowhere is its error (exit 23), one leading to a
//    file or directory counts as that in --stats; arsync listed the links as links;
//  - -H where the group's leader is sent (the destination's file differs) and a member the destination
//    lacks has a --*-dest twin: rsync links the member once the leader is received, as new
//    (`hf+++++++++`, counted as created) whatever the twin; arsync printed a blank line for a twin that
//    matched and left a member with a twin out of "Number of created files" even when it printed `+++`;
//  - --inplace with -b: rsync backs a file up by a copy and writes into the file itself (its inode, and
//    with it its mode without -p and its other names, stay); arsync moved the file to its backup name and
//    wrote a new one (a new inode, a new file's mode: `--no-p` gave 755 where rsync kept 644).
// Session 40 (helper rmsrc):
//  - --remove-source-files where one source file is listed under two names (a directory link -k or -L
//    follows, a link -L follows to a file of the tree, operands that overlap): rsync's sender reads every
//    file before its receiver confirms any, so the second name's removal finds the file gone and says
//    "sender file already removed: NAME" (exit 0, a followed link to it stays); arsync was silent, and on
//    the sync and node engines removed the file before the other name's op read it (exit 24, lost copy).
// Session 40 (seed 23):
//  - --delete-before after an I/O error: rsync's pass says "IO error encountered -- skipping file
//    deletion" when it meets the first directory of the list the destination has; with none (`src` into
//    a destination without `src`) it says nothing. arsync said it whenever the gate was closed.
//  - -R with an operand that names a link to a directory with a trailing slash (`src/./dl/`): rsync's
//    sender follows it (a name that is not a plain one is stat'ed through), arsync copied the link.
// Session 41 (seed 28 case 39):
//  - --ignore-existing with a dangling symlink where the source has a directory: rsync's generator stats
//    the names below through the link and finds nothing (ENOENT, not ENOTDIR): a file is sent as new
//    (`>f+++++++++`, created, transferred) and its receiver fails to make the temp file; symlinks,
//    specials and subdirectories fail with ENOENT. arsync said "failed to stat ... Not a directory" for
//    each file. Under -n rsync makes nothing, so all that would be made below (links, specials,
//    subdirectories and everything in them) is itemized as new; arsync failed them as in a real run.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { clone, differential, put, stampTree, touchNs } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** src with directories and files; prev a copy whose `d1` has another time, `d2` another mode, and `f` another mode. */
function twins(root: string): void {
  const src = path.join(root, 'src');
  for (const d of ['d1', 'd2', 'd3']) put(src, `${d}/x`, `${d}\n`, 0o644);
  put(src, 'f', 'file\n', 0o644);
  stampTree(src);
  clone(src, path.join(root, 'prev'));
  const prev = path.join(root, 'prev');
  touchNs([[path.join(prev, 'd1'), '1500000000.0']]);
  fs.chmodSync(path.join(prev, 'd2'), 0o700);
  fs.chmodSync(path.join(prev, 'f'), 0o600);
}

/** A group of three names for one inode: the destination has two of them linked and current, the third (walked last) stale. */
function staleMember(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a', 'the group\n', 0o644);
  fs.mkdirSync(path.join(src, 'sub'));
  fs.linkSync(path.join(src, 'a'), path.join(src, 'b'));
  fs.linkSync(path.join(src, 'a'), path.join(src, 'sub/z'));
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  const z = path.join(root, 'dst/sub/z');
  fs.unlinkSync(z);
  put(root, 'dst/sub/z', 'another, longer file\n', 0o644);
  touchNs([[z, '1600000000.0']]);
}

/** A group of two names, the destination holding the second and an empty directory at the first's name. */
function dirInTheWay(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'deep/a', '', 0o4755);
  fs.linkSync(path.join(src, 'deep/a'), path.join(src, 'deep/z'));
  put(src, 'deep/e/x', 'x\n', 0o444);
  put(src, 'g1', 'second group\n', 0o755);
  fs.linkSync(path.join(src, 'g1'), path.join(src, 'g2'));
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  fs.unlinkSync(path.join(root, 'dst/deep/a'));
  fs.mkdirSync(path.join(root, 'dst/deep/a'));
  touchNs([[path.join(root, 'dst/deep/a'), '1400000000.25']]);
  // A later member's name holding a symlink: rsync itemizes the link against it (hf.stp.....).
  fs.unlinkSync(path.join(root, 'dst/g2'));
  fs.symlinkSync('a', path.join(root, 'dst/g2'));
}

/** Directories with files inside, below the operand and named as operands; one protected by name. */
function prunable(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'top', 'top\n');
  put(src, 'full/f', 'f\n');
  put(src, 'full/deeper/g', 'g\n');
  fs.mkdirSync(path.join(src, 'empty'));
  put(src, 'keep/h', 'h\n');
  stampTree(src);
  put(root, 'dst/old/x', 'old\n');
}

/** Files new and changed in subdirectories, and one extraneous file on the destination. */
function movedAway(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'top', 'top\n');
  put(src, 'sub/new', 'new\n');
  put(src, 'sub/changed', 'changed, longer now\n');
  put(src, 'sub/same', 'same\n');
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  fs.unlinkSync(path.join(root, 'dst/sub/new'));
  put(root, 'dst/sub/changed', 'old\n');
  put(root, 'dst/extra', 'extraneous\n');
}

/** A group of two names, linked and current on the destination, and an exact twin of it in prev. */
function comparedGroup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a', 'grouped\n');
  fs.linkSync(path.join(src, 'a'), path.join(src, 'b'));
  put(src, 'c', 'alone\n');
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  clone(src, path.join(root, 'prev'));
}

/** A destination current with the source, and prev an exact copy of it (other inodes). */
function linkedOver(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a', 'a\n', 0o644);
  put(src, 'sub/b', 'b\n', 0o600);
  put(src, 'big', 'x'.repeat(70_000), 0o644);
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  clone(src, path.join(root, 'prev'));
}

/** Links and a FIFO whose names hold other entries on the destination, each with an exact twin in prev. */
function retypedTwins(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'f', 'file\n', 0o644);
  for (const l of ['overdir', 'overfile', 'overlink', 'new']) fs.symlinkSync('f', path.join(src, l));
  for (const p of ['fifo', 'fifo2']) execFileSync('mkfifo', [path.join(src, p)]);
  stampTree(src);
  clone(src, path.join(root, 'prev'));
  clone(src, path.join(root, 'dst'));
  const dst = path.join(root, 'dst');
  for (const n of ['overdir', 'overfile', 'overlink', 'new', 'fifo', 'fifo2']) fs.rmSync(path.join(dst, n));
  fs.mkdirSync(path.join(dst, 'overdir'));
  put(dst, 'overfile', 'a file\n', 0o644);
  fs.symlinkSync('elsewhere', path.join(dst, 'overlink'));
  fs.mkdirSync(path.join(dst, 'fifo'));
  stampTree(dst);
}

/** Files, symlinks and a FIFO, each with an exact twin in prev; the destination empty. */
function twinsToMove(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'f', 'file\n', 0o644);
  put(src, 'sub/g', 'g\n', 0o600);
  fs.symlinkSync('f', path.join(src, 'l'));
  fs.symlinkSync('../f', path.join(src, 'sub/l2'));
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  stampTree(src);
  clone(src, path.join(root, 'prev'));
}

/** A destination whose files have other data of the same size, and one of another size. */
function sameSizes(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a', 'aaaa\n', 0o644);
  put(src, 'sub/b', 'bbbb\n', 0o644);
  put(src, 'c', 'cccccc\n', 0o644);
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  put(root, 'dst/a', 'AAAA\n', 0o644);
  put(root, 'dst/c', 'C\n', 0o644);
  touchNs([[path.join(root, 'dst/a'), '1500000000.0'], [path.join(root, 'dst/c'), '1500000000.0']]);
}

/** A source file whose only twin in prev is shorter and other data; the destination empty. */
function shortTwin(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'sub/f', 'the whole file, longer than its twin\n'.repeat(100), 0o644);
  stampTree(src);
  clone(src, path.join(root, 'prev'));
  put(root, 'prev/sub/f', 'another start\n'.repeat(10), 0o644);
}

/** Files whose names hold directories on the destination: one empty, one with a file in it. */
function dirsInTheWay(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'empty', 'was an empty directory\n', 0o644);
  put(src, 'full', 'was a directory with a file\n', 0o644);
  put(src, 'sub/x', 'x\n', 0o644);
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  for (const n of ['empty', 'full']) fs.rmSync(path.join(root, 'dst', n));
  fs.mkdirSync(path.join(root, 'dst/empty'));
  put(root, 'dst/full/inner', 'inner\n', 0o644);
  stampTree(path.join(root, 'dst'));
}

/** A destination current with the source; its only files in directories below the top. */
function currentBelow(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'deep/b', 'b\n'.repeat(1000), 0o644);
  put(src, 'deep/er/c', 'c\n', 0o644);
  fs.mkdirSync(path.join(src, 'empty'));
  stampTree(src);
  clone(src, path.join(root, 'dst'));
}

/** A source with a dangling symlink (an I/O error under -L). */
function danglingUnderL(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a', 'a\n');
  put(src, 'sub/b', 'b\n');
  fs.symlinkSync('nowhere', path.join(src, 'sub/bad'));
  stampTree(src);
}

/** danglingUnderL's source, and a destination holding `have` (directories). */
function danglingWithDest(root: string, have: string[]): void {
  danglingUnderL(root);
  for (const d of have) fs.mkdirSync(path.join(root, 'dst', d), { recursive: true });
  touchNs(have.map((d) => [path.join(root, 'dst', d), '1500000000.5']));
}

/** Links of each kind: absolute, leading out of the tree, safe, and one to a directory (for -k). */
function unsafeLinks(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'f', 'f\n');
  put(src, 'sub/g', 'g\n');
  fs.symlinkSync('/dev/null', path.join(src, 'abs'));
  fs.symlinkSync('../../outside', path.join(src, 'sub/out'));
  fs.symlinkSync('g', path.join(src, 'sub/safe'));
  fs.symlinkSync('sub', path.join(src, 'dirlink'));
  stampTree(src);
}

/** A directory with a twin in prev/ of another time. */
function twinDirOtherTime(root: string): void {
  put(root, 'src/e/f', 'f\n');
  put(root, 'src/top', 't\n');
  put(root, 'prev/e/f', 'f\n');
  stampTree(path.join(root, 'src'));
  fs.utimesSync(path.join(root, 'prev/e'), 1_600_000_000, 1_600_000_000);
}

/** Links the transfer follows (-L, --copy-unsafe-links) to a file outside, a device, a file inside. */
function followedLinks(root: string, current: boolean): void {
  const src = path.join(root, 'src');
  put(root, 'outside', 'out\n');
  put(src, 'f', 'f\n');
  put(src, 'sub/g', 'g\n');
  fs.symlinkSync('../outside', path.join(src, 'lnk'));
  fs.symlinkSync('/dev/null', path.join(src, 'dev'));
  fs.symlinkSync('../../outside', path.join(src, 'sub/o2'));
  stampTree(src);
  if (!current) return;
  // The destination already holds the files the links lead to (so no op sends them).
  put(root, 'dst/lnk', 'out\n');
  put(root, 'dst/sub/o2', 'out\n');
  for (const n of ['dst/lnk', 'dst/sub/o2']) {
    const t = fs.statSync(path.join(root, 'outside'));
    fs.utimesSync(path.join(root, n), t.atime, t.mtime);
  }
}

/** A directory reached again through links to it, before (`dl`) and after (`zl`) it in the list. */
function dirLinkedTwice(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'real/f', 'f\n');
  put(src, 'real/sub/g', 'g\n');
  put(src, 'top', 't\n');
  fs.symlinkSync('real', path.join(src, 'dl'));
  fs.symlinkSync('real', path.join(src, 'zl'));
  stampTree(src);
}

/**
 * Links to files of the tree: after (`b`) and before (`l`, `aq`) them in the list. (Not a link in a
 * subdirectory to `aq`: rsync's sender may have removed `aq` by the time it reads that directory's list,
 * and then says the link vanished, or not, as the race goes.)
 */
function fileLinkedTwice(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a', 'a\n');
  put(src, 'z', 'z\n');
  put(src, 'sub/q', 'q\n');
  fs.symlinkSync('a', path.join(src, 'b'));
  fs.symlinkSync('z', path.join(src, 'l'));
  fs.symlinkSync('sub/q', path.join(src, 'aq'));
  stampTree(src);
}

/** Links to follow below a directory the destination lacks: nowhere, a file, a directory. */
function linksBelowNew(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'top', 't\n');
  put(src, 'sub/f', 'f\n');
  put(root, 'outside/big', 'b'.repeat(5000));
  fs.symlinkSync('../../nowhere', path.join(src, 'sub/gone'));
  fs.symlinkSync('../../outside/big', path.join(src, 'sub/big'));
  fs.symlinkSync('../../outside', path.join(src, 'sub/dir'));
  fs.symlinkSync('f', path.join(src, 'sub/safe'));
  stampTree(src);
  put(root, 'dst/top', 'old\n');
}

/**
 * Source directories where the destination keeps a non-directory (--ignore-existing): a symlink leading
 * nowhere (`gone`), a regular file (`file`), a symlink to a file (`tofile`); below each a file, a
 * symlink, a fifo and a subdirectory with a file and a directory inside.
 */
function keptNonDirs(root: string): void {
  const src = path.join(root, 'src');
  for (const d of ['gone', 'file', 'tofile']) {
    put(src, `${d}/b`, 'hi\n');
    put(src, `${d}/sub/c`, 'yo\n');
    fs.mkdirSync(path.join(src, d, 'sub/x'));
    fs.symlinkSync('b', path.join(src, d, 'l'));
    execFileSync('mkfifo', [path.join(src, d, 'f')]);
  }
  put(src, 'top', 't\n');
  stampTree(src);
  put(root, 'dst/plain', 'p\n');
  fs.symlinkSync('nowhere', path.join(root, 'dst/gone'));
  put(root, 'dst/file', 'f\n');
  fs.symlinkSync('plain', path.join(root, 'dst/tofile'));
}

/** A pair of links whose leader the destination holds with other data; the twins in prev/ as given. */
function sentLeader(root: string, twinTime: number): void {
  put(root, 'src/x', 'data\n'.repeat(100));
  fs.mkdirSync(path.join(root, 'src/sub'));
  fs.linkSync(path.join(root, 'src/x'), path.join(root, 'src/sub/y'));
  stampTree(path.join(root, 'src'));
  put(root, 'prev/x', 'data\n'.repeat(100));
  fs.mkdirSync(path.join(root, 'prev/sub'));
  fs.linkSync(path.join(root, 'prev/x'), path.join(root, 'prev/sub/y'));
  const t = fs.statSync(path.join(root, 'src/x')).mtime.getTime() / 1000 + twinTime;
  fs.utimesSync(path.join(root, 'prev/x'), t, t);
  put(root, 'dst/x', 'other and longer data\n');
}

/** Destination files with other data: one of another mode, one with a second name. */
function inplaceBackups(root: string): void {
  put(root, 'src/x', 'new data\n'.repeat(50), 0o4755);
  put(root, 'src/y', 'y new\n', 0o644);
  stampTree(path.join(root, 'src'));
  put(root, 'dst/x', 'old\n', 0o640);
  put(root, 'dst/y', 'y old data\n', 0o600);
  fs.linkSync(path.join(root, 'dst/y'), path.join(root, 'dst/y-other-name'));
  touchNs([[path.join(root, 'dst/x'), '1500000000.5'], [path.join(root, 'dst/y'), '1500000000.5']]);
}

describeEngines((e) => {
  it('--delete-after into a new destination after an I/O error: rsync\'s line, exit 23', async () => {
    for (const opts of [['-rlt', '-L', '--delete-after'], ['-rlt', '-L', '--delete-after', '-n'], ['-rlt', '-L', '--delete-after', '--ignore-errors'], ['-rlt', '-L', '--delete-before']]) {
      await differential({ engine: e.name, setup: danglingUnderL, args: [...opts, 'src/', 'dst/'] });
    }
  });

  it('--delete-before after an I/O error: rsync\'s line only where the pass meets a directory the destination has', async () => {
    for (const [have, operand] of [[[], 'src'], [['other'], 'src'], [['src'], 'src'], [['other'], 'src/'], [['src/sub'], 'src'], [['other'], 'src/sub']] as const) {
      for (const opts of [['-rlt', '-L'], ['-rlt', '-L', '-n'], ['-rlt', '-L', '-vv']]) {
        await differential({ engine: e.name, setup: (r) => danglingWithDest(r, [...have]), args: [...opts, '--delete-before', operand, 'dst/'], volatile: ['dst'] });
      }
    }
  });

  it('-R with a trailing slash on a link to a directory: followed, as rsync\'s sender stats such a name', async () => {
    const setup = (r: string): void => {
      put(r, 'src/real/f', 'f\n');
      put(r, 'src/real/sub/g', 'g\n');
      fs.symlinkSync('real', path.join(r, 'src/dl'));
      stampTree(path.join(r, 'src'));
    };
    for (const operand of ['src/./dl/', 'src/dl/', 'src/./dl/.', 'src/./dl']) {
      for (const opts of [['-aR'], ['-aR', '-n'], ['-aR', '--delete']]) {
        await differential({ engine: e.name, setup, args: [...opts, operand, 'dst/'], volatile: ['dst'] });
      }
    }
  });

  it('-H --compare-dest over a current, linked group with an exact twin: every member removed, as rsync', async () => {
    for (const opts of [['-aH'], ['-aH', '--delete'], ['-aH', '-n']]) {
      await differential({ engine: e.name, setup: comparedGroup, args: [...opts, '--compare-dest=../prev', 'src/', 'dst/'], unchanged: ['src', 'prev'] });
    }
  });

  it('--remove-source-files with deletions after the transfer: what was moved stays on the destination', async () => {
    for (const opts of [['-a', '--delete-after'], ['-a', '--delete-delay'], ['-a', '-m', '--delete-delay'], ['-aH', '--delete-after']]) {
      for (const remove of ['--remove-source-files', '--remove-sent-files']) {
        await differential({ engine: e.name, setup: movedAway, args: [...opts, remove, 'src/', 'dst/'], sourceChanges: true, unchanged: [], volatileDirsUnder: ['src'] });
      }
    }
  });

  it('-H over a directory or symlink at a member\'s name: itemized and counted as rsync does', async () => {
    for (const opts of [['-aH', '--stats'], ['-rltpH'], ['-aH', '--delete']]) {
      await differential({ engine: e.name, setup: dirInTheWay, args: [...opts, 'src/', 'dst/'] });
    }
  });

  it('-m under -d without -r: directories whose entries are not listed are pruned, as rsync prunes them', async () => {
    const cases = [['src/'], ['src/full'], ['src/full/'], ['src/full', 'src/keep', 'src/top'], ['src/full/.']];
    for (const operands of cases) {
      for (const opts of [['-dlt', '-m'], ['-dlt', '-m', '--delete'], ['-dlt', '-m', '--filter=P keep/'], ['-dltR', '-m']]) {
        // A destination made by the run for named operands takes the clock's time in both.
        await differential({ engine: e.name, setup: prunable, args: [...opts, ...operands, 'dst/'], volatile: ['dst'] });
      }
    }
  });

  it('-O, -b and no -t over --link-dest/--copy-dest/--compare-dest twins: the same lines and tree as rsync', async () => {
    for (const alt of ['--link-dest=../prev', '--copy-dest=../prev', '--compare-dest=../prev']) {
      for (const opts of [['-a', '-O'], ['-a', '-b'], ['-a', '--no-t'], ['-aH', '--no-t'], ['-a', '-O', '--no-p'], ['-a', '-O', '-n']]) {
        // -O and -b leave the directories' times to the clock (rsync's implied -O for -b), in both runs;
        // --no-t every time.
        const files = opts.includes('--no-t') ? ['dst/f', 'dst/d1/x', 'dst/d2/x', 'dst/d3/x'] : [];
        await differential({ engine: e.name, setup: twins, args: [...opts, alt, 'src/', 'dst/'], volatile: files, volatileDirsUnder: ['dst'] });
      }
    }
  });

  it('a link or FIFO over another entry with a --*-dest twin: made anew, as rsync', async () => {
    for (const alt of ['--link-dest=../prev', '--copy-dest=../prev', '--compare-dest=../prev']) {
      for (const opts of [['-a'], ['-aH', '--delete-after'], ['-a', '-n']]) {
        await differential({ engine: e.name, setup: retypedTwins, args: [...opts, alt, 'src/', 'dst/'] });
      }
    }
  });

  it('--remove-source-files over --*-dest twins: a symlink or FIFO a twin settles stays in the source, as rsync', async () => {
    for (const alt of ['--link-dest=../prev', '--compare-dest=../prev', '--copy-dest=../prev']) {
      for (const opts of [['-a', '--remove-source-files'], ['-a', '--remove-sent-files'], ['-aH', '--remove-source-files', '--delete-after']]) {
        await differential({ engine: e.name, setup: twinsToMove, args: [...opts, alt, 'src/', 'dst/'], sourceChanges: true, unchanged: [], volatileDirsUnder: ['src'] });
      }
    }
  });

  it('-I with --size-only: a file of the same size is current, as rsync (local and pull)', async () => {
    const rsh = fakeRsh(tempDir('arsync-sizeonly-rsh-'));
    for (const opts of [['-rlt', '-I', '--size-only'], ['-a', '--size-only', '-I', '--stats'], ['-a', '-I', '--size-only', '-c']]) {
      await differential({ engine: e.name, setup: sameSizes, args: [...opts, 'src/', 'dst/'] });
      await differential({ engine: e.name, setup: sameSizes, args: [...opts.filter((o) => o !== '--stats'), '-e', rsh, 'localhost:src/', 'dst/'] });
    }
  });

  it('--append with a shorter, different twin for a new file: the source\'s bytes, locally and in a pull', async () => {
    const rsh = fakeRsh(tempDir('arsync-append-twin-rsh-'));
    for (const alt of ['--link-dest=../prev', '--copy-dest=../prev', '--compare-dest=../prev']) {
      for (const pull of [false, true]) {
        const root = tempDir('arsync-append-twin-');
        shortTwin(root);
        const from = pull ? ['-e', rsh, `localhost:${root}/src/`] : ['src/'];
        const r = await runCli([`--engine=${e.name}`, '-ai', '--append', alt, ...from, 'dst/'], { cwd: root });
        expect(r.code, show(r)).toBe(0);
        // (rsync itemizes it against the twin, `>f.st......`, and so does arsync.)
        expect(r.stdout, show(r)).toContain('>f.st...... sub/f');
        expect(fs.readFileSync(path.join(root, 'dst/sub/f'))).toEqual(fs.readFileSync(path.join(root, 'src/sub/f')));
      }
    }
  });

  it('--delay-updates over directories at files\' names: deleted first, as rsync', async () => {
    for (const opts of [['-a'], ['-a', '--delete'], ['-a', '--force'], ['-a', '-n'], ['-a', '--existing', '-K']]) {
      await differential({ engine: e.name, setup: dirsInTheWay, args: [...opts, '--delay-updates', 'src/', 'dst/'] });
    }
  });

  it('a pull with -m over a current destination: --chmod reaches the files below, as rsync', async () => {
    const rsh = fakeRsh(tempDir('arsync-prune-pull-rsh-'));
    for (const opts of [['-a', '-m', '--chmod=F600'], ['-aH', '-m', '--chmod=F600', '--delete'], ['-a', '-m', '-n', '--chmod=F600'], ['-a', '-m']]) {
      await differential({ engine: e.name, setup: currentBelow, args: [...opts, '-e', rsh, 'localhost:src/', 'dst/'] });
    }
  });

  it('-b with --link-dest over a current destination: linked to the twins without a backup, as rsync', async () => {
    for (const opts of [['-a', '-b', '--backup-dir=../bk'], ['-a', '-b'], ['-rlt', '-b', '--backup-dir=../bk', '--ignore-errors'], ['-aH', '-b', '--backup-dir=../bk', '-n']]) {
      // -b without --backup-dir implies -O: the directories' times are the clock's in both runs.
      await differential({ engine: e.name, setup: linkedOver, args: [...opts, '--link-dest=../prev', 'src/', 'dst/'], volatileDirsUnder: ['dst'] });
    }
  });

  it('-b with --link-dest over a file with other data: backed up before the link replaces it (rsync loses it)', async () => {
    const root = tempDir('arsync-linkbk-');
    linkedOver(root);
    fs.writeFileSync(path.join(root, 'dst/sub/b'), 'other data\n');
    fs.utimesSync(path.join(root, 'dst/sub/b'), 1_500_000_000, 1_500_000_000);
    const r = await runCli([`--engine=${e.name}`, '-a', '-b', '--backup-dir=../bk', '--link-dest=../prev', 'src/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    expect(fs.readFileSync(path.join(root, 'bk/sub/b'), 'utf8')).toBe('other data\n');
    expect(fs.statSync(path.join(root, 'dst/sub/b')).ino).toBe(fs.statSync(path.join(root, 'prev/sub/b')).ino);
    // The current files are linked without a backup.
    expect(fs.existsSync(path.join(root, 'bk/a'))).toBe(false);
    expect(fs.statSync(path.join(root, 'dst/a')).ino).toBe(fs.statSync(path.join(root, 'prev/a')).ino);
  });

  it('-H --remove-source-files: a member met after the others were removed is still linked to its leader', async () => {
    for (const opts of [['-aH'], ['-aH', '--delete'], ['-aHc']]) {
      await differential({ engine: e.name, setup: staleMember, args: [...opts, '--remove-source-files', 'src/', 'dst/'], sourceChanges: true, unchanged: [], volatileDirsUnder: ['src'] });
    }
  });

  it('--safe-links without -l: every link is a non-regular file skipped with rsync\'s line, locally and in a pull', async () => {
    const rsh = fakeRsh(tempDir('arsync-safelinks-rsh-'));
    for (const opts of [['-rt', '--safe-links'], ['-rt', '--safe-links', '-k'], ['-rtv', '--safe-links'], ['-rt', '--safe-links', '-e', rsh, 'localhost:src/'], ['-rlt', '--safe-links']]) {
      const from = opts.includes('-e') ? [] : ['src/'];
      await differential({ engine: e.name, setup: unsafeLinks, args: [...opts, ...from, 'dst/'] });
    }
  });

  it('-d making a directory from a --*-dest twin of another time: a local change (cd..t......), as rsync', async () => {
    for (const alt of ['--link-dest=../prev', '--compare-dest=../prev', '--copy-dest=../prev']) {
      for (const operands of [['src/'], ['src/e'], ['src/e/']]) {
        // (`src/e`: dst is made by the run and holds e, so its time is the clock's.)
        await differential({ engine: e.name, setup: twinDirOtherTime, args: ['-dlt', alt, ...operands, 'dst/'], volatile: ['dst'] });
      }
    }
  });

  it('--remove-source-files through followed links: -L removes the link, --copy-unsafe-links keeps it with rsync\'s error', async () => {
    for (const current of [false, true]) {
      for (const opts of [['-a', '-L'], ['-a', '--copy-unsafe-links'], ['-rt', '--copy-unsafe-links'], ['-a', '-L', '-n'], ['-rtL']]) {
        for (const remove of ['--remove-source-files', '--remove-sent-files']) {
          await differential({ engine: e.name, setup: (r) => followedLinks(r, current), args: [...opts, remove, 'src/', 'dst/'], sourceChanges: true, unchanged: ['outside'], volatileDirsUnder: ['src'] });
        }
      }
    }
  });

  it('--existing over a directory the destination lacks: the sender lists through followed links, as rsync', async () => {
    for (const opts of [['-rt', '--copy-unsafe-links'], ['-rt', '-L'], ['-rt', '-L', '--stats'], ['-rtk', '--stats'], ['-rt', '--copy-unsafe-links', '--stats', '-v']]) {
      await differential({ engine: e.name, setup: linksBelowNew, args: [...opts, '--existing', 'src/', 'dst/'], unchanged: ['src', 'outside'] });
    }
  });

  it('-H with the leader sent and a member\'s twin in a --*-dest directory: linked as new, counted as created, as rsync', async () => {
    for (const twinTime of [0, 1000]) {
      for (const alt of ['--copy-dest=../prev', '--compare-dest=../prev', '--link-dest=../prev']) {
        await differential({ engine: e.name, setup: (r) => sentLeader(r, twinTime), args: ['-aHii', '--stats', alt, 'src/', 'dst/'], unchanged: ['src', 'prev'] });
      }
    }
  });

  it('--inplace with -b: the backup is a copy and the file written in place (its inode, mode, other names), as rsync', async () => {
    for (const opts of [['-a', '--no-p'], ['-rt'], ['-a'], ['-a', '--no-p', '--suffix=.old'], ['-a', '--no-p', '--backup-dir=bk']]) {
      // (-b without --backup-dir implies -O, and a backup directory is made at the clock's time.)
      const r = await differential({ engine: e.name, setup: inplaceBackups, args: [...opts, '--inplace', '-b', 'src/', 'dst/'], volatileDirsUnder: ['dst'] });
      // The other name of y shares the data written in place, as in rsync's tree (the comparison above).
      expect(fs.statSync(path.join(r.B, 'dst/y')).ino).toBe(fs.statSync(path.join(r.B, 'dst/y-other-name')).ino);
    }
  });

  it('--remove-source-files through a directory link (-k, -L): the second name of a file is "already removed", as rsync', async () => {
    for (const opts of [['-a', '-k'], ['-rtk'], ['-a', '-L'], ['-a', '-kL'], ['-a', '-k', '--info=remove']]) {
      await differential({ engine: e.name, setup: dirLinkedTwice, args: [...opts, '--remove-source-files', 'src/', 'dst/'], sourceChanges: true, unchanged: [], volatileDirsUnder: ['src'] });
    }
    // Operands that overlap list the files below the second under two names too. rsync's own outcome is
    // a race there (its sender reads the second operand's directory as the first confirmations come: exit
    // 24 in about half the runs on this machine), so arsync is held to its other one: every copy made,
    // each second name "already removed", exit 0.
    const root = tempDir('arsync-overlap-remove-');
    dirLinkedTwice(root);
    const r = await runCli([`--engine=${e.name}`, '-a', '--remove-source-files', 'src/', 'src/real/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('sender file already removed: ')).sort()).toEqual(['sender file already removed: real/f', 'sender file already removed: sub/g']);
    for (const f of ['f', 'sub/g', 'top', 'real/f', 'real/sub/g']) expect(fs.readFileSync(path.join(root, 'dst', f), 'utf8'), f).toMatch(/^[fgt]\n$/);
    for (const f of ['real/f', 'real/sub/g', 'top']) expect(fs.existsSync(path.join(root, 'src', f)), f).toBe(false);
    // And --files-from names through the link (the operator's part of a path is followed).
    await differential({
      engine: e.name,
      setup: (r) => {
        dirLinkedTwice(r);
        put(r, 'list', 'dl/f\nreal/f\ntop\n');
      },
      args: ['-a', '--files-from=list', '--remove-source-files', 'src/', 'dst/'],
      sourceChanges: true,
      unchanged: [],
      volatileDirsUnder: ['src'],
      // (The list has no ".": dst, which the run makes, keeps the clock's time.)
      volatile: ['dst'],
    });
  });

  it('-L --remove-source-files with links to files of the tree: every file read before any goes, as rsync', async () => {
    for (const opts of [['-a', '-L'], ['-rtL'], ['-a', '-L', '--info=remove'], ['-a', '-L', '-c']]) {
      await differential({ engine: e.name, setup: fileLinkedTwice, args: [...opts, '--remove-source-files', 'src/', 'dst/'], sourceChanges: true, unchanged: [], volatileDirsUnder: ['src'] });
    }
  });

  it('--ignore-existing over a dangling symlink, a file and a link to a file where the source has directories: rsync\'s errors and items, -n too', async () => {
    // rsync's error lines, its program name and each run's own work root set aside.
    const errors = (out: string, root: string): string[] =>
      out.split('\n').filter((l) => / failed: |Skipping any/.test(l)).map((l) => l.replace(/^a?rsync: /, '').replaceAll(root, 'ROOT')).sort();
    for (const opts of [['-ai'], ['-ai', '--stats'], ['-ain', '--stats'], ['-av'], ['-ai', '--existing'], ['-ai', '--max-size=2'], ['-ain', '--max-size=2']]) {
      // (rsync then sets each directory's time on what stands at its name: README "Differences".)
      const r = await differential({ engine: e.name, setup: keptNonDirs, args: [...opts, '--specials', '--ignore-existing', 'src/', 'dst/'], volatile: ['dst/gone', 'dst/file', 'dst/tofile'] });
      expect(errors(r.arsync.stderr, r.B), opts.join(' ')).toEqual(errors(r.rsync.stderr, r.A));
    }
    // A pull: rsync's receiver is the client, and prints no line for the file it fails to receive. (Not
    // --stats: arsync asks the sender for no data below the link, rsync's receiver for the file's, so the
    // byte figures differ there: docs/options.md "Session 41".)
    const rsh = fakeRsh(tempDir('arsync-kept-nondirs-rsh-'));
    for (const opts of [['-ai'], ['-ain'], ['-ai', '--existing']]) {
      const r = await differential({ engine: e.name, setup: keptNonDirs, args: [...opts, '--specials', '--ignore-existing', '-e', rsh, 'localhost:src/', 'dst/'], volatile: ['dst/gone', 'dst/file', 'dst/tofile'] });
      expect(errors(r.arsync.stderr, r.B), `pull ${opts.join(' ')}`).toEqual(errors(r.rsync.stderr, r.A));
    }
  });
});
