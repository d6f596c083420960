// The direct path's File ops (native/direct.c, asked for through pairDirect, or of scanTree's dirty
// listings) against the ops the TypeScript planner's way encodes for the same entries
// (src/engine/batch.ts BatchWriter.add with the walk's joinPath names and the listing's stat): byte for
// byte the same, and only for the entries the direct path may take (a regular file without a destination
// twin, below `big`, one link under -H; asked with `changed` under the collapsing quick check, also one
// whose twin is a regular file of one link with another size or mtime).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriter } from '../../src/engine/batch.js';
import { syncContext } from '../helpers/sync-context.js';
import type { PairCursor } from '../../src/engine/pair.js';
import type { EngineContext } from '../../src/engine/types.js';
import type { DirectRequest, PairEntry } from '../../src/model/listing.js';
import { OpKind } from '../../src/model/ops.js';
import { S_IFMT, S_IFREG } from '../../src/model/stat.js';
import { joinPath } from '../../src/util/names.js';
import { addonOrReason, holdSharedLock } from './engines.js';

const addon = addonOrReason();
const B = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Every chunk of a cursor: its entries (names), its direct ops, and the largest chunk seen. */
function drain(cursor: PairCursor | { errno: number; syscall: string }, max: number): { entries: PairEntry[]; ops: Buffer; count: number; bytes: number; replaced: number; widest: number } {
  if ('errno' in cursor) throw new Error(`pairOpen: ${cursor.errno} ${cursor.syscall}`);
  const entries: PairEntry[] = [];
  const ops: Buffer[] = [];
  let count = 0;
  let bytes = 0;
  let replaced = 0;
  let widest = 0;
  try {
    for (;;) {
      const step = cursor.next(max, false);
      const l = step.listing;
      entries.push(...l.entries);
      if (l.direct) {
        ops.push(Buffer.from(l.direct.ops));
        count += l.direct.count;
        bytes += l.direct.bytes;
        replaced += l.direct.replaced;
      }
      widest = Math.max(widest, l.entries.length + l.extras.length + (l.direct?.count ?? 0));
      if (step.done) break;
    }
  } finally {
    cursor.close();
  }
  return { entries, ops: Buffer.concat(ops), count, bytes, replaced, widest };
}

