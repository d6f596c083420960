// Seeded generator of source trees for e2e tests: every kind of entry a copy tool can get wrong (sizes
// around page and buffer boundaries, holes, hard links, all sorts of symlinks, FIFOs and devices, xattrs
// and ACLs, odd owners and modes, hostile names as raw bytes, deep nesting, nanosecond mtimes), plus an
// optional bulk of random files for larger runs. Same seed, same tree (contents, names, modes, times).
//
// Node cannot set nanosecond mtimes, xattrs, ACLs, FIFOs or devices, so those are applied at the end by one
// generated shell script (`touch -h -d @SEC.NSEC`, `setfattr`, `setfacl`, `mkfifo`, `mknod`) whose
// single-quoted paths are raw bytes: names that are not valid UTF-8 survive, which spawn() argv would not.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

export const isRoot = process.geteuid?.() === 0;

/** Deterministic PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE((this.next() * 4294967296) >>> 0, i);
    for (; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Temp directories

/** Where test trees live: /dev/shm (tmpfs: fast, and supports user xattrs and POSIX ACLs) when writable. */
export function tempBase(): string {
  for (const d of ['/dev/shm', os.tmpdir()]) {
    try {
      fs.accessSync(d, fs.constants.W_OK);
      return d;
    } catch {
      /* next */
    }
  }
  return os.tmpdir();
}

const made: string[] = [];

/** A fresh temp dir (removed by removeTemps()). */
export function tempDir(prefix = 'arsync-test-'): string {
  const d = fs.mkdtempSync(path.join(tempBase(), prefix));
  made.push(d);
  return d;
}

/** Every mount point (from /proc/self/mountinfo, whose paths escape space, tab, \n and \\ in octal). */
function mountPoints(): string[] {
  let info: string;
  try {
    info = fs.readFileSync('/proc/self/mountinfo', 'latin1');
  } catch {
    return [];
  }
  const unescape = (p: string): string => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return info.split('\n').map((l) => unescape(l.split(' ')[4] ?? ''));
}

/** The mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string, points: string[]): string[] {
  return points.filter((m) => m === dir || m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/**
 * Remove every temp dir made by tempDir() in this process. A test unmounts what it mounted; a mount it
 * left behind (a failed test) is unmounted here, lazily if busy, and a dir still holding a mount after
 * that is left alone and reported, never emptied through the mount.
 */
export function removeTemps(): void {
  const points = mountPoints();
  for (const d of made.splice(0)) {
    const mounts = mountsUnder(d, points);
    if (mounts.length > 0) {
      for (const m of mounts) if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
      const left = mountsUnder(d, mountPoints());
      if (left.length > 0) {
        console.warn(`removeTemps: ${d} left in place: it still holds a mount (${left.join(', ')})`);
        continue;
      }
    }
    rmrf(d);
  }
}

/** rm -rf that also copes with 0000 dirs and immutable-free oddities (chmods its way in). */
export function rmrf(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    spawnSync('chmod', ['-R', 'u+rwx', p]);
    fs.rmSync(p, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Byte paths

export type BPath = Buffer;
const SLASH = Buffer.from('/');
export function bjoin(...parts: (Buffer | string)[]): Buffer {
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(SLASH);
    out.push(typeof p === 'string' ? Buffer.from(p) : p);
  });
  return Buffer.concat(out);
}

/** Shell single-quoting of raw bytes. */
export function shq(p: Buffer | string): Buffer {
  const b = typeof p === 'string' ? Buffer.from(p) : p;
  const parts: Buffer[] = [Buffer.from("'")];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x27) {
      parts.push(b.subarray(start, i), Buffer.from("'\\''"));
      start = i + 1;
    }
  }
  parts.push(b.subarray(start), Buffer.from("'"));
  return Buffer.concat(parts);
}

