// Proves the test helpers themselves: the generator is deterministic and makes what it claims, and both
// judges (the rsync oracle and compareTrees) accept an exact copy made by `cp -a` and catch each kind of
// planted difference (the differential tests rely on compareTrees alone: each difference the oracle
// itemizes, compareTrees reports too). If these fail, no other e2e result means anything.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bjoin, isRoot, makeTree, removeTemps, runShell, sh, shq, tempDir } from '../helpers/tree.js';
import { compareTrees, findTempFiles, formatDiffs, oracle, walk } from '../helpers/compare.js';
import { makeDeepTree, reach, releaseLongPaths } from '../helpers/longpath.js';
import { bytes } from '../helpers/differential.js';

let base: string;
let src: string;

beforeAll(() => {
  base = tempDir('arsync-helpers-');
  src = path.join(base, 'src');
  makeTree(src, { seed: 42, socket: true, files: 200 });
});
afterAll(() => removeTemps());

let n = 0;
/** A fresh `cp -a` copy of src. */
function copy(): string {
  const dst = path.join(base, `cp${n++}`);
  sh(`cp -a ${src} ${dst}`);
  return dst;
}

/** Run fn on p, then put p's mtime back to the ns (so only what fn meant to change differs). */
function keepingMtime(p: Buffer | string, fn: () => void): void {
  const st = fs.lstatSync(p, { bigint: true });
  fn();
  const ns = st.mtimeNs;
  runShell(Buffer.concat([Buffer.from(`touch -h -d @${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')} -- `), shq(p), Buffer.from('\n')]));
}

describe('tree generator', () => {
  it('is deterministic for a seed', () => {
    const other = path.join(base, 'again');
    makeTree(other, { seed: 42, socket: true, files: 200 });
    // Only the absolute symlink into the tree itself may differ (it names its own root).
    const d = compareTrees(src, other, { hardlinks: true });
    expect(formatDiffs(d)).toEqual([expect.stringMatching(/^links\/abs-inside: symlink target/)]);
  });

  it('makes every kind of entry', () => {
    const w = walk(src);
    const kinds = new Set([...w.values()].map((e) => Number(e.st.mode & 0o170000n)));
    const expected = [0o100000, 0o040000, 0o120000, 0o010000, 0o140000, ...(isRoot ? [0o020000, 0o060000] : [])];
    for (const k of expected) expect(kinds, `file type 0${k.toString(8)}`).toContain(k);
    const names = [...w.keys()];
    expect(names).toContain('names/new\nline');
    expect(names).toContain('names/\xff\xfea'); // latin1 key of the raw bytes ff fe 61
    expect(names.some((k) => k.split('/').length > 40)).toBe(true);
    const sparse = fs.statSync(path.join(src, 'sparse/hole-end'));
    expect(sparse.blocks * 512).toBeLessThan(sparse.size);
    const big = fs.lstatSync(path.join(src, 'times/last-ns'), { bigint: true });
    expect(big.mtimeNs % 1_000_000_000n).toBe(999_999_999n);
    expect(fs.statSync(path.join(src, 'hard/g1-a')).nlink).toBe(3);
    expect(fs.statSync(path.join(src, 'modes/setuid')).mode & 0o7777).toBe(0o4755);
    if (isRoot) expect(fs.statSync(path.join(src, 'owners/u1234-g5678')).uid).toBe(1234);
    expect(sh(`getfattr -n user.small --only-values ${src}/sizes/s-4096`)).toBe('value');
    expect(sh(`getfacl -p ${src}/acl/default-dir`)).toMatch(/default:user:1234:rwx/);
  });

  it('bytes() makes the same bytes as ever (its digests under the first, one-division-per-byte version)', () => {
    const sha1 = (b: Buffer): string => crypto.createHash('sha1').update(b).digest('hex');
    expect(sha1(bytes(1 << 20, 7))).toBe('e939ff3756eb11576f9eabbd1532deb2446828c9');
    expect(sha1(bytes(100_000, 0))).toBe('d445ae4f0dc64a0de858372b48287d7c3ada9729');
    expect(sha1(bytes(3 * 1024 * 1024 + 17, 5))).toBe('9b1fa51c737ad0611f8d10b2f6caec0397f957a6');
    expect(sha1(bytes(5000, 3, 4))).toBe('ee14c291b3a15a33a87aee1d120c29c455c175c4');
  });

  it('tmpfs temp dirs support user xattrs and POSIX ACLs (else the trees would silently lack them)', () => {
    expect(sh(`getfattr -d ${src}/empty-dir`)).toMatch(/user\.on-dir/);
    expect(sh(`getfacl -p ${src}/acl/access`)).toMatch(/user:1234:rw-/);
  });
});

