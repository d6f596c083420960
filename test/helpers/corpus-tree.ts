// The corpus's starting states, shared by the local corpus (test/e2e/corpus.test.ts) and the push/pull one
// (test/e2e/remote-corpus.test.ts): one rich source tree (every kind of entry and name the options act on,
// distinct ns times, xattrs, ACLs, a device, --files-from lists), a destination an earlier rsync left and
// that has since drifted, a snapshot for the --*-dest options, and which directory times a set leaves to
// the moment of its run. One copy of each rule, so both corpora start from the same states.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempDir } from './tree.js';
import { mtimeOf, put, stampTree, touchNs } from './differential.js';

/** The source: every kind of entry and name the options below act on, with distinct ns times. */
export function rich(r: string): void {
  put(r, 'src/empty', '');
  put(r, 'src/small.txt', 'small\n', 0o644);
  put(r, 'src/mid.bin', Buffer.alloc(40_000, 7), 0o600);
  put(r, 'src/ro.txt', 'read only\n', 0o444);
  put(r, 'src/run.sh', '#!/bin/sh\n', 0o755);
  put(r, 'src/with space', 'space\n');
  put(r, 'src/a/b/c/deep.txt', 'deep\n');
  put(r, 'src/a/x1.txt', 'x1\n');
  put(r, 'src/a/y.bin', Buffer.alloc(3000, 1));
  put(r, 'src/turns/file-here', 'will be a dir in dst\n');
  put(r, 'src/turns/dir-here/inner', 'dst has a file here\n');
  put(r, 'src/turns/link-here', 'dst has a symlink here\n');
  fs.mkdirSync(path.join(r, 'src/emptydir'));
  fs.mkdirSync(path.join(r, 'src/only-dirs/one/two'), { recursive: true });
  // A sparse file: 1 MiB hole, then data.
  const fd = fs.openSync(path.join(r, 'src/sparse'), 'w');
  fs.writeSync(fd, 'tail', 1 << 20);
  fs.closeSync(fd);
  put(r, 'outside/target.txt', 'outside\n');
  fs.symlinkSync('small.txt', path.join(r, 'src/ln-file'));
  fs.symlinkSync('a', path.join(r, 'src/ln-dir'));
  fs.symlinkSync('nowhere', path.join(r, 'src/ln-dangling'));
  fs.symlinkSync('../../outside/target.txt', path.join(r, 'src/a/ln-unsafe'));
  fs.linkSync(path.join(r, 'src/small.txt'), path.join(r, 'src/a/hard-small'));
  fs.linkSync(path.join(r, 'src/a/y.bin'), path.join(r, 'src/a/b/hard-y'));
  execFileSync('mkfifo', [path.join(r, 'src/fifo')]);
  put(r, 'src/a/.rsync-filter', '- *.bin\n');
  put(r, 'src/core', 'a core file\n');
  put(r, 'src/edited', 'edited\n');
  // xattrs and ACLs for -X and -A (session 28): a user.* xattr on a file and a dir, an access ACL on a
  // file, a default ACL on a directory.
  execFileSync('setfattr', ['-n', 'user.k', '-v', 'v1', path.join(r, 'src/small.txt')]);
  execFileSync('setfattr', ['-n', 'user.d', '-v', 'dirval', path.join(r, 'src/a')]);
  execFileSync('setfacl', ['-m', 'u:nobody:r', path.join(r, 'src/mid.bin')]);
  execFileSync('setfacl', ['-d', '-m', 'u:nobody:rx', path.join(r, 'src/only-dirs')]);
  // Session 29: more of them for the drifted destination to change (a second file xattr, a second access
  // ACL), one of rsync's own records (-XX copies it, one -X leaves it out), and an xattr on a symlink. Linux
  // refuses user.* xattrs on symlinks on every filesystem (the VFS allows that namespace on regular files and
  // directories only), so the symlink's is a trusted.* one, which root reads and writes and rsync's -X copies.
  execFileSync('setfattr', ['-n', 'user.r', '-v', 'r1', path.join(r, 'src/ro.txt')]);
  execFileSync('setfacl', ['-m', 'u:nobody:rw', path.join(r, 'src/empty')]);
  execFileSync('setfattr', ['-n', 'user.rsync.%stat', '-v', '100755 0,0 0:0', path.join(r, 'src/run.sh')]);
  symlinkXattr(path.join(r, 'src/ln-file'), 'sym');
  // A character device (mknod: the tests run as root), for -D and --devices; it and the FIFO with a
  // trusted.* xattr each (no user.* there either).
  execFileSync('mknod', [path.join(r, 'src/chr'), 'c', '1', '3']);
  execFileSync('setfattr', ['-h', '-n', 'trusted.c', '-v', 'dev', path.join(r, 'src/chr')]);
  execFileSync('setfattr', ['-h', '-n', 'trusted.f', '-v', 'fifo', path.join(r, 'src/fifo')]);
  // --files-from lists (session 29), outside src: comment lines, a `./` name, a `/./` cut (-R), directory
  // entries, a symlink, the device; one with a name the source lacks; NUL-separated ones for -0.
  put(r, 'lists/names', '# a comment\n; another\nsmall.txt\n./with space\na/b/c/deep.txt\nemptydir\nonly-dirs\nln-file\nturns/./file-here\nchr\n');
  put(r, 'lists/missing', 'small.txt\nnot-there.txt\na/x1.txt\n');
  put(r, 'lists/zero', 'small.txt\0./with space\0a/b\0ln-dir\0');
  put(r, 'lists/dirs', 'a\nonly-dirs/\nturns\n');
  stampTree(path.join(r, 'src'));
  // A name that is not UTF-8 (stampTree's helper takes text paths): timed on its own.
  const latin = Buffer.from(path.join(r, 'src/latin-\xe9'), 'latin1');
  fs.writeFileSync(latin, 'latin1 name\n');
  fs.utimesSync(latin, 1_690_000_000.25, 1_690_000_000.25);
  fs.utimesSync(path.join(r, 'src'), 1_690_000_001.5, 1_690_000_001.5);
}

