// Permissions without -p where rsync gives a new entry the bits of a file other than the destination's
// own (receiver.c recv_files and generator.c recv_generator, through rsync.c dest_mode with `exists`
// true), against rsync 3.5, locally and in a pull:
//  - a file sent against a basis rsync's receiver opens: a --fuzzy match, a --link-dest/--copy-dest/
//    --compare-dest twin whose data differs, a --partial-dir file (that one even where the destination
//    has a file of its own): the basis's bits (-E's execute rule on top);
//  - a file rsync's generator copies from an exact --copy-dest twin (or a --link-dest one it cannot
//    link) where the destination holds a symlink or FIFO: that entry's bits (a symlink's 0777 too);
//  - a device or FIFO replacing an entry that is not a directory (a file, a symlink, another device or
//    FIFO): that entry's bits. Devices need root; the FIFOs run everywhere. A device over one of the other
//    kind (char, block) or a FIFO over a socket is a change to rsync (`cDc`), not a new entry.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, it } from 'vitest';
import { isRoot, removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { differential, put, stampTree, touchNs } from '../helpers/differential.js';

afterAll(() => removeTemps());

function mknod(p: string, type: 'p' | 'c' | 'b', mode: number, major = 0, minor = 0): void {
  const args = type === 'p' ? ['-m', mode.toString(8), p, 'p'] : ['-m', mode.toString(8), p, type, String(major), String(minor)];
  const r = spawnSync('mknod', args);
  if (r.status !== 0) throw new Error(`mknod ${args.join(' ')}: ${r.stderr.toString()}`);
}

/** A path's mtime as touchNs takes it. */
function nsTime(p: string): string {
  const t = fs.statSync(p, { bigint: true }).mtimeNs;
  return `${t / 1_000_000_000n}.${String(t % 1_000_000_000n).padStart(9, '0')}`;
}

/** New files whose directory holds a fuzzy match of another mode (same size and time, or a close name). */
function fuzzyTree(root: string): void {
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  put(src, 'new.txt', 'hello world data\n', 0o600);
  put(src, 'run.sh', 'exec\n', 0o755);
  put(src, 'plain', 'plain data\n', 0o644);
  put(src, 'sub/data.bin', 'some binary data\n', 0o644);
  stampTree(src);
  fs.mkdirSync(path.join(dst, 'sub'), { recursive: true });
  put(dst, 'new.txx', 'hello world dat4\n', 0o640);
  put(dst, 'run.sh.old', 'exe\n', 0o640);
  put(dst, 'plain~', 'plain dat\n', 0o751);
  put(dst, 'sub/data.bak', 'some binary\n', 0o604);
  stampTree(dst, 1_600_000_000);
  // new.txx: the size and time of new.txt, rsync's first choice.
  touchNs([[path.join(dst, 'new.txx'), nsTime(path.join(src, 'new.txt'))]]);
}

/** Twins in prev whose data differs (level 1) or matches (level 3), over nothing, a symlink or a FIFO. */
function twinTree(root: string): void {
  const src = path.join(root, 'src');
  const prev = path.join(root, 'prev');
  const dst = path.join(root, 'dst');
  for (const n of ['t', 'x', 'p', 's', 'l', 'q', 'r']) put(src, n, `${n} data\n`, n === 'x' ? 0o755 : 0o600);
  stampTree(src);
  fs.mkdirSync(prev);
  // t: another time; x, p, l: other data (and size); s, q, r: exact (the source's time to the ns).
  for (const n of ['t', 'x', 'p', 's', 'l', 'q', 'r']) fs.writeFileSync(path.join(prev, n), ['x', 'p', 'l'].includes(n) ? `${n} other data\n` : `${n} data\n`);
  touchNs(['t', 'x', 'p', 's', 'l', 'q', 'r'].map((n) => [path.join(prev, n), n === 't' ? '1500000000.0' : nsTime(path.join(src, n))]));
  for (const [n, m] of [['t', 0o640], ['x', 0o640], ['p', 0o751], ['s', 0o640], ['l', 0o604], ['q', 0o644], ['r', 0o644]] as const) fs.chmodSync(path.join(prev, n), m);
  fs.mkdirSync(dst);
  fs.symlinkSync('nowhere', path.join(dst, 'l'));
  fs.symlinkSync('nowhere', path.join(dst, 'r'));
  mknod(path.join(dst, 'q'), 'p', 0o620);
  stampTree(dst, 1_600_000_000);
}

/** Files waiting in a relative partial dir, of other modes, with and without a destination file. */
function partialTree(root: string): void {
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  put(src, 'f', 'hello world data\n', 0o600);
  put(src, 'x', 'exec\n', 0o755);
  put(src, 'y', 'exec\n', 0o755);
  put(src, 'sub/g', 'hello world data\n', 0o600);
  stampTree(src);
  put(dst, '.pd/f', 'hello w\n', 0o640);
  put(dst, '.pd/x', 'exe\n', 0o640);
  put(dst, 'y', 'exe\n', 0o600);
  put(dst, '.pd/y', 'exe\n', 0o644);
  put(dst, 'sub/.pd/g', 'hello w\n', 0o666);
  stampTree(dst, 1_600_000_000);
}

/** FIFOs (and, as root, devices) over a file, a symlink, a FIFO, a device, a directory and nothing. */
function specialTree(root: string): void {
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  fs.mkdirSync(src);
  fs.mkdirSync(dst);
  const over = (n: string): void => {
    const p = path.join(dst, n);
    if (n.endsWith('reg')) put(dst, n, 'x\n', 0o4751);
    else if (n.endsWith('lnk')) fs.symlinkSync('nowhere', p);
    else if (n.endsWith('fifo')) mknod(p, 'p', 0o620);
    else if (n.endsWith('chr')) mknod(p, 'c', 0o666, 1, 5);
    else if (n.endsWith('blk')) mknod(p, 'b', 0o660, 7, 200);
    else if (n.endsWith('dir')) fs.mkdirSync(p, 0o750);
  };
  for (const n of ['p2reg', 'p2lnk', 'p2fifo', 'p2dir', 'p2none']) {
    mknod(path.join(src, n), 'p', 0o604);
    over(n);
  }
  if (isRoot) {
    for (const n of ['c2reg', 'c2lnk', 'c2fifo', 'c2chr', 'c2blk', 'c2dir', 'c2none']) {
      mknod(path.join(src, n), 'c', 0o600, 1, 3);
      over(n);
    }
    // A block device of the char device's numbers: the same to rsync's quick check (left as it is, its
    // time set), and a socket where a FIFO is wanted: replaced as a change.
    mknod(path.join(src, 'c2sameblk'), 'c', 0o600, 7, 200);
    mknod(path.join(dst, 'c2sameblk'), 'b', 0o640, 7, 200);
  }
  {
    mknod(path.join(src, 'p2sock'), 'p', 0o604);
    const r = spawnSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path.join(dst, 'p2sock')]);
    if (r.status !== 0) throw new Error(`socket: ${r.stderr.toString()}`);
    fs.chmodSync(path.join(dst, 'p2sock'), 0o640);
  }
  stampTree(src);
  stampTree(dst, 1_600_000_000);
}