describe('judges accept an exact copy', () => {
  it('cp -a: oracle prints nothing, compare finds nothing, no temp files', () => {
    const dst = copy();
    const o = oracle(src, dst);
    expect(o.code, o.stderr).toBe(0);
    expect(o.lines).toEqual([]);
    expect(formatDiffs(compareTrees(src, dst))).toEqual([]);
    expect(findTempFiles(dst, src)).toEqual([]);
  });
});

interface Mutation {
  name: string;
  mutate: (dst: string) => void;
  /** compareTrees difference expected (regexp over formatted lines). */
  compare: RegExp;
  /** Whether rsync's itemized dry run sees it (it does not look at sparseness). */
  oracle: boolean;
  rootOnly?: boolean;
  /** Number of differences compareTrees reports (default 1). */
  count?: number;
}

const mutations: Mutation[] = [
  {
    name: 'one byte of content (same size and mtime)',
    mutate: (d) => {
      const p = path.join(d, 'sizes/s-65537');
      keepingMtime(p, () => {
        const fd = fs.openSync(p, 'r+');
        const b = Buffer.alloc(1);
        fs.readSync(fd, b, 0, 1, 40000);
        b[0] = (b[0] as number) ^ 1;
        fs.writeSync(fd, b, 0, 1, 40000);
        fs.closeSync(fd);
      });
    },
    compare: /^sizes\/s-65537: content$/,
    oracle: true,
  },
  {
    name: 'mtime one nanosecond off',
    mutate: (d) => sh(`touch -h -d @1600000000.000000001 ${d}/times/whole-second`),
    compare: /^times\/whole-second: mtime \(src 1600000000\.000000000, dst 1600000000\.000000001\)/,
    oracle: true,
  },
  {
    name: 'a directory mtime',
    mutate: (d) => sh(`touch -h -d @1500000000.5 ${d}/sparse`),
    compare: /^sparse: mtime/,
    oracle: true,
  },
  {
    name: 'an xattr value',
    mutate: (d) => keepingMtime(`${d}/sizes/s-4096`, () => sh(`setfattr -n user.small -v other ${d}/sizes/s-4096`)),
    compare: /^sizes\/s-4096: xattr user\.small/,
    oracle: true,
  },
  {
    name: 'a missing xattr on a directory',
    mutate: (d) => keepingMtime(`${d}/empty-dir`, () => sh(`setfattr -x user.on-dir ${d}/empty-dir`)),
    compare: /^empty-dir: xattr user\.on-dir \(src 0x646972, dst \(absent\)\)/,
    oracle: true,
  },
  {
    name: 'an ACL entry',
    mutate: (d) => keepingMtime(`${d}/acl/access`, () => sh(`setfacl -x u:1234 ${d}/acl/access`)),
    // Removing the named entries also recomputes the mask, i.e. the group bits of the mode.
    compare: /^acl\/access: xattr system\.posix_acl_access/,
    oracle: true,
    count: 2,
  },
  {
    name: 'a default ACL',
    mutate: (d) => keepingMtime(`${d}/acl/default-only`, () => sh(`setfacl -k ${d}/acl/default-only`)),
    compare: /^acl\/default-only: xattr system\.posix_acl_default/,
    oracle: true,
  },
  {
    name: 'a mode bit (setuid dropped)',
    mutate: (d) => fs.chmodSync(`${d}/modes/setuid`, 0o755),
    compare: /^modes\/setuid: mode \(src 0104755, dst 0100755\)/,
    oracle: true,
  },
  {
    name: 'an owner',
    mutate: (d) => fs.chownSync(`${d}/owners/u1234-g5678`, 1234, 5679),
    compare: /^owners\/u1234-g5678: owner \(src 1234:5678, dst 1234:5679\)/,
    oracle: true,
    rootOnly: true,
  },
  {
    name: 'a broken hard link (same content, mtime, mode)',
    mutate: (d) => keepingMtime(`${d}/hard/sub`, () => sh(`cp -a ${d}/hard/sub/g1-b ${d}/hard/sub/tmp && mv ${d}/hard/sub/tmp ${d}/hard/sub/g1-b`)),
    // Every member of the group is reported (two now form a smaller group, one is alone).
    compare: /^hard\/sub\/g1-b: hard-link group \(src g1-c-at-root \| hard\/g1-a \| hard\/sub\/g1-b, dst \(none\)\)/,
    oracle: true,
    count: 3,
  },
  {
    name: 'a symlink target',
    mutate: (d) =>
      keepingMtime(`${d}/links`, () => {
        fs.unlinkSync(`${d}/links/dangling`);
        fs.symlinkSync('no/such/targeT', `${d}/links/dangling`);
        sh(`touch -h -r ${src}/links/dangling ${d}/links/dangling`);
      }),
    compare: /^links\/dangling: symlink target/,
    oracle: true,
  },
  {
    name: 'a filled hole (sparse file made dense)',
    mutate: (d) => keepingMtime(`${d}/sparse`, () => sh(`cp --sparse=never -p ${d}/sparse/hole-end ${d}/sparse/t && mv ${d}/sparse/t ${d}/sparse/hole-end`)),
    compare: /^sparse\/hole-end: sparseness/,
    oracle: false,
  },
  {
    name: 'an extra file in dst',
    mutate: (d) => keepingMtime(`${d}/names`, () => fs.writeFileSync(`${d}/names/extra`, 'x')),
    compare: /^names\/extra: extra in dst/,
    oracle: true,
  },
  {
    name: 'a missing entry with a non-UTF-8 name',
    mutate: (d) => keepingMtime(`${d}/names`, () => fs.unlinkSync(bjoin(d, Buffer.from('names/\xff\xfea', 'latin1')))),
    compare: /^names\/\\xff\\xfea: missing in dst/,
    oracle: true,
  },
  {
    name: 'a device number',
    mutate: (d) => keepingMtime(`${d}/special`, () => sh(`rm ${d}/special/chr-1-3 && mknod -m 0620 ${d}/special/chr-1-3 c 1 5 && touch -h -r ${src}/special/chr-1-3 ${d}/special/chr-1-3`)),
    compare: /^special\/chr-1-3: rdev/,
    oracle: true,
    rootOnly: true,
  },
];