let symlinkNote = false;

/** Put a trusted.* xattr on a symlink, saying once why not a user.* one. */
function symlinkXattr(link: string, value: string): void {
  if (!symlinkNote) {
    symlinkNote = true;
    try {
      execFileSync('setfattr', ['-h', '-n', 'user.probe', '-v', '1', link], { stdio: 'pipe' });
      execFileSync('setfattr', ['-h', '-x', 'user.probe', link]);
    } catch (err) {
      console.log(`corpus: no user.* xattr on a symlink here (${String((err as { stderr?: Buffer }).stderr ?? err).trim()}); a trusted.* one instead`);
    }
  }
  execFileSync('setfattr', ['-h', '-n', 'trusted.lk', '-v', value, link]);
}

/** A destination an earlier `rsync -aHAXX` made, drifted since. */
function drifted(r: string): void {
  rich(r);
  execFileSync('rsync', ['-aHAXX', 'src/', 'dst/'], { cwd: r });
  const d = (p: string): string => path.join(r, 'dst', p);
  fs.writeFileSync(d('small.txt'), 'SMALL\n'); // same size, new time, shared with a/hard-small
  fs.writeFileSync(d('mid.bin'), Buffer.alloc(40_001, 8));
  fs.chmodSync(d('run.sh'), 0o700);
  fs.utimesSync(d('a/x1.txt'), 1_500_000_000, 1_500_000_000);
  put(r, 'dst/extra.txt', 'extra\n');
  put(r, 'dst/a/b/extra-dir/f', 'f\n');
  put(r, 'dst/x-excluded', 'x\n');
  fs.rmSync(d('turns/file-here'));
  put(r, 'dst/turns/file-here/was-dir', 'w\n');
  fs.rmSync(d('turns/dir-here'), { recursive: true });
  put(r, 'dst/turns/dir-here', 'was a file\n');
  fs.rmSync(d('turns/link-here'));
  fs.symlinkSync('../small.txt', d('turns/link-here'));
  // The hard link split: a/b/hard-y a copy of its own.
  fs.rmSync(d('a/b/hard-y'));
  fs.copyFileSync(d('a/y.bin'), d('a/b/hard-y'));
  // Session 29. Files newer than the source's (-u): one with other content, one with the same; and one as
  // old as its source but of another size. The device with other numbers.
  fs.writeFileSync(d('core'), 'A CORE FILE, CHANGED\n');
  fs.rmSync(d('chr'));
  execFileSync('mknod', [d('chr'), 'c', '1', '5']);
  // xattrs and ACLs changed, added and removed (their ctime moves, their mtime does not).
  execFileSync('setfattr', ['-n', 'user.r', '-v', 'r2', d('ro.txt')]);
  execFileSync('setfattr', ['-n', 'user.gone', '-v', 'x', d('ro.txt')]);
  execFileSync('setfattr', ['-x', 'user.d', d('a')]);
  execFileSync('setfattr', ['-n', 'user.rsync.%aacl', '-v', 'stale', d('emptydir')]);
  execFileSync('setfacl', ['-m', 'u:nobody:rx', d('emptydir')]);
  execFileSync('setfacl', ['-b', d('empty')]);
  execFileSync('setfacl', ['-d', '-m', 'u:nobody:rwx', d('only-dirs')]);
  execFileSync('setfattr', ['-h', '-n', 'trusted.f', '-v', 'changed', d('fifo')]);
  symlinkXattr(d('ln-file'), 'other');
  // Times of their own for what changed (stampTree takes text paths: not dst's top, where the latin-1 name is).
  snapshot(r);
  stampTree(path.join(r, 'dst/a'), 1_650_000_000);
  stampTree(path.join(r, 'dst/turns'), 1_660_000_000);
  fs.writeFileSync(d('a/b/c/deep.txt'), 'deeper\n');
  touchNs([[d('small.txt'), '1670000000.1'], [d('mid.bin'), '1670000001.2'], [d('extra.txt'), '1670000002.3'], [d('x-excluded'), '1670000003.4']]);
  touchNs([[d('core'), '1800000000.5'], [d('with space'), '1800000001.5'], [d('turns/link-here'), '1800000002.5'], [d('chr'), '1670000005.5']]);
  // Newer than its source only within the same second, and of another size: -u counts whole seconds, so
  // it is sent.
  fs.writeFileSync(d('edited'), 'edited again\n');
  const edited = `${mtimeOf(path.join(r, 'src/edited')).split('.')[0]}.999999999`;
  touchNs([[d('a/b/c/deep.txt'), mtimeOf(path.join(r, 'src/a/b/c/deep.txt'))], [d('a/b/c'), '1650000000.5'], [d('edited'), edited], [path.join(r, 'dst'), '1670000004.5']]);
  fs.mkdirSync(path.join(r, 'bak'));
  fs.mkdirSync(path.join(r, 'tmp'));
}

