// The direct path's File ops (native/direct.c, asked for through pairDirect) against the ops the
// TypeScript planner's way encodes for the same entries (src/engine/batch.ts BatchWriter.add with the
// walk's joinPath names and the listing's stat): byte for byte the same, and only for the entries the
// direct path may take (a regular file without a destination twin, below `big`, one link under -H).

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
function drain(cursor: PairCursor | { errno: number; syscall: string }, max: number): { entries: PairEntry[]; ops: Buffer; count: number; bytes: number; widest: number } {
  if ('errno' in cursor) throw new Error(`pairOpen: ${cursor.errno} ${cursor.syscall}`);
  const entries: PairEntry[] = [];
  const ops: Buffer[] = [];
  let count = 0;
  let bytes = 0;
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
      }
      widest = Math.max(widest, l.entries.length + l.extras.length + (l.direct?.count ?? 0));
      if (step.done) break;
    }
  } finally {
    cursor.close();
  }
  return { entries, ops: Buffer.concat(ops), count, bytes, widest };
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
    // The destination has twins of some of them: those stay entries.
    for (const n of ['f03', 'f04', 'link']) fs.writeFileSync(join(base, 'dst', 'twins', n), 'old');
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
    ['a fresh directory, -H', () => src(), null, { rel: B('a/b'), anchor: 7, big: 4096, hardLinks: true }],
    ['a fresh directory named with a trailing slash, into the root, no -H', () => `${src()}/`, null, { rel: B(''), anchor: 0, big: 1e15, hardLinks: false }],
    ['a destination directory holding some twins', () => src(), B('twins'), { rel: B('twins'), anchor: 3, big: 4096, hardLinks: false }],
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
    cursor.direct!({ rel: B(''), anchor: 0, big: 1e15, hardLinks: false });
    const d = drain(cursor, 4);
    expect(d.widest).toBeLessThanOrEqual(4);
    expect(d.count + d.entries.length).toBe(fs.readdirSync(src()).length);
  });
});
