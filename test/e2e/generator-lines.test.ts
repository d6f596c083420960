// Lines of rsync's generator (the receiving side) that are not an entry's -v name, against rsync 3.5 on
// clones, line for line: which one an entry gets, and where it comes.
//  - --ignore-existing and --existing leave a non-directory alone before its type counts: a FIFO or a
//    symlink it would not make, or an unsafe link --safe-links would ignore, gets "X exists" / "not
//    creating new file" (-vv) rather than "skipping non-regular file" / "ignoring unsafe symlink".
//  - At -v (as at -vv) those lines are messages that reach stdout at once, while the names the sender
//    prints wait behind the generator's data buffer: on these small trees they come after every message
//    of the pass (src/run/line-order.ts). Only trees where rsync's order does not vary between runs are
//    used: one directory with the incremental list, or --no-i-r (the whole list first).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity } from '../helpers/cli.js';
import { sameAsRsync, startingState } from '../helpers/differential.js';
import { removeTemps, sh } from '../helpers/tree.js';

// The starting states (tempDir) are this file's to remove: left behind, every run adds to /dev/shm.
afterAll(() => removeTemps());

const hasRsync = spawnSync('rsync', ['--version']).status === 0;

/** FIFOs and links, some of them already in dst (as a FIFO, a file, a link); one directory (see above). */
function specials(root: string): void {
  for (const d of ['src', 'dst']) fs.mkdirSync(path.join(root, d), { recursive: true });
  sh(`cd '${root}' && mkfifo src/fifo src/fifo2 src/fifo3 dst/fifo && echo x > dst/fifo3 && echo f > src/file` +
    ` && ln -s file src/link && ln -s file dst/link && ln -s /etc/passwd src/unsafe && ln -s other dst/unsafe && ln -s ../../x src/unsafe2`);
  sh(`find '${root}' -exec touch -h -d @1700000000 {} +`);
}

/** One directory of files, unsafe links and a FIFO; dst has extras for --delete. */
function flat(root: string): void {
  for (const d of ['src', 'dst/old']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['a', 'b', 'z']) fs.writeFileSync(path.join(root, 'src', f), f);
  fs.writeFileSync(path.join(root, 'dst/extra'), 'x');
  sh(`cd '${root}' && mkfifo src/fifo && ln -s /etc/passwd src/abs && ln -s ../x src/up && ln -s a src/safe`);
  sh(`find '${root}' -exec touch -h -d @1700000000 {} +`);
}

/** Two levels: the whole list (--no-i-r) keeps rsync's order fixed. */
function nested(root: string): void {
  for (const d of ['src/sub/deep', 'dst/sub/old']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['a', 'b', 'sub/c', 'sub/deep/d', 'z']) fs.writeFileSync(path.join(root, 'src', f), f);
  fs.writeFileSync(path.join(root, 'dst/sub/gone'), 'x');
  sh(`cd '${root}' && mkfifo src/sub/fifo && ln -s /etc/passwd src/abs && ln -s ../../outside src/sub/up && ln -s ../../../x src/sub/deep/up3 && ln -s ../a src/sub/s2`);
  sh(`find '${root}' -exec touch -h -d @1700000000 {} +`);
}

/** A file in dst where src has a directory with files and subdirectories (--ignore-existing keeps it). */
function blocked(root: string): void {
  for (const d of ['src/c/d/e', 'src/c/h', 'dst']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['c/a', 'c/g', 'c/d/f', 'top']) fs.writeFileSync(path.join(root, 'src', f), f);
  fs.writeFileSync(path.join(root, 'dst/c'), 'a file\n');
  sh(`find '${root}' -exec touch -h -d @1700000000 {} +`);
}

/**
 * The same with a user xattr on the subdirectories below it: rsync's generator itemizes each as new
 * with its xattrs, so its receiver, asked to set them, fails that directory's stat too.
 */
function blockedXattrs(root: string): void {
  blocked(root);
  sh(`cd '${root}/src' && setfattr -h -n user.x -v 1 c/d c/h c/a`);
}

/** The same with `c/.rsync-filter` leaving user.x out under -F: only c/h, which has user.y too, is named. */
function blockedXattrsMerge(root: string): void {
  blockedXattrs(root);
  fs.writeFileSync(path.join(root, 'src/c/.rsync-filter'), '-x user.x\n');
  sh(`cd '${root}/src' && setfattr -h -n user.y -v 1 c/h && touch -h -d @1700000000 c/.rsync-filter c`);
}

/**
 * The same with a symlink, an unsafe symlink, a FIFO and a large file below that directory: rsync's
 * generator gets as far with each as its type goes before the destination is touched (a symlink or FIFO
 * it does not make: "skipping non-regular file"; an unsafe link under --safe-links: "ignoring unsafe
 * symlink"; one it makes: its symlink or mknod fails; a file past --max-size: "is over max-size").
 */