describeEngines((e) => {
  const rsh = fakeRsh(tempDir('arsync-basisperm-rsh-'));
  const from = (pull: boolean): string[] => (pull ? ['-e', rsh, 'localhost:src/'] : ['src/']);

  it('a new file sent against a --fuzzy match takes the match\'s permissions, as rsync (local and pull)', async () => {
    for (const pull of [false, true]) {
      for (const opts of [['-rt', '-y'], ['-rt', '-y', '-E'], ['-a', '--no-p', '-y'], ['-rt', '-y', '--delete'], ['-rt', '-yy', '--delete-after']]) {
        await differential({ engine: e.name, setup: fuzzyTree, args: [...opts, ...from(pull), 'dst/'] });
      }
    }
  });

  it('a new file sent against a --*-dest twin takes the twin\'s permissions, a copied twin the replaced entry\'s (local and pull)', async () => {
    for (const pull of [false, true]) {
      for (const alt of ['--link-dest=../prev', '--copy-dest=../prev', '--compare-dest=../prev']) {
        for (const opts of [['-rt'], ['-rt', '-E'], ['-a', '--no-p'], ['-rt', '-y']]) {
          await differential({ engine: e.name, setup: twinTree, args: [...opts, alt, ...from(pull), 'dst/'], unchanged: ['src'] });
        }
      }
    }
  });

  it('a file sent against a --partial-dir file takes that file\'s permissions, as rsync (local and pull)', async () => {
    for (const pull of [false, true]) {
      for (const opts of [['-rt'], ['-rt', '-E'], ['-a', '--no-p']]) {
        await differential({ engine: e.name, setup: partialTree, args: [...opts, '--partial-dir=.pd', ...from(pull), 'dst/'] });
      }
    }
  });

  it('a FIFO or device over another entry that is not a directory takes its permissions, as rsync (local and pull)', async () => {
    for (const pull of [false, true]) {
      for (const opts of [['-rtD'], ['-a', '--no-p'], ['-rtD', '-b', '--backup-dir=../bk'], ['-rtD', '--delete']]) {
        await differential({ engine: e.name, setup: specialTree, args: [...opts, ...from(pull), 'dst/'], volatileDirsUnder: opts.includes('-b') ? ['bk'] : [] });
      }
    }
  });
});