describe.skipIf(typeof addon === 'string')(`direct path: native/direct.c = engine/batch.ts${typeof addon === 'string' ? ` (skipped: ${addon})` : ''}`, () => {
  let base: string;
  let ctx: EngineContext;
  let release: (() => void) | undefined;
  const src = (...p: string[]): string => join(base, 'src', ...p);

  beforeAll(async () => {
    release = await holdSharedLock();
    base = fs.mkdtempSync(join(fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'arsync-direct-'));
    fs.mkdirSync(src(), { recursive: true });
    fs.mkdirSync(join(base, 'dst', 'twins'), { recursive: true });
    // Regular files of several sizes, modes, owners and nanosecond times; one over `big`; a hard link
    // pair; a name that is not UTF-8; a symlink, a FIFO and a directory (never direct).
    for (let i = 0; i < 23; i++) {
      const f = src(`f${String(i).padStart(2, '0')}`);
      fs.writeFileSync(f, Buffer.alloc(i * 97, i));
      fs.chmodSync(f, i % 2 ? 0o600 : 0o755);
      fs.chownSync(f, 1000 + i, 2000 + i);
      fs.utimesSync(f, 1_600_000_000 + i, 1_600_000_000.125 + i);
    }
    fs.writeFileSync(src('big'), Buffer.alloc(5000, 1));
    fs.writeFileSync(src('h1'), 'linked');
    fs.linkSync(src('h1'), src('h2'));
    fs.writeFileSync(Buffer.concat([B(src()), B('/n\xff\xfe')]), 'odd name');
    fs.symlinkSync('f01', src('link'));
    execFileSync('mkfifo', [src('fifo')]);
    fs.mkdirSync(src('sub'));
    // The destination has twins of some of them: those stay entries (but for `changed`, below).
    for (const n of ['f03', 'f04', 'link']) fs.writeFileSync(join(base, 'dst', 'twins', n), 'old');
    // `changed`: f05 current (collapsed), f06 the same size with another mtime and f07 another size
    // (replaced), f08 only its mode differing (an entry: attributes), f09 one of two links and f10 a
    // directory (entries: the planner's), h1 replaced under no -H but an entry under -H.
    const twin = (n: string): string => join(base, 'dst', 'twins', n);
    fs.copyFileSync(src('f05'), twin('f05'));
    fs.copyFileSync(src('f06'), twin('f06'));
    fs.copyFileSync(src('f07'), twin('f07'));
    fs.copyFileSync(src('f08'), twin('f08'));
    fs.copyFileSync(src('f09'), twin('f09'));
    fs.writeFileSync(twin('f07'), 'other size');
    fs.linkSync(twin('f09'), twin('f09-link'));
    fs.writeFileSync(twin('f09'), 'other');
    fs.mkdirSync(twin('f10'));
    fs.writeFileSync(twin('h1'), 'linked, but older');
    for (const n of ['f05', 'f06', 'f07', 'f08', 'f09']) {
      const st = fs.statSync(src(n));
      fs.chownSync(twin(n), st.uid, st.gid);
      fs.chmodSync(twin(n), st.mode & 0o7777);
      fs.utimesSync(twin(n), st.atime, st.mtime);
    }
    fs.utimesSync(twin('f06'), 1_500_000_000, 1_500_000_000);
    fs.chmodSync(twin('f08'), 0o604);
    ctx = syncContext(join(base, 'dst'));
  });

  afterAll(() => {
    ctx?.close();
    if (base) fs.rmSync(base, { recursive: true, force: true });
    release?.();
  });

  const query = new Float64Array([0, 0, 1]);

  /** What the direct path must take of these entries under request r (regular, no twin, small, one link under -H). */
  const takes = (e: PairEntry, r: DirectRequest): boolean =>
    e.st !== null && (e.st.mode & S_IFMT) === S_IFREG && e.dest === undefined && e.st.size < r.big && !(r.hardLinks && e.st.nlink > 1);

  for (const [title, dir, destRel, r] of [
    ['a fresh directory, -H', () => src(), null, { rel: B('a/b'), anchor: 7, big: 4096, hardLinks: true, changed: false }],
    ['a fresh directory named with a trailing slash, into the root, no -H', () => `${src()}/`, null, { rel: B(''), anchor: 0, big: 1e15, hardLinks: false, changed: false }],
    ['a destination directory holding some twins', () => src(), B('twins'), { rel: B('twins'), anchor: 3, big: 4096, hardLinks: false, changed: false }],
  ] as const) {
    it(`${title}: the ops are BatchWriter's for exactly the entries it may take`, () => {
      const srcDir = B(dir());
      const plain = drain(ctx.openPair(srcDir, destRel, query), 4096);
      const cursor = ctx.openPair(srcDir, destRel, query);
      if ('errno' in cursor) throw new Error(`pairOpen: ${cursor.errno}`);
      cursor.direct!(r);
      const direct = drain(cursor, 4096);

      const expected = new BatchWriter();
      let bytes = 0;
      const left: string[] = [];
      for (const e of plain.entries) {
        if (takes(e, r)) {
          expected.add(OpKind.File, joinPath(srcDir, e.name), joinPath(r.rel, e.name), e.st!, 0, r.anchor);
          bytes += e.st!.size;
        } else left.push(e.name.toString('latin1'));
      }
      const taken = expected.count;
      const want = Buffer.from(expected.finish());
      expect(direct.count).toBe(taken);
      expect(direct.ops.equals(want), 'the encoded ops differ from BatchWriter').toBe(true);
      expect(direct.bytes).toBe(bytes);
      expect(direct.entries.map((e) => e.name.toString('latin1'))).toEqual(left);
      // Whatever it may not take is still an entry: the symlink, the FIFO, the directory, a twin's name.
      for (const n of ['link', 'fifo', 'sub']) expect(left).toContain(n);
      if (r.hardLinks) expect(left).toEqual(expect.arrayContaining(['h1', 'h2', 'big']));
      if (destRel) expect(left).toEqual(expect.arrayContaining(['f03', 'f04']));
      expect(direct.count).toBeGreaterThan(15);
    });
  }

  it('direct ops count toward the chunk size, so a chunk never holds more than max', () => {
    const cursor = ctx.openPair(B(src()), null, query);
    if ('errno' in cursor) throw new Error(`pairOpen: ${cursor.errno}`);
    cursor.direct!({ rel: B(''), anchor: 0, big: 1e15, hardLinks: false, changed: false });
    const d = drain(cursor, 4);
    expect(d.widest).toBeLessThanOrEqual(4);
    expect(d.count + d.entries.length).toBe(fs.readdirSync(src()).length);
  });
  /** The collapsing quick check with -p, -g, -t: what a plain re-sync's cursor is asked (run/spec.ts pairQuery). */
  const collapsing = new Float64Array([1 | 2 | 8 | 16, 0, 1]);
  /** What `changed` must take of an entry the collapsing cursor hands on: another size or mtime over a regular file of one link. */
  const replaces = (e: PairEntry, r: DirectRequest): boolean => {
    const d = e.dest;
    if (!e.st || !d || (e.st.mode & S_IFMT) !== S_IFREG || (d.mode & S_IFMT) !== S_IFREG || d.nlink !== 1) return false;
    if (e.st.size >= r.big || (r.hardLinks && e.st.nlink > 1)) return false;
    return e.st.size !== d.size || e.st.mtimeSec !== d.mtimeSec || e.st.mtimeNsec !== d.mtimeNsec;
  };

  for (const hardLinks of [false, true]) {
    it(`changed${hardLinks ? ', -H' : ''}: new files and files replacing one of other data are ops, in name order; the rest stay entries`, () => {
      const srcDir = B(src());
      const r: DirectRequest = { rel: B('twins'), anchor: 5, big: 4096, hardLinks, changed: true };
      const plain = drain(ctx.openPair(srcDir, B('twins'), collapsing), 4096);
      const cursor = ctx.openPair(srcDir, B('twins'), collapsing);
      if ('errno' in cursor) throw new Error(`pairOpen: ${cursor.errno}`);
      cursor.direct!(r);
      const direct = drain(cursor, 4096);

      const expected = new BatchWriter();
      let bytes = 0;
      let replaced = 0;
      const left: string[] = [];
      for (const e of plain.entries) {
        const over = replaces(e, r);
        if (takes(e, r) || over) {
          expected.add(OpKind.File, joinPath(srcDir, e.name), joinPath(r.rel, e.name), e.st!, 0, r.anchor);
          bytes += e.st!.size;
          if (over) replaced++;
        } else left.push(e.name.toString('latin1'));
      }
      const taken = expected.count;
      expect(direct.ops.equals(Buffer.from(expected.finish())), 'the encoded ops differ from BatchWriter').toBe(true);
      expect(direct.count).toBe(taken);
      expect(direct.bytes).toBe(bytes);
      expect(direct.replaced).toBe(replaced);
      expect(direct.entries.map((e) => e.name.toString('latin1'))).toEqual(left);
      // Replaced: the twins of other data, a size or a time; h1 only without -H (its source has two links).
      expect(replaced).toBe(hardLinks ? 4 : 5);
      const names = new Set(plain.entries.filter((e) => replaces(e, r)).map((e) => e.name.toString('latin1')));
      expect([...names].sort()).toEqual(hardLinks ? ['f03', 'f04', 'f06', 'f07'] : ['f03', 'f04', 'f06', 'f07', 'h1']);
      // Not replaced: the attributes-only twin, one of two links, a directory in the file's place.
      expect(left).toEqual(expect.arrayContaining(['f08', 'f09', 'f10', 'link', 'fifo', 'sub']));
      // Collapsed, as without the direct path.
      expect(left).not.toContain('f05');
    });
  }

  it('changed, under a quick check that does not collapse (-c, -I, --size-only...): no file replaces one the direct way', () => {
    const cursor = ctx.openPair(B(src()), B('twins'), query);
    if ('errno' in cursor) throw new Error(`pairOpen: ${cursor.errno}`);
    cursor.direct!({ rel: B('twins'), anchor: 0, big: 4096, hardLinks: false, changed: true });
    const d = drain(cursor, 4096);
    expect(d.replaced).toBe(0);
    expect(d.entries.map((e) => e.name.toString('latin1'))).toEqual(expect.arrayContaining(['f03', 'f04', 'f06', 'f07']));
  });

  it("the tree scan's dirty listings hold the cursor's ops for the same directory, and each directory's own lstat", () => {
    const tree = join(base, 'tree');
    fs.mkdirSync(join(tree, 'src'), { recursive: true });
    fs.mkdirSync(join(tree, 'dst'));
    execFileSync('cp', ['-a', src(), join(tree, 'src', 'twins')]);
    execFileSync('cp', ['-a', join(base, 'dst', 'twins'), join(tree, 'dst', 'twins')]);
    const tctx = syncContext(join(tree, 'dst'));
    try {
      const srcRoot = B(join(tree, 'src'));
      const r: DirectRequest = { rel: B('twins'), anchor: 4, big: 4096, hardLinks: false, changed: true };
      const q = Float64Array.of(1 | 2 | 8 | 16 | 128, 0, 1, 2, 4096, 0, 2, r.anchor, r.big, 0);
      const scan = tctx.scanTree!(srcRoot, B(''), q);
      if ('errno' in scan) throw new Error(`scanTree: ${scan.errno}`);
      const dirty = scan.dirty.find((d) => d.rel.toString() === 'twins');
      expect(dirty?.pair?.direct).toBeDefined();
      const cursor = tctx.openPair(joinPath(srcRoot, B('twins')), B('twins'), collapsing);
      if ('errno' in cursor) throw new Error(`pairOpen: ${cursor.errno}`);
      cursor.direct!(r);
      const want = drain(cursor, 4096);
      const got = dirty!.pair!.direct!;
      expect(Buffer.from(got.ops).equals(want.ops), "the scan's ops differ from the cursor's").toBe(true);
      expect([got.count, got.bytes, got.replaced]).toEqual([want.count, want.bytes, want.replaced]);
      expect(got.replaced).toBeGreaterThan(0);
      expect(dirty!.pair!.entries.map((e) => e.name.toString('latin1'))).toEqual(want.entries.map((e) => e.name.toString('latin1')));
      // The directory's own lstat, as the walk would take it.
      const st = fs.lstatSync(join(tree, 'src', 'twins'));
      expect([dirty!.self?.ino, dirty!.self?.mode, dirty!.self?.mtimeSec]).toEqual([st.ino, st.mode, Math.floor(st.mtimeMs / 1000)]);
      // Without the direct path's numbers: entries, as before.
      const plain = tctx.scanTree!(srcRoot, B(''), q.subarray(0, 6));
      if ('errno' in plain) throw new Error(`scanTree: ${plain.errno}`);
      expect(plain.dirty.find((d) => d.rel.toString() === 'twins')?.pair?.direct).toBeUndefined();
    } finally {
      tctx.close();
    }
  });
});
