// Reaching paths longer than PATH_MAX from Node, which has no openat: a long path is named through
// /proc/<pid>/fd/<fd>/<rest>, where fd is a directory on the way that we hold open (itself reached the
// same way), so every path handed to the kernel stays short. /proc/<pid> (not /proc/self) so that child
// processes we spawn (test/helpers/xattrs.c) can use the same names while we hold the fds. Also builds deep test trees.

import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';

/** Paths at least this long are reached through a held directory fd (PATH_MAX is 4096, minus headroom). */
const SHORT = 3000;

const held = new Map<string, number>();

function dirOf(p: Buffer): number {
  return p.lastIndexOf(0x2f, p.length - 2);
}

/** A name for `abs` (absolute, any length) that the kernel accepts. Valid until releaseLongPaths(). */
export function reach(abs: Buffer): Buffer {
  if (abs.length < SHORT) return abs;
  const cut = dirOf(abs);
  const parent = abs.subarray(0, cut);
  const k = parent.toString('latin1');
  let fd = held.get(k);
  if (fd === undefined) {
    fd = fs.openSync(reach(parent), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
    held.set(k, fd);
  }
  return Buffer.concat([Buffer.from(`/proc/${process.pid}/fd/${fd}/`), abs.subarray(cut + 1)]);
}

/** Close every directory fd reach() holds. */
export function releaseLongPaths(): void {
  for (const fd of held.values()) fs.closeSync(fd);
  held.clear();
}

export interface DeepTree {
  /** Relative paths (bytes) of every entry made, top-down. */
  entries: Buffer[];
  /** Relative path of the deepest directory. */
  bottom: Buffer;
}

/**
 * Nest directories under root until the path from root is at least `total` bytes long. Every level gets a
 * file, a symlink and a small subdirectory with a file; the bottom gets a larger file (with an xattr and an
 * ACL), a dangling and a working relative symlink, an empty directory (with a default ACL), a FIFO and a hard-link pair. Modes
 * and mtimes vary by level. Names are ASCII.
 */
export function makeDeepTree(root: string, total: number): DeepTree {
  const R = Buffer.from(root);
  const entries: Buffer[] = [];
  const at = (rel: Buffer): Buffer => reach(Buffer.concat([R, Buffer.from('/'), rel]));
  const join = (a: Buffer, b: string): Buffer => (a.length ? Buffer.concat([a, Buffer.from('/' + b)]) : Buffer.from(b));
  const stamp = (rel: Buffer, i: number): void => {
    const t = new Date(Date.UTC(2021, 0, 1 + (i % 28), 12, 0, i % 60, 0));
    fs.lutimesSync(at(rel), t, t);
  };
  let dir: Buffer = Buffer.alloc(0);
  const dirs: Buffer[] = [];
  for (let i = 0; dir.length < total; i++) {
    const f = join(dir, 'file');
    fs.writeFileSync(at(f), `level ${i}\n`.repeat(i + 1), { mode: 0o600 + (i % 8) * 8 });
    fs.chmodSync(at(f), 0o600 + (i % 8) * 8);
    fs.symlinkSync(`../target-${i}`, at(join(dir, 'link')));
    const side = join(dir, 'side');
    fs.mkdirSync(at(side), { mode: 0o750 });
    fs.writeFileSync(at(join(side, 'x')), `side ${i}\n`);
    entries.push(f, join(dir, 'link'), side, join(side, 'x'));
    for (const e of [f, join(dir, 'link'), join(side, 'x'), side]) stamp(e, i);
    dir = join(dir, `${'d'.repeat(200)}${String(i).padStart(3, '0')}`);
    fs.mkdirSync(at(dir), { mode: 0o755 - (i % 2) * 0o20 });
    entries.push(dir);
    dirs.push(dir);
  }
  const big = join(dir, 'bottom');
  fs.writeFileSync(at(big), Buffer.alloc(300_000, 0x61));
  fs.symlinkSync('../../up', at(join(dir, 'blink')));
  fs.symlinkSync('bottom', at(join(dir, 'flink')));
  fs.mkdirSync(at(join(dir, 'empty')));
  fs.linkSync(at(big), at(join(dir, 'hard')));
  const fifo = spawnSync('mkfifo', ['-m', '0640', at(join(dir, 'fifo')).toString()]); // ASCII names
  if (fifo.status !== 0) throw new Error(`mkfifo: ${String(fifo.stderr)}`);
  entries.push(big, join(dir, 'blink'), join(dir, 'flink'), join(dir, 'empty'), join(dir, 'hard'), join(dir, 'fifo'));
  // An xattr and ACLs at the bottom (tmpfs and ext4 hold both).
  const tools: [string, string[]][] = [
    ['setfattr', ['-n', 'user.deep', '-v', 'bottom', at(big).toString()]],
    ['setfacl', ['-m', 'u:1234:r--', at(big).toString()]],
    ['setfacl', ['-d', '-m', 'u:1234:r-x', at(join(dir, 'empty')).toString()]],
  ];
  for (const [cmd, args] of tools) {
    const r = spawnSync(cmd, args);
    if (r.status !== 0) throw new Error(`${cmd}: ${String(r.stderr)}`);
  }
  for (const e of [big, join(dir, 'blink'), join(dir, 'flink'), join(dir, 'empty'), join(dir, 'fifo')]) stamp(e, 7);
  // Directory mtimes last, deepest first: making entries inside moved them.
  for (let i = dirs.length - 1; i >= 0; i--) stamp(dirs[i]!, i);
  releaseLongPaths();
  return { entries, bottom: dir };
}
