// Two independent judges of "is dst an exact copy of src":
//  - rsync itself (the oracle): a dry run with --checksum and --itemize-changes that must print nothing;
//  - compareTrees(): our own whole-tree walk (content, type and mode, owner, nanosecond mtimes, symlink
//    targets, device numbers, hard-link grouping, xattrs and ACLs, sparseness), names as bytes.
// Either can be wrong; tests use both, and test/e2e/helpers.test.ts proves each catches planted differences.

import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { bjoin, showPath } from './tree.js';
import { reach, releaseLongPaths } from './longpath.js';
import { helperBinary } from './c-helper.js';

// ---------------------------------------------------------------------------------------------------------
// rsync oracle

export interface OracleOptions {
  /** -A (default true). */
  acls?: boolean;
  /** -X (default true). */
  xattrs?: boolean;
  /** --modify-window=-1, i.e. compare mtimes to the nanosecond (default true). */
  nsTimes?: boolean;
  /** -o/-g as root; rsync ignores owners when not root anyway (default true). */
  owners?: boolean;
  /** -H (default true); false for plain -a copies, where hard links become separate files. */
  hardlinks?: boolean;
  /** Extra rsync arguments. */
  extra?: string[];
}

export interface OracleResult {
  code: number;
  /** Itemized lines; empty when dst is an exact copy. */
  lines: string[];
  stderr: string;
  argv: string[];
}