/** An earlier snapshot for --link-dest, --copy-dest and --compare-dest: the source, one file changed since. */
function snapshot(r: string): void {
  execFileSync('rsync', ['-aH', 'src/', 'prev/'], { cwd: r });
  fs.writeFileSync(path.join(r, 'prev/a/x1.txt'), 'older\n');
  touchNs([[path.join(r, 'prev/a/x1.txt'), '1600000000.5'], [path.join(r, 'prev/a'), '1600000001.5']]);
}

function fresh(r: string): void {
  rich(r);
  snapshot(r);
  fs.mkdirSync(path.join(r, 'bak'));
  fs.mkdirSync(path.join(r, 'tmp'));
}

const built = new Map<string, string>();

/**
 * A starting state built once per run of this file and copied into each case's root (`cp -a` keeps ns
 * times, owners, modes, xattrs, ACLs, devices and hard links): building one takes some 30 helper
 * processes (setfattr, setfacl, mknod, rsync), and some 200 cases start from one of two.
 */
function fromBuilt(name: string, build: (r: string) => void, root: string): void {
  let t = built.get(name);
  if (t === undefined) {
    t = path.join(tempDir('arsync-corpus-built-'), 'T');
    fs.mkdirSync(t);
    build(t);
    built.set(name, t);
  }
  execFileSync('cp', ['-a', '--', `${t}/.`, root]);
}

export const freshState = (r: string): void => fromBuilt('fresh', fresh, r);
export const driftedState = (r: string): void => fromBuilt('drifted', drifted, r);

/** What a set leaves to the moment of its run, in both tools: directory times (-O, -b, --backup-dir's own). */
export function volatility(args: string[]): { volatile?: string[]; volatileDirsUnder?: string[] } {
  const flags = args.filter((a) => /^-[a-zA-Z]+$/.test(a)).join('');
  const out: { volatile?: string[]; volatileDirsUnder?: string[] } = {};
  // rsync sets no directory times under --backup without --backup-dir (it implies --omit-dir-times).
  if (flags.includes('O') || args.includes('--omit-dir-times') || (flags.includes('b') && !args.some((a) => a.startsWith('--backup-dir')))) out.volatileDirsUnder = ['dst'];
  // The directories a --backup-dir run makes there take the time they are made at.
  if (args.some((a) => a.startsWith('--backup-dir'))) out.volatileDirsUnder = [...(out.volatileDirsUnder ?? []), 'bak'];
  return out;
}