describe('judges catch planted differences', () => {
  for (const m of mutations) {
    it.skipIf(m.rootOnly && !isRoot)(m.name, () => {
      const dst = copy();
      m.mutate(dst);
      const diffs = formatDiffs(compareTrees(src, dst));
      expect(diffs.length, diffs.join('\n')).toBe(m.count ?? 1);
      expect(diffs.filter((l) => m.compare.test(l)), diffs.join('\n')).toHaveLength(1);
      const o = oracle(src, dst);
      expect(o.code, o.stderr).toBe(0);
      if (m.oracle) expect(o.lines.length, 'rsync must itemize it').toBeGreaterThan(0);
      else expect(o.lines).toEqual([]);
    });
  }

  it('mtime tolerance and the node-engine oracle settings ignore sub-microsecond differences only', () => {
    const dst = copy();
    sh(`touch -h -d @1600000000.000000900 ${dst}/times/whole-second`);
    expect(formatDiffs(compareTrees(src, dst, { mtimeToleranceNs: 1000 }))).toEqual([]);
    expect(oracle(src, dst, { nsTimes: false }).lines).toEqual([]);
    // 1 ns off but across a second boundary (a double-precision rounding of .999999999 can do that): our
    // tolerance accepts it, rsync's second-granularity quick check does not, and would re-copy the file.
    sh(`touch -h -d @1600000001.000000000 ${dst}/times/last-ns`);
    expect(formatDiffs(compareTrees(src, dst, { mtimeToleranceNs: 1000 }))).toEqual([]);
    expect(oracle(src, dst, { nsTimes: false }).lines).toEqual([expect.stringMatching(/times\/last-ns/)]);
    sh(`touch -h -d @1600000000.999998998 ${dst}/times/last-ns`);
    expect(formatDiffs(compareTrees(src, dst, { mtimeToleranceNs: 1000 }))).toEqual([expect.stringMatching(/^times\/last-ns: mtime/)]);
  });

  it('compareTrees reads trees nested beyond PATH_MAX: accepts a twin, catches differences at the bottom', () => {
    // Neither cp -a nor tar nor rsync copies such a tree; the generator is deterministic, so it makes a twin.
    const deep = path.join(base, 'deep');
    const dst = path.join(base, 'deep-twin');
    fs.mkdirSync(deep);
    fs.mkdirSync(dst);
    try {
      const { bottom } = makeDeepTree(deep, 3 * 4096);
      makeDeepTree(dst, 3 * 4096);
      expect(formatDiffs(compareTrees(deep, dst, { rootMeta: false }))).toEqual([]);
      const at = (name: string): Buffer => reach(Buffer.from(`${dst}/${bottom.toString('latin1')}/${name}`, 'latin1'));
      keepingMtime(at('bottom'), () => fs.appendFileSync(at('bottom'), 'x'));
      sh(`setfattr -x user.deep ${at('hard').toString()}`);
      sh(`setfacl -k ${at('empty').toString()}`);
      keepingMtime(at('.'), () => fs.rmSync(at('blink')));
      const diffs = formatDiffs(compareTrees(deep, dst, { rootMeta: false }));
      expect(diffs.map((l) => l.slice(l.lastIndexOf('/') + 1)).sort()).toEqual([
        'blink: missing in dst',
        expect.stringMatching(/^bottom: size \(src 300000, dst 300001\)$/),
        expect.stringMatching(/^bottom: xattr user.deep /),
        expect.stringMatching(/^empty: xattr system.posix_acl_default /),
        expect.stringMatching(/^hard: size/),
        expect.stringMatching(/^hard: xattr user.deep /),
      ]);
    } finally {
      releaseLongPaths();
      sh(`rm -rf ${deep} ${dst}`); // fs.rmSync cannot name such paths
    }
  });

  it('findTempFiles reports leftover .name.XXXXXX files but not source files of that shape', () => {
    const dst = copy();
    fs.writeFileSync(`${dst}/sizes/.s-1.Ab3dE9`, 'partial');
    expect(findTempFiles(dst, src)).toEqual(['sizes/.s-1.Ab3dE9']);
    expect(findTempFiles(dst)).toContain('names/.name.ABCDEF');
  });
});

