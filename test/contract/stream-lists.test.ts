// A local no-op's byte figures from scanTree's record of the source's lists (native/streamlist.c, each
// list counted by native/flistenc.c into a counter of rsync's 64 KiB multiplexed output) against the same
// figures from the TypeScript walk and encoder (run/stream-list.ts, remote/flist-send.ts FlistEncoder,
// run/stream-out.ts MuxCounter): the same bytes sent, received and listed, for trees whose sizes turn on
// readdir order, rsync's list order, shared name prefixes past 255 bytes, owners, times and frames cut
// at 64 KiB. That both are rsync's own figures is test/e2e/stream-bytes.test.ts (rsync is the oracle).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/options.js';
import { selectEngine } from '../../src/engine/index.js';
import type { Engine } from '../../src/engine/engine.js';
import type { EngineContext } from '../../src/engine/types.js';
import { pairChunk } from '../../src/engine/pair.js';
import type { RecordedLists } from '../../src/model/listing.js';
import type { RunTotals } from '../../src/model/run-totals.js';
import { streamTotals } from '../../src/run/stream-totals.js';
import { syncContext } from '../helpers/sync-context.js';
import { addonOrReason, holdSharedLock } from './engines.js';

const addon = addonOrReason();
const zero = { reg: 0, dir: 0, link: 0, dev: 0, special: 0 };
/** A run that changed nothing (what stream-totals.ts asks of the totals it works the figures out for). */
const quiet = { ops: 0, created: zero, deleted: zero, ioErrors: 0, vanished: 0, errors: [] } as unknown as RunTotals;