function blockedSpecials(root: string): void {
  for (const d of ['src/c/d', 'dst']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['c/a', 'c/d/f', 'top']) fs.writeFileSync(path.join(root, 'src', f), f);
  fs.writeFileSync(path.join(root, 'src/c/big'), 'a larger file\n');
  fs.writeFileSync(path.join(root, 'dst/c'), 'a file\n');
  sh(`cd '${root}' && mkfifo src/c/fifo && ln -s a src/c/link && ln -s /etc/passwd src/c/unsafe`);
  sh(`find '${root}' -exec touch -h -d @1700000000 {} +`);
}

/** Without -p rsync also warns of the default ACL it cannot read at the blocked name: -p throughout. */
const BLOCKED_SPECIALS: string[][] = [
  ['-rp', '--no-i-r', '--ignore-existing', 'src/', 'dst/'],
  ['-ai', '--no-i-r', '--ignore-existing', 'src/', 'dst/'],
  ['-rlpv', '--no-i-r', '--safe-links', '--ignore-existing', 'src/', 'dst/'],
  ['-rpDvv', '--no-i-r', '--max-size=5', '--ignore-existing', 'src/', 'dst/'],
];

/**
 * rsync's generator on each entry below it: a non-directory's stat fails (Not a directory), a
 * subdirectory is itemized as new, its mkdir fails and its contents are skipped (still listed: --stats).
 */
const BLOCKED: string[][] = [
  ['-ai', '--no-i-r', '--ignore-existing', 'src/', 'dst/'],
  ['-av', '--no-i-r', '--ignore-existing', '--stats', 'src/', 'dst/'],
  ['-ai', '--no-i-r', '--ignore-existing', '--exclude=h', 'src/', 'dst/'],
];

const SPECIALS: string[][] = [
  ['-r', '--ignore-existing', 'src/', 'dst/'],
  ['-rv', '--ignore-existing', 'src/', 'dst/'],
  ['-rvv', '--ignore-existing', 'src/', 'dst/'],
  ['-rDvv', '--ignore-existing', 'src/', 'dst/'],
  ['-r', '--existing', 'src/', 'dst/'],
  ['-rvv', '--existing', 'src/', 'dst/'],
  ['-rDvv', '--existing', 'src/', 'dst/'],
  ['-rlvv', '--safe-links', '--ignore-existing', 'src/', 'dst/'],
  ['-rlvv', '--safe-links', '--existing', 'src/', 'dst/'],
  ['-rlv', '--safe-links', '--ignore-existing', 'src/', 'dst/'],
];

const ORDER: [(root: string) => void, string[]][] = [
  [flat, ['-rlv', '--safe-links', 'src/', 'dst/']],
  [flat, ['-rv', '--delete', 'src/', 'dst/']],
  [flat, ['-rlv', '--safe-links', '--delete', 'src/', 'dst/']],
  [nested, ['-rlv', '--safe-links', '--no-i-r', 'src/', 'dst/']],
  [nested, ['-rv', '--delete', '--no-i-r', 'src/', 'dst/']],
];

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync)('--ignore-existing and --existing on FIFOs and links: rsync\'s line for each, line for line', async () => {
    await sameAsRsync(startingState(`arsync-genlines-${engine}-`, specials), SPECIALS, engine);
  });

  it.skipIf(!hasRsync)('--ignore-existing with a file where a directory goes: rsync\'s failures inside it, its itemized subdirectories and counts', async () => {
    await sameAsRsync(startingState(`arsync-genblocked-${engine}-`, blocked), BLOCKED, engine);
  });

  it.skipIf(!hasRsync || !fidelity(engine).xattrs)('-X --ignore-existing with a file where a directory goes: the receiver\'s failed stat of each subdirectory with xattrs, as rsync', async () => {
    await sameAsRsync(startingState(`arsync-genblockedx-${engine}-`, blockedXattrs), [['-aiX', '--no-i-r', '--ignore-existing', 'src/', 'dst/']], engine);
    // The x-rules of the blocked directory's own merge file decide which names its subdirectories list.
    await sameAsRsync(startingState(`arsync-genblockedxf-${engine}-`, blockedXattrsMerge), [['-aiXF', '--no-i-r', '--ignore-existing', 'src/', 'dst/']], engine);
  });

  it.skipIf(!hasRsync)('--ignore-existing with a file where a directory goes: symlinks, FIFOs and skipped files inside it as rsync', async () => {
    await sameAsRsync(startingState(`arsync-genblockedsp-${engine}-`, blockedSpecials), BLOCKED_SPECIALS, engine);
  });

  it.skipIf(!hasRsync)('-v: the generator\'s messages ahead of the names the sender prints, as rsync', async () => {
    for (const [i, [setup, args]] of ORDER.entries()) await sameAsRsync(startingState(`arsync-genorder${i}-${engine}-`, setup), [args], engine);
  });
});