describe('byte equality (test/helpers/byte-equality.ts)', () => {
  it('toEqual on byte arrays: equal contents pass, one changed byte or length fails, a Buffer is not a Uint8Array', () => {
    const a = Buffer.alloc(3 << 20, 7);
    const b = Buffer.from(a);
    expect(a).toEqual(b);
    expect({ file: [a] }).toStrictEqual({ file: [b] });
    b[(3 << 20) - 1] = 8;
    expect(a).not.toEqual(b);
    expect(a.subarray(1)).not.toEqual(a);
    expect(a.subarray(1, 5)).toEqual(Buffer.alloc(4, 7));
    expect(new Uint8Array([1, 2])).toEqual(new Uint8Array([1, 2]));
    expect(new Uint8Array([1, 2])).not.toEqual(new Uint8Array([1, 3]));
    expect(Buffer.from([1, 2])).not.toEqual(new Uint8Array([1, 2]));
  });
});

// Last in the file: removeTemps() removes every temp dir this file made, the shared tree's included.
describe('removeTemps (test/helpers/tree.ts, run after every test file by temp-cleanup.ts)', () => {
  it.skipIf(!isRoot)('a mount left in a temp dir is unmounted before the dir goes: what it shows is never deleted', () => {
    // Outside any temp dir, so removeTemps() cannot reach it but through the mount.
    const outside = fs.mkdtempSync(path.join(path.dirname(base), 'arsync-helpers-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'kept'), 'kept');
      const d = tempDir('arsync-helpers-mnt-');
      fs.mkdirSync(path.join(d, 'sub', 'mnt'), { recursive: true });
      sh(`mount --bind ${outside} ${d}/sub/mnt`);
      expect(fs.existsSync(path.join(d, 'sub', 'mnt', 'kept')), 'test sanity: the bind mount shows the file').toBe(true);
      removeTemps();
      expect(fs.existsSync(d), 'the temp dir is gone').toBe(false);
      expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(d);
      expect(fs.readFileSync(path.join(outside, 'kept'), 'utf8'), 'the mounted directory\'s file').toBe('kept');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