describe.skipIf(typeof addon === 'string')(`byte figures: scanTree's recorded lists = the TypeScript walk${typeof addon === 'string' ? ` (skipped: ${addon})` : ''}`, () => {
  let base: string;
  let ctx: EngineContext;
  let engine: Engine;
  let release: (() => void) | undefined;
  const src = (...p: string[]): string => join(base, 'src', ...p);

  beforeAll(async () => {
    release = await holdSharedLock();
    base = fs.mkdtempSync(join(fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'arsync-streamlists-'));
    const w = (rel: string, data = rel): void => {
      fs.mkdirSync(join(src(rel), '..'), { recursive: true });
      fs.writeFileSync(src(rel), data);
    };
    // "mixed": names that sort differently as files and as directories, nested lists, prefixes shared
    // past 255 bytes, symlinks, a FIFO, devices, owners, nanosecond times and one past 2038, sizes of several bytes.
    for (const f of ['a/f', 'a-b/g', 'a.b', 'a0/x', 'b', 'dir/c', 'dir/sub/d', 'dir/sub/deeper/e', 'dir.x/e', 'same-prefix-1', 'same-prefix-2']) w(`mixed/${f}`);
    fs.mkdirSync(src('mixed', 'empty'));
    w(`mixed/${'x'.repeat(250)}/${'y'.repeat(240)}`);
    w(`mixed/${'x'.repeat(250)}/${'y'.repeat(240)}z`);
    w(`mixed/long/${'n'.repeat(255)}`);
    fs.writeFileSync(Buffer.from(src('mixed', 'latin-\xe9\xff'), 'latin1'), 'bytes');
    fs.symlinkSync('dir/c', src('mixed', 'ln'));
    fs.symlinkSync('../nowhere/at/all', src('mixed', 'dir', 'dangling'));
    execFileSync('mkfifo', [src('mixed', 'fifo')]);
    if (process.getuid?.() === 0) {
      execFileSync('mknod', [src('mixed', 'null'), 'c', '1', '3']);
      execFileSync('mknod', [src('mixed', 'dir', 'blk'), 'b', '7', '200']);
      fs.chownSync(src('mixed', 'b'), 65534, 65534);
      fs.chownSync(src('mixed', 'dir', 'c'), 7, 0);
      fs.chownSync(src('mixed', 'dir', 'sub'), 4242, 4343); // ids with no name
    }
    fs.chmodSync(src('mixed', 'a.b'), 0o600);
    fs.utimesSync(src('mixed', 'dir', 'c'), 1_600_000_000.123456, 1_600_000_000.123456);
    fs.utimesSync(src('mixed', 'b'), -100, 5_000_000_000);
    fs.truncateSync(src('mixed', 'same-prefix-2'), 300_000);
    // "wide": one directory whose list spans several 64 KiB frames, names created out of order (so
    // readdir's order is not the sorted one), every other file with its own mtime.
    fs.mkdirSync(src('wide'));
    for (let i = 0; i < 9000; i++) {
      const p = src('wide', `file-${(i * 7919) % 9000}-${'p'.repeat(i % 23)}`);
      fs.writeFileSync(p, '');
      if (i % 2) fs.utimesSync(p, 1_700_000_000 + i, 1_700_000_000 + i);
    }
    // The destination: a copy with every time and owner (a no-op re-sync).
    execFileSync('cp', ['-a', src(), join(base, 'dst')]);
    ctx = syncContext(join(base, 'dst'));
    engine = selectEngine('sync') as Engine;
  });

  afterAll(() => {
    ctx?.close();
    if (base) fs.rmSync(base, { recursive: true, force: true });
    release?.();
  });

  /**
   * scanTree's record of src/<tree> against dst/<tree>. The query's bits only decide which directories
   * are dirty (here the ones with a symlink or a special file, which this query does not leave out);
   * every directory is recorded, dirty or clean.
   */
  function recorded(tree: string): RecordedLists {
    const q = Float64Array.of(1, 0, 1, 2, pairChunk(), 1);
    const r = ctx.scanTree!(Buffer.from(src(tree)), Buffer.from(tree), q);
    if ('errno' in r) throw new Error(`scanTree: ${r.errno} ${r.syscall}`);
    expect(r.lists).toBeDefined();
    return r.lists!;
  }

  it.each([
    ['mixed', ['-av'], '/'],
    ['mixed', ['-av'], ''],
    ['mixed', ['-rlptgoDv', '--numeric-ids'], '/'],
    ['mixed', ['-rv'], '/'],
    ['mixed', ['-rtv', '--devices', '--specials'], ''],
    ['mixed', ['-av'], '/.'],
    ['wide', ['-av'], '/'],
    ['wide', ['-av'], ''],
    // -L, -k, --copy-unsafe-links: a tree without symlinks is listed as recorded.
    ['wide', ['-avL'], '/'],
    ['wide', ['-avk'], ''],
    ['wide', ['-av', '--copy-unsafe-links'], '/'],
  ])('%s %s, operand ending "%s": the same figures', (tree, opts, tail) => {
    // "tree/." is sent as "tree/" is (its entries in the first list).
    const asDot = tail !== '';
    const dest = asDot ? join(base, 'dst', tree) : join(base, 'dst');
    const parsed = parseArgs(['node', 'arsync', ...opts, `${src(tree)}${tail}`, `${dest}/`]);
    if (parsed.kind !== 'run') throw new Error(parsed.kind);
    const c = parsed.config;
    const walked = streamTotals(c, quiet, engine);
    const lists = recorded(tree);
    let calls = 0;
    const counted = { order: lists.order, links: lists.links, count: (...a: Parameters<RecordedLists['count']>): number => (calls++, lists.count(...a)) };
    const fromRecord = streamTotals(c, { ...quiet, lists: counted }, engine);
    expect(walked).toBeDefined();
    expect(fromRecord).toEqual(walked);
    // Every list came from the record: one call per directory, and one for "dir" itself.
    expect(calls).toBe(lists.order.length / 3 + (asDot ? 0 : 1));
    if (tree === 'wide') expect(walked!.listBytes).toBeGreaterThan(2 * 65536);
  });

  it.each([['-avL'], ['-avk'], ['-av', '--copy-unsafe-links']])('mixed %s: a tree with symlinks is walked, not taken from the record', (...opts) => {
    const parsed = parseArgs(['node', 'arsync', ...opts, `${src('mixed')}/`, `${join(base, 'dst')}/`]);
    if (parsed.kind !== 'run') throw new Error(parsed.kind);
    const lists = recorded('mixed');
    expect(lists.links).toBe(2);
    let calls = 0;
    const counted = { order: lists.order, links: lists.links, count: (...a: Parameters<RecordedLists['count']>): number => (calls++, lists.count(...a)) };
    const walked = streamTotals(parsed.config, quiet, engine);
    expect(streamTotals(parsed.config, { ...quiet, lists: counted }, engine)).toEqual(walked);
    expect(calls).toBe(0);
  });

  it('records nothing when a directory of the source has no twin to scan', () => {
    fs.mkdirSync(src('mixed', 'new-dir'));
    try {
      const q = Float64Array.of(1, 0, 1, 2, pairChunk(), 1);
      const r = ctx.scanTree!(Buffer.from(src('mixed')), Buffer.from('mixed'), q);
      if ('errno' in r) throw new Error(`scanTree: ${r.errno} ${r.syscall}`);
      expect(r.dirty.map((d) => d.rel.toString())).toContain('');
      expect(r.lists).toBeUndefined();
    } finally {
      fs.rmdirSync(src('mixed', 'new-dir'));
    }
  });

  it('records nothing unless asked (five numbers in the query)', () => {
    const r = ctx.scanTree!(Buffer.from(src('wide')), Buffer.from('wide'), Float64Array.of(1, 0, 1, 2, pairChunk()));
    if ('errno' in r) throw new Error(`scanTree: ${r.errno} ${r.syscall}`);
    expect(r.lists).toBeUndefined();
  });
});