/** `rsync -aHAXn --checksum --itemize-changes --delete --numeric-ids --modify-window=-1 src/ dst/`. */
export function oracle(src: string, dst: string, o: OracleOptions = {}): OracleResult {
  const argv = [
    o.hardlinks === false ? '-an' : '-aHn',
    ...(o.acls === false ? [] : ['-A']),
    ...(o.xattrs === false ? [] : ['-X']),
    ...(o.owners === false ? ['--no-o', '--no-g'] : []),
    '--checksum',
    '--itemize-changes',
    '--delete',
    '--numeric-ids',
    ...(o.nsTimes === false ? [] : ['--modify-window=-1']),
    ...(o.extra ?? []),
    withSlash(src),
    withSlash(dst),
  ];
  const r = spawnSync('rsync', argv, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return {
    code: r.status ?? -1,
    lines: r.stdout.split('\n').filter((l) => l !== ''),
    stderr: r.stderr,
    argv: ['rsync', ...argv],
  };
}

function withSlash(p: string): string {
  return p.endsWith('/') ? p : p + '/';
}

// ---------------------------------------------------------------------------------------------------------
// Independent comparison

export interface Difference {
  /** Path relative to the roots (bytes; empty for the root itself). */
  path: Buffer;
  what: string;
  src?: string;
  dst?: string;
}

export interface CompareOptions {
  /** Compare xattrs other than ACLs (default true). */
  xattrs?: boolean;
  /** Compare system.posix_acl_* (default true). */
  acls?: boolean;
  /** Compare uid/gid (default true). */
  owners?: boolean;
  /** Allowed |mtime difference| in ns (default 0; the node engine gets 1000). */
  mtimeToleranceNs?: number;
  /** Compare mtimes at all (default true). */
  times?: boolean;
  /** Compare hard-link grouping (default true). */
  hardlinks?: boolean;
  /** Compare the roots' own metadata (default true; false when dst root is a pre-existing dir). */
  rootMeta?: boolean;
}

interface Entry {
  rel: Buffer;
  st: fs.BigIntStats;
}

const S_IFMT = 0o170000n;
const S_IFREG = 0o100000n;
const S_IFDIR = 0o040000n;
const S_IFLNK = 0o120000n;
const S_IFCHR = 0o020000n;
const S_IFBLK = 0o060000n;

const key = (b: Buffer): string => b.toString('latin1');

/** Every entry under root (root itself as the empty path), lstat'ed with bigint ns times. */
export function walk(root: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const R = Buffer.from(root);
  const visit = (rel: Buffer): void => {
    // reach(): trees nested beyond PATH_MAX are read through held directory fds.
    const abs = reach(rel.length ? bjoin(R, rel) : R);
    const st = fs.lstatSync(abs, { bigint: true });
    out.set(key(rel), { rel, st });
    if ((st.mode & S_IFMT) === S_IFDIR) {
      for (const name of fs.readdirSync(abs, { encoding: 'buffer' })) visit(rel.length ? bjoin(rel, name) : name);
    }
  };
  visit(Buffer.alloc(0));
  return out;
}

/**
 * All xattrs (incl. system.posix_acl_*) of each path (absolute, or a reach() name), in one run of
 * test/helpers/xattrs.c: name → value as `getfattr -e hex` shows it ("0x…", '' when empty).
 */
export function readXattrsOf(paths: Buffer[]): Map<string, string>[] {
  if (paths.length === 0) return [];
  // Paths go through stdin NUL-separated, so arbitrary bytes survive.
  const input = Buffer.concat(paths.flatMap((p) => [p, Buffer.from([0])]));
  const r = spawnSync(helperBinary('xattrs'), [], { input, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`xattrs failed (${r.status ?? r.signal}): ${r.stderr.toString()}`);
  // Per path: NAME NUL VALUE NUL pairs, then an empty name.
  const fields = r.stdout.toString('latin1').split('\0');
  const out: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  for (let i = 0; out.length < paths.length; ) {
    const name = fields[i++];
    if (name === undefined) throw new Error(`xattrs: output ends after ${out.length} of ${paths.length} paths`);
    if (name === '') {
      out.push(cur);
      cur = new Map();
    } else cur.set(name, fields[i++] ?? '');
  }
  return out;
}

/** All xattrs of every entry `rels` names under root, keyed by key(rel). */
export function readXattrs(root: string, rels: Buffer[]): Map<string, Map<string, string>> {
  const R = Buffer.from(root);
  const found = readXattrsOf(rels.map((r) => reach(r.length ? bjoin(R, r) : R)));
  return new Map(rels.map((r, i) => [key(r), found[i] as Map<string, string>]));
}

function readAll(p: Buffer): Buffer {
  return fs.readFileSync(p);
}

function sameContent(a: Buffer, b: Buffer, size: bigint): boolean {
  if (size <= 16n * 1024n * 1024n) return readAll(a).equals(readAll(b));
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  try {
    const ba = Buffer.alloc(1 << 20);
    const bb = Buffer.alloc(1 << 20);
    for (;;) {
      const na = fs.readSync(fa, ba);
      const nb = fs.readSync(fb, bb);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

const fmtMode = (m: bigint): string => '0' + m.toString(8);
const fmtNs = (ns: bigint): string => {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  return `${neg ? '-' : ''}${a / 1_000_000_000n}.${(a % 1_000_000_000n).toString().padStart(9, '0')}`;
};

/** Compare two trees; returns every difference found (empty: dst is an exact copy of src). */
export function compareTrees(src: string, dst: string, o: CompareOptions = {}): Difference[] {
  return finishCompares([startCompare(src, dst, o)])[0] as Difference[];
}

/** A comparison whose walks and per-entry checks are done and whose xattrs are still to read. */
export interface PendingCompare {
  diffs: Difference[];
  /** The entries whose xattrs are compared, and their names on each side (reach() names). */
  rels: Buffer[];
  inSrc: Buffer[];
  inDst: Buffer[];
  keep: (name: string) => boolean;
}

/**
 * Several comparisons' xattrs read in one run of the helper (a process per comparison, not per tree), the
 * differences of each returned in order. The trees' xattrs must not change between start and finish.
 */
export function finishCompares(pending: PendingCompare[]): Difference[][] {
  const found = readXattrsOf(pending.flatMap((p) => [...p.inSrc, ...p.inDst]));
  let at = 0;
  const out = pending.map((p) => {
    const n = p.rels.length;
    p.rels.forEach((rel, i) => {
      const ma = found[at + i] as Map<string, string>;
      const mb = found[at + n + i] as Map<string, string>;
      for (const name of new Set([...ma.keys(), ...mb.keys()])) {
        if (!p.keep(name)) continue;
        const va = ma.get(name);
        const vb = mb.get(name);
        if (va !== vb) p.diffs.push({ path: rel, what: `xattr ${name}`, src: va ?? '(absent)', dst: vb ?? '(absent)' });
      }
    });
    at += 2 * n;
    return p.diffs;
  });
  releaseLongPaths();
  return out;
}

/** compareTrees() up to its xattrs, which finishCompares() reads (reach() names stay held until then). */
export function startCompare(src: string, dst: string, o: CompareOptions = {}): PendingCompare {
  const opt = { xattrs: true, acls: true, owners: true, mtimeToleranceNs: 0, times: true, hardlinks: true, rootMeta: true, ...o };
  const diffs: Difference[] = [];
  const add = (path: Buffer, what: string, s?: unknown, d?: unknown): void => {
    diffs.push({ path, what, ...(s === undefined ? {} : { src: String(s) }), ...(d === undefined ? {} : { dst: String(d) }) });
  };
  const A = walk(src);
  const B = walk(dst);
  const SB = Buffer.from(src);
  const DB = Buffer.from(dst);
  const absA = (rel: Buffer): Buffer => reach(rel.length ? bjoin(SB, rel) : SB);
  const absB = (rel: Buffer): Buffer => reach(rel.length ? bjoin(DB, rel) : DB);

  for (const [k, b] of B) if (!A.has(k)) add(b.rel, 'extra in dst');

  // Hard-link groups: the set of relative paths sharing an inode, per side.
  const groups = (m: Map<string, Entry>): Map<string, string> => {
    const byIno = new Map<bigint, string[]>();
    for (const [k, e] of m) {
      if ((e.st.mode & S_IFMT) === S_IFDIR || e.st.nlink < 2n) continue;
      const l = byIno.get(e.st.ino) ?? [];
      l.push(k);
      byIno.set(e.st.ino, l);
    }
    const out = new Map<string, string>();
    for (const l of byIno.values()) if (l.length > 1) for (const k of l) out.set(k, l.sort().map((x) => showPath(Buffer.from(x, 'latin1'))).join(' | '));
    return out;
  };
  const gA = opt.hardlinks ? groups(A) : new Map<string, string>();
  const gB = opt.hardlinks ? groups(B) : new Map<string, string>();

  const common: Entry[] = [];
  for (const [k, a] of A) {
    const b = B.get(k);
    if (!b) {
      add(a.rel, 'missing in dst');
      continue;
    }
    common.push(a);
    const isRoot = a.rel.length === 0;
    const ta = a.st.mode & S_IFMT;
    const tb = b.st.mode & S_IFMT;
    if (ta !== tb) {
      add(a.rel, 'type', fmtMode(a.st.mode), fmtMode(b.st.mode));
      continue;
    }
    if (isRoot && !opt.rootMeta) continue;
    // Symlink permission bits are always 0777 on Linux and not settable; compare them anyway (cheap).
    if (a.st.mode !== b.st.mode) add(a.rel, 'mode', fmtMode(a.st.mode), fmtMode(b.st.mode));
    if (opt.owners && (a.st.uid !== b.st.uid || a.st.gid !== b.st.gid)) add(a.rel, 'owner', `${a.st.uid}:${a.st.gid}`, `${b.st.uid}:${b.st.gid}`);
    if (opt.times) {
      const d = a.st.mtimeNs - b.st.mtimeNs;
      if ((d < 0n ? -d : d) > BigInt(opt.mtimeToleranceNs)) add(a.rel, 'mtime', fmtNs(a.st.mtimeNs), fmtNs(b.st.mtimeNs));
    }
    if (ta === S_IFREG) {
      if (a.st.size !== b.st.size) add(a.rel, 'size', a.st.size, b.st.size);
      else if (!sameContent(absA(a.rel), absB(a.rel), a.st.size)) add(a.rel, 'content');
      // Sparse sources must stay sparse: no more blocks than the source.
      if (a.st.blocks * 512n < a.st.size && b.st.blocks > a.st.blocks) add(a.rel, 'sparseness (blocks)', a.st.blocks, b.st.blocks);
    } else if (ta === S_IFLNK) {
      const la = fs.readlinkSync(absA(a.rel), { encoding: 'buffer' });
      const lb = fs.readlinkSync(absB(a.rel), { encoding: 'buffer' });
      if (!la.equals(lb)) add(a.rel, 'symlink target', showPath(la), showPath(lb));
    } else if (ta === S_IFCHR || ta === S_IFBLK) {
      if (a.st.rdev !== b.st.rdev) add(a.rel, 'rdev', a.st.rdev, b.st.rdev);
    }
    if (opt.hardlinks && gA.get(k) !== gB.get(k)) add(a.rel, 'hard-link group', gA.get(k) ?? '(none)', gB.get(k) ?? '(none)');
  }

  const rels = opt.xattrs || opt.acls ? common.filter((e) => opt.rootMeta || e.rel.length > 0).map((e) => e.rel) : [];
  const keep = (name: string): boolean => (name.startsWith('system.posix_acl_') ? opt.acls : opt.xattrs);
  return { diffs, rels, inSrc: rels.map(absA), inDst: rels.map(absB), keep };
}

/** One line per difference, for assertion messages. */
export function formatDiffs(d: Difference[]): string[] {
  return d.map((x) => `${showPath(x.path) || '.'}: ${x.what}${x.src !== undefined || x.dst !== undefined ? ` (src ${x.src ?? '-'}, dst ${x.dst ?? '-'})` : ''}`);
}

/**
 * Leftover temp files (`.<name>.XXXXXX`) anywhere under dst that are not in src. Pass src = null to list
 * every name of that shape.
 */
export function findTempFiles(dst: string, src: string | null = null): string[] {
  const inSrc = src ? walk(src) : new Map<string, Entry>();
  const out: string[] = [];
  for (const [k, e] of walk(dst)) {
    const base = e.rel.subarray(e.rel.lastIndexOf(0x2f) + 1).toString('latin1');
    if (/^\..+\.[A-Za-z0-9]{6}$/s.test(base) && !inSrc.has(k)) out.push(showPath(e.rel));
  }
  return out;
}

/** Inode of every regular file under root, keyed by relative path (for "was it rewritten?" checks). */
export function fileInodes(root: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [k, e] of walk(root)) if ((e.st.mode & S_IFMT) === S_IFREG) out.set(k, e.st.ino);
  return out;
}