/** A human-readable rendering of a byte path: printable ASCII as is, everything else \xNN. */
export function showPath(p: Buffer): string {
  let s = '';
  for (const c of p) s += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Generator

export interface TreeSpec {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Include the fixed catalogue of every kind of entry (default true). */
  catalogue?: boolean;
  /** Number of extra random regular files (default 0), spread over random subdirectories. */
  files?: number;
  /** Largest random file size (default 256 KiB). */
  maxFileSize?: number;
  /** Depth of the deep-nesting chain (default 40). */
  depth?: number;
  /** user.* xattrs, and trusted.* when root (default true). */
  xattrs?: boolean;
  /** POSIX ACLs, access and default (default true). */
  acls?: boolean;
  /** Odd numeric owners and groups (default: when root). */
  owners?: boolean;
  /** Char and block devices (default: when root). */
  devices?: boolean;
  /** FIFOs (default true). */
  fifos?: boolean;
  /** A unix socket (default false). */
  socket?: boolean;
  /** Hard links among the random bulk files (default true). */
  hardlinks?: boolean;
  /** Names that are not valid UTF-8 (default true). */
  binaryNames?: boolean;
}

/** What the generator made, for tests that want to poke at particular entries. */
export interface TreeInfo {
  root: string;
  /** Number of entries created (excluding the root). */
  entries: number;
  /** Relative paths of regular files (bytes). */
  files: Buffer[];
}

interface Pending {
  times: Map<string, Buffer[]>; // "@sec.nsec" -> absolute paths
  shell: Buffer[]; // commands run before the touches
  dirModes: [Buffer, number][]; // applied after contents, deepest first
}

const MiB = 1024 * 1024;
export const BOUNDARY_SIZES = [
  0, 1, 511, 512, 4095, 4096, 4097, 65535, 65536, 65537, 131071, 131072, 131073, 262143, 262144, 262145,
  1048575, MiB, 1048577, MiB + 4099, 4 * MiB + 13,
];

/**
 * Populate `root` (created if needed; must be empty) with a seeded tree. Returns the root and what was made.
 */
export function makeTree(root: string, spec: TreeSpec = {}): TreeInfo {
  const s = {
    seed: 1,
    catalogue: true,
    files: 0,
    maxFileSize: 256 * 1024,
    depth: 40,
    xattrs: true,
    acls: true,
    owners: isRoot,
    devices: isRoot,
    fifos: true,
    socket: false,
    binaryNames: true,
    hardlinks: true,
    ...spec,
  };
  const rng = new Rng(s.seed);
  fs.mkdirSync(root, { recursive: true });
  const R = Buffer.from(path.resolve(root));
  const info: TreeInfo = { root: path.resolve(root), entries: 0, files: [] };
  const pend: Pending = { times: new Map(), shell: [], dirModes: [] };
  const abs = (rel: string | Buffer): Buffer => bjoin(R, rel);
  const randTime = (): string => `@${rng.int(1_000_000_000, 1_900_000_000)}.${String(rng.int(0, 999_999_999)).padStart(9, '0')}`;
  const setTime = (rel: string | Buffer, t: string = randTime()): void => {
    const list = pend.times.get(t) ?? [];
    list.push(abs(rel));
    pend.times.set(t, list);
  };
  const cmd = (...parts: (string | Buffer)[]): void => {
    pend.shell.push(Buffer.concat([...parts.flatMap((p) => [typeof p === 'string' ? Buffer.from(p) : p, Buffer.from(' ')]), Buffer.from('\n')]));
  };
  const mkdir = (rel: string | Buffer, mode = 0o755): void => {
    fs.mkdirSync(abs(rel));
    pend.dirModes.push([abs(rel), mode]);
    setTime(rel);
    info.entries++;
  };
  const file = (rel: string | Buffer, data: Buffer | number, mode = 0o644, time?: string): void => {
    const content = typeof data === 'number' ? rng.bytes(data) : data;
    const p = abs(rel);
    fs.writeFileSync(p, content);
    fs.chmodSync(p, mode);
    setTime(rel, time);
    info.entries++;
    info.files.push(typeof rel === 'string' ? Buffer.from(rel) : rel);
  };
  const symlink = (rel: string | Buffer, target: string | Buffer): void => {
    fs.symlinkSync(target, abs(rel));
    setTime(rel);
    info.entries++;
  };
  const xattr = (rel: string | Buffer, name: string, value: Buffer): void => {
    cmd('setfattr -h -n', name, '-v', '0x' + value.toString('hex'), '--', shq(abs(rel)));
  };

  if (s.catalogue) {
    // Sizes around page, buffer and chunk boundaries.
    mkdir('sizes');
    for (const n of BOUNDARY_SIZES) file(`sizes/s-${n}`, n);
    file('sizes/zeros-65536', Buffer.alloc(65536)); // all zero bytes but not sparse
    mkdir('empty-dir');
    mkdir('empty-dir-2');
    mkdir('empty-dir-2/nested-empty');
    file('empty-file', 0);

    // Sparse files: holes at the start, the middle, the end, and nothing but a hole.
    mkdir('sparse');
    const sparse = (rel: string, size: number, writes: [number, number][]): void => {
      const fd = fs.openSync(abs(rel), 'w', 0o644);
      for (const [off, len] of writes) fs.writeSync(fd, rng.bytes(len), 0, len, off);
      fs.ftruncateSync(fd, size);
      fs.closeSync(fd);
      setTime(rel);
      info.entries++;
      info.files.push(Buffer.from(rel));
    };
    sparse('sparse/hole-start', 2 * MiB + 4096, [[2 * MiB, 4096]]);
    sparse('sparse/hole-middle', 3 * MiB + 777, [[0, 65536], [3 * MiB, 777]]);
    sparse('sparse/hole-end', 5 * MiB, [[0, 12345]]);
    sparse('sparse/all-hole', 3 * MiB, []);
    sparse('sparse/many-holes', 8 * MiB + 1, [[0, 1], [MiB + 3, 5000], [3 * MiB, 70000], [6 * MiB + 4095, 2], [8 * MiB, 1]]);

    // Hard-link groups, across directories.
    mkdir('hard');
    mkdir('hard/sub');
    file('hard/g1-a', 5000);
    fs.linkSync(abs('hard/g1-a'), abs('hard/sub/g1-b'));
    fs.linkSync(abs('hard/g1-a'), abs('g1-c-at-root'));
    file('hard/g2-empty-a', 0, 0o600);
    fs.linkSync(abs('hard/g2-empty-a'), abs('hard/sub/g2-empty-b'));
    file('hard/g3-big-a', MiB + 1);
    fs.linkSync(abs('hard/g3-big-a'), abs('hard/g3-big-b'));
    info.entries += 3;

    // Symlinks: relative, absolute, dangling, to a directory, self-loop, odd targets.
    mkdir('links');
    symlink('links/rel', '../sizes/s-1');
    symlink('links/rel-dir', '../empty-dir');
    symlink('links/abs-outside', '/etc/hostname');
    symlink('links/abs-inside', path.join(info.root, 'sizes/s-1'));
    symlink('links/dangling', 'no/such/target');
    symlink('links/loop', 'loop');
    symlink('links/long-target', 'x/'.repeat(500) + 'end');
    symlink('links/space target', 'a target with spaces\nand a newline');
    if (s.binaryNames) symlink('links/binary-target', Buffer.from([0x62, 0xff, 0xfe, 0x2f, 0x80]));

    // Specials.
    mkdir('special');
    if (s.fifos) {
      cmd('mkfifo -m 0640 --', shq(abs('special/fifo')));
      setTime('special/fifo');
      info.entries++;
    }
    if (s.devices) {
      cmd('mknod -m 0620 --', shq(abs('special/chr-1-3')), 'c 1 3');
      cmd('mknod -m 0660 --', shq(abs('special/blk-7-200')), 'b 7 200');
      cmd('mknod -m 0600 --', shq(abs('special/chr-big')), 'c 511 1048575');
      for (const n of ['chr-1-3', 'blk-7-200', 'chr-big']) setTime(`special/${n}`);
      info.entries += 3;
    }
    if (s.socket) {
      const p = path.join(info.root, 'special/socket');
      const r = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(p)}, () => process.exit(0))`]);
      if (r.status !== 0) throw new Error(`socket: ${r.stderr}`);
      fs.chmodSync(p, 0o751);
      setTime('special/socket');
      info.entries++;
    }

    // Modes: setuid, setgid, sticky, and unusual permission bits; a read-only dir with contents.
    mkdir('modes');
    file('modes/setuid', 100, 0o4755);
    file('modes/setgid', 100, 0o2755);
    file('modes/setuid-setgid-sticky', 100, 0o7777);
    file('modes/none', 10, 0o000);
    file('modes/write-only', 10, 0o200);
    file('modes/read-only', 10, 0o444);
    file('modes/exec', 10, 0o711);
    mkdir('modes/sticky-dir', 0o1777);
    mkdir('modes/setgid-dir', 0o2775);
    mkdir('modes/readonly-dir', 0o555);
    file('modes/readonly-dir/inside', 300);
    mkdir('modes/private-dir', 0o700);
    file('modes/private-dir/inside', 10);

    // Owners (numeric ids that have no passwd entry); chown before chmod so setuid survives.
    if (s.owners) {
      mkdir('owners', 0o755);
      file('owners/u1234-g5678', 10);
      fs.chownSync(abs('owners/u1234-g5678'), 1234, 5678);
      file('owners/setuid-u1234', 10);
      fs.chownSync(abs('owners/setuid-u1234'), 1234, 0);
      fs.chmodSync(abs('owners/setuid-u1234'), 0o4750);
      file('owners/setgid-g5678', 10);
      fs.chownSync(abs('owners/setgid-g5678'), 0, 5678);
      fs.chmodSync(abs('owners/setgid-g5678'), 0o2710);
      mkdir('owners/dir-u4321', 0o750);
      fs.chownSync(abs('owners/dir-u4321'), 4321, 8765);
      file('owners/dir-u4321/f-nobody', 10);
      fs.chownSync(abs('owners/dir-u4321/f-nobody'), 65534, 65534);
      symlink('owners/link-u1111', 'somewhere');
      fs.lchownSync(abs('owners/link-u1111'), 1111, 2222);
      if (s.fifos) {
        cmd('mkfifo -m 0600 --', shq(abs('owners/fifo-u77')), '&& chown -h 77:88 --', shq(abs('owners/fifo-u77')));
        setTime('owners/fifo-u77');
        info.entries++;
      }
    }

    // Names: spaces, control characters, leading dashes, things that look like our temp files, long names.
    mkdir('names');
    const names: (string | Buffer)[] = [
      'with space', ' leading space', 'trailing space ', 'new\nline', 'carriage\rreturn', 'tab\tname', '-rf',
      '--help', '-', "quote's", 'double"quote', 'back\\slash', 'star*question?[br]', '\x01ctrl', '.hidden',
      '..dots', '.name.ABCDEF', 'ünïcödé', '日本語', 'emoji-😀', 'a'.repeat(255), 'é'.repeat(127),
    ];
    if (s.binaryNames) {
      names.push(Buffer.from([0xff, 0xfe, 0x61]), Buffer.from('caf\xe9', 'latin1'), Buffer.from([0x80, 0x0a, 0xc3]));
    }
    names.forEach((n) => file(bjoin('names', n), rng.int(0, 3000)));
    mkdir('names/dir with\nnewline');
    file('names/dir with\nnewline/-inside', 10);
    if (s.binaryNames) {
      const bd = bjoin('names', Buffer.from([0x64, 0xff, 0x64]));
      mkdir(bd);
      file(bjoin(bd, Buffer.from([0xe9])), 42);
      symlink(bjoin(bd, 'link'), Buffer.from([0xe9]));
    }

    // Deep nesting.
    let deep = 'deep';
    mkdir(deep);
    for (let i = 1; i <= s.depth; i++) {
      deep += `/d${String(i).padStart(2, '0')}`;
      mkdir(deep);
    }
    file(`${deep}/leaf`, 1234);
    symlink(`${deep}/up`, '../'.repeat(s.depth) + 'sizes');

    // Times at the edges: whole seconds, the last nanosecond of a second, before 1970, after 2038.
    mkdir('times');
    file('times/whole-second', 10, 0o644, '@1600000000.000000000');
    file('times/last-ns', 10, 0o644, '@1600000000.999999999');
    file('times/first-ns', 10, 0o644, '@1600000000.000000001');
    file('times/pre-epoch', 10, 0o644, '@-86400.250000000');
    file('times/after-2038', 10, 0o644, '@4102444800.123456789');

    // Extended attributes and ACLs.
    if (s.xattrs) {
      xattr('sizes/s-4096', 'user.small', Buffer.from('value'));
      xattr('sizes/s-4096', 'user.binary', Buffer.from([0, 1, 2, 0xff, 0, 0x0a]));
      xattr('sizes/s-4096', 'user.big', rng.bytes(3000));
      xattr('sizes/s-0', 'user.empty-file', Buffer.from('on an empty file'));
      xattr('sizes/s-1048577', 'user.on-large', Buffer.from('x'));
      xattr('sparse/hole-middle', 'user.sparse', Buffer.from('y'));
      xattr('hard/g1-a', 'user.hardlinked', Buffer.from('shared by three names'));
      xattr('empty-dir', 'user.on-dir', Buffer.from('dir'));
      xattr('names/new\nline', 'user.odd-name', Buffer.from('z'));
      xattr('modes/setuid', 'user.setuid', Buffer.from('s'));
      if (s.binaryNames) xattr(Buffer.from('names/\xff\xfea', 'latin1'), 'user.binary-name', Buffer.from('b'));
      if (isRoot) {
        xattr('sizes/s-4096', 'trusted.t', Buffer.from('trusted value'));
        xattr('empty-dir', 'trusted.dir', Buffer.from('td'));
      }
    }
    if (s.acls) {
      mkdir('acl', 0o750);
      file('acl/access', 100, 0o640);
      cmd('setfacl -m u:1234:rw-,g:5678:r--,u:65534:---,m::rw- --', shq(abs('acl/access')));
      mkdir('acl/default-dir', 0o770);
      cmd('setfacl -m u:1234:rwx,g:5678:r-x -d -m u:1234:rwx,g:5678:r-x,o::--- --', shq(abs('acl/default-dir')));
      mkdir('acl/default-only', 0o755);
      cmd('setfacl -d -m u:4321:r-x --', shq(abs('acl/default-only')));
      file('acl/with-xattr', 10, 0o600);
      cmd('setfacl -m g:99:r-- --', shq(abs('acl/with-xattr')));
      if (s.xattrs) xattr('acl/with-xattr', 'user.also', Buffer.from('both'));
    }
  }

  // Bulk random files for scale.
  if (s.files > 0) {
    mkdir('bulk');
    const dirs = ['bulk'];
    const ndirs = Math.max(1, Math.ceil(s.files / 40));
    for (let i = 0; i < ndirs; i++) {
      const parent = rng.next() < 0.7 || dirs.length === 1 ? rng.pick(dirs) : 'bulk';
      if (parent.split('/').length > 6) continue;
      const d = `${parent}/d${i}`;
      mkdir(d, rng.pick([0o755, 0o755, 0o750, 0o700]));
      dirs.push(d);
    }
    const times = Array.from({ length: 48 }, () => randTime());
    for (let i = 0; i < s.files; i++) {
      const d = rng.pick(dirs);
      const r = rng.next();
      const size =
        r < 0.02 ? rng.pick(BOUNDARY_SIZES.filter((n) => n <= s.maxFileSize))
        : r < 0.6 ? rng.int(0, 4096)
        : r < 0.9 ? rng.int(4097, Math.min(65536, s.maxFileSize))
        : rng.int(0, s.maxFileSize);
      const rel = `${d}/f${i}${rng.next() < 0.05 ? ' spaced' : ''}`;
      const k = rng.next();
      if (k < 0.02 && s.hardlinks && info.files.length > 0) {
        // A hard link to an earlier bulk file.
        const target = rng.pick(info.files.filter((f) => f.toString().startsWith('bulk/')).slice(-50));
        if (target) {
          fs.linkSync(abs(target), abs(rel));
          info.entries++;
          continue;
        }
      }
      if (k < 0.04) {
        symlink(rel, rng.next() < 0.5 ? `f${i - 1}` : `/nonexistent/${i}`);
        continue;
      }
      file(rel, size, rng.pick([0o644, 0o644, 0o600, 0o755, 0o640]), rng.pick(times));
      if (s.xattrs && rng.next() < 0.05) xattr(rel, `user.k${i % 7}`, rng.bytes(rng.int(0, 64)));
      if (s.acls && rng.next() < 0.01) cmd('setfacl -m u:1234:r-- --', shq(abs(rel)));
      if (s.owners && rng.next() < 0.02) fs.chownSync(abs(rel), rng.int(1000, 60000), rng.int(1000, 60000));
    }
  }

  // Directory modes after their contents exist; then the shell pass (specials, xattrs, ACLs); times last.
  for (const [p, mode] of pend.dirModes.reverse()) fs.chmodSync(p, mode);
  fs.chmodSync(R, 0o755);
  for (const [t, paths] of pend.times) {
    for (let i = 0; i < paths.length; i += 200) {
      pend.shell.push(Buffer.concat([Buffer.from(`touch -h -d ${t} --`), ...paths.slice(i, i + 200).flatMap((p) => [Buffer.from(' '), shq(p)]), Buffer.from('\n')]));
    }
  }
  pend.shell.push(Buffer.from(`touch -h -d @${rng.int(1_000_000_000, 1_900_000_000)}.${rng.int(100_000_000, 999_999_999)} -- `), shq(R), Buffer.from('\n'));
  runShell(Buffer.concat(pend.shell));
  return info;
}

/** Run a byte script with `sh -e`; throws with its stderr on failure. */
export function runShell(script: Buffer | string): void {
  const r = spawnSync('sh', ['-e'], { input: script, maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`shell script failed (${r.status ?? r.signal}): ${r.stderr.toString()}`);
}

/** Run a command; throw unless it exits 0. Returns stdout. */
export function sh(cmdline: string, opts: { cwd?: string } = {}): string {
  const r = spawnSync('sh', ['-c', cmdline], { encoding: 'utf8', cwd: opts.cwd, maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`${cmdline}: exit ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

/** A few plain files in a fresh dir (for tests that just need something to copy). */
export function makeSmallTree(root: string, seed = 7): TreeInfo {
  return makeTree(root, { seed, catalogue: false, files: 12, maxFileSize: 20000, xattrs: false, acls: false, owners: false, hardlinks: false });
}
