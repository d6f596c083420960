// The quick check is written twice: in TypeScript (src/plan/quickcheck.ts, what the planner decides for
// each entry it sees) and in C (native/quickcheck.c, which the pair cursor and the tree scan use to leave
// unchanged entries out before they ever reach the planner). This test builds one small tree of
// source/destination pairs that differ in one way each and asks both: an entry the native pair cursor
// (pairOpen) leaves out, or a directory scanTree finds clean, must be exactly one the TypeScript quick
// check calls 'none', under each set of options. The options reach both sides as a run derives them
// (parseArgs, then src/run/spec.ts), so the options→query rule has one copy.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeLstat } from '../../src/engine/node-walk.js';
import { PairBits, pairChunk } from '../../src/engine/pair.js';
import { COUNTER_SLOTS } from '../../src/model/ops.js';
import type { EngineContext } from '../../src/engine/types.js';
import { type Stat, fileType } from '../../src/model/stat.js';
import { quickCheck } from '../../src/plan/quickcheck.js';
import { parseArgs } from '../../src/cli/options.js';
import { syncContext } from '../helpers/sync-context.js';
import { engineNamed } from '../../src/engine/engine.js';
import type { Config, EngineName } from '../../src/model/config.js';
import { deriveSpec, type RunSpec } from '../../src/run/spec.js';
import { addonOrReason, holdSharedLock } from './engines.js';

const T0 = 1_700_000_000;

/** One pair: how the source entry `e` is made, and how its destination twin differs. */
interface Case {
  name: string;
  make(src: string, dst: string): void;
}

const touch = (p: string, sec: number, nsec = 0): void => {
  execFileSync('touch', ['-h', '-d', `@${sec}.${String(nsec).padStart(9, '0')}`, p]);
};

/** A regular file on both sides, equal but for what `change` does to the destination. */
function file(name: string, change: (d: string) => void = () => {}, data = 'same data'): Case {
  return {
    name,
    make(s, d) {
      for (const p of [s, d]) {
        fs.writeFileSync(p, data);
        fs.chmodSync(p, 0o644);
        touch(p, T0, 123_456_789);
      }
      change(d);
    },
  };
}

function link(name: string, change: (d: string) => void = () => {}): Case {
  return {
    name,
    make(s, d) {
      for (const p of [s, d]) {
        fs.symlinkSync('target', p);
        touch(p, T0, 5);
      }
      change(d);
    },
  };
}

function fifo(name: string, change: (d: string) => void = () => {}): Case {
  return {
    name,
    make(s, d) {
      for (const p of [s, d]) {
        execFileSync('mkfifo', ['-m', '644', p]);
        touch(p, T0, 5);
      }
      change(d);
    },
  };
}

function dir(name: string, change: (d: string) => void = () => {}): Case {
  return {
    name,
    make(s, d) {
      for (const p of [s, d]) {
        fs.mkdirSync(p);
        fs.chmodSync(p, 0o755);
        touch(p, T0, 5);
      }
      change(d);
    },
  };
}

const CASES: Case[] = [
  file('reg-same'),
  file('reg-size', (d) => {
    fs.writeFileSync(d, 'other size!');
    touch(d, T0, 123_456_789);
  }),
  file('reg-mtime-1ns', (d) => touch(d, T0, 123_456_790)),
  file('reg-mtime-500ns', (d) => touch(d, T0, 123_457_289)),
  file('reg-mtime-2us', (d) => touch(d, T0, 123_458_789)),
  file('reg-mtime-1s', (d) => touch(d, T0 - 1, 123_456_789)),
  file('reg-mtime-3s', (d) => touch(d, T0 - 3, 123_456_789)),
  file('reg-dest-newer', (d) => touch(d, T0 + 10, 0)),
  file('reg-mode', (d) => fs.chmodSync(d, 0o600)),
  file('reg-uid', (d) => fs.chownSync(d, 12345, fs.statSync(d).gid)),
  file('reg-gid', (d) => fs.chownSync(d, fs.statSync(d).uid, 12345)),
  {
    name: 'reg-hardlinked',
    make(s, d) {
      file('').make(s, d);
      fs.linkSync(s, `${s}-2`);
      fs.linkSync(d, `${d}-2`);
    },
  },
  {
    name: 'reg-vs-dir',
    make(s, d) {
      fs.writeFileSync(s, 'x');
      fs.mkdirSync(d);
    },
  },
  link('link-same'),
  link('link-target', (d) => {
    fs.unlinkSync(d);
    fs.symlinkSync('elsewhere', d);
    touch(d, T0, 5);
  }),
  link('link-mtime-1s', (d) => touch(d, T0 + 1, 5)),
  link('link-uid', (d) => fs.lchownSync(d, 12345, fs.lstatSync(d).gid)),
  fifo('fifo-same'),
  fifo('fifo-mode', (d) => fs.chmodSync(d, 0o600)),
  fifo('fifo-mtime-500ns', (d) => touch(d, T0, 505)),
  fifo('fifo-mtime-1s', (d) => touch(d, T0 + 1, 5)),
  dir('dir-same'),
  dir('dir-mode', (d) => fs.chmodSync(d, 0o700)),
  dir('dir-mtime-1s', (d) => touch(d, T0 + 1, 5)),
  dir('dir-gid', (d) => fs.chownSync(d, fs.statSync(d).uid, 12345)),
];

/**
 * A set of options, as the operator gives them, and the engine whose time resolution the check uses.
 * The CheckOptions and both native queries come from src/run/spec.ts (deriveSpec, pairQuery, treeQuery),
 * the one copy of the options→query rule, through the CLI's parseArgs: this test holds no copy of it.
 */
interface OptionSet {
  name: string;
  args: string[];
  engine?: EngineName;
}

const SETS: OptionSet[] = [
  { name: '-a', args: ['-a'] },
  { name: '-rlD (no -p -t -o -g)', args: ['-rlD'] },
  { name: '-rltD (no -p -o -g)', args: ['-rltD'] },
  { name: '-a -O', args: ['-a', '-O'] },
  { name: '-a, microsecond resolution (node engine)', args: ['-a'], engine: 'node' },
  { name: '-a --modify-window=2', args: ['-a', '--modify-window=2'] },
  { name: '-a -u', args: ['-a', '-u'] },
  { name: '-aH', args: ['-aH'] },
  { name: '-a -c', args: ['-a', '-c'] },
  { name: '-a --size-only', args: ['-a', '--size-only'] },
  { name: '-a -I', args: ['-a', '-I'] },
];

/** What the run derives from a set of options: its Config and its RunSpec (check options, queries). */
function derive(o: OptionSet): { c: Config; spec: RunSpec } {
  const p = parseArgs(['node', 'arsync', ...o.args, 'src/', 'dst/']);
  if (p.kind !== 'run') throw new Error(`${o.args.join(' ')}: not a run`);
  const spec = deriveSpec(p.config, {
    engine: engineNamed(o.engine ?? 'sync'),
    destRoot: Buffer.from('dst'),
    backupDir: undefined,
    counters: new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS)),
    seesEveryEntry: false,
  });
  return { c: p.config, spec };
}

function lstat(p: string): Stat {
  const st = nodeLstat(Buffer.from(p));
  if ('errno' in st) throw new Error(`lstat ${p}: ${st.errno}`);
  return st;
}

/** What the planner decides for one case: 'none' means the native side may leave it out. */
function verdict(o: OptionSet, s: string, d: string): string {
  const { c, spec } = derive(o);
  const st = lstat(s);
  const dt = lstat(d);
  const isDir = fileType(st.mode) === 'dir';
  const check = isDir ? spec.dirCheck : spec.check;
  const linkDiffers = fileType(st.mode) === 'link' && fileType(dt.mode) === 'link' && fs.readlinkSync(s) !== fs.readlinkSync(d);
  const v = quickCheck(st, dt, check, linkDiffers).action;
  // -H: every member of a hard-link group goes to the planner, which picks the group's leader.
  return v === 'none' && c.hardLinks && !isDir && st.nlink > 1 ? 'none, but a hard-link group member' : v;
}

const addon = addonOrReason();

describe.skipIf(typeof addon === 'string')(`quick check: src/plan/quickcheck.ts = native pairOpen/scanTree${typeof addon === 'string' ? ` (skipped: ${addon})` : ''}`, () => {
  let base: string;
  let ctx: EngineContext;
  let release: (() => void) | undefined;
  const src = (...p: string[]): string => join(base, 'src', ...p);
  const dst = (...p: string[]): string => join(base, 'dst', ...p);

  beforeAll(async () => {
    release = await holdSharedLock();
    base = fs.mkdtempSync(join(fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'arsync-qc-'));
    // src/flat and dst/flat hold every case as one entry (the pair cursor's view); src/tree/<case>/e and
    // dst/tree/<case>/e hold each in a directory of its own (scanTree's view: that directory is dirty).
    for (const side of [src, dst]) {
      fs.mkdirSync(side('flat'), { recursive: true });
      fs.mkdirSync(side('tree'));
      for (const k of CASES) fs.mkdirSync(side('tree', k.name));
    }
    for (const k of CASES) {
      k.make(src('flat', k.name), dst('flat', k.name));
      k.make(src('tree', k.name, 'e'), dst('tree', k.name, 'e'));
    }
    // The directories around the cases are equal on both sides (mode, owner, ns mtime), last.
    for (const side of [src, dst]) {
      for (const k of CASES) touch(side('tree', k.name), T0, 0);
      touch(side('tree'), T0, 0);
    }
    ctx = syncContext(dst());
  });

  afterAll(() => {
    ctx?.close();
    if (base) fs.rmSync(base, { recursive: true, force: true });
    release?.();
  });

  /** The names the native pair cursor leaves out of src/flat (what it found unchanged). */
  function leftOut(o: OptionSet): Set<string> {
    const cursor = ctx.openPair(Buffer.from(src('flat')), Buffer.from('flat'), derive(o).spec.pairQuery);
    if ('errno' in cursor) throw new Error(`pairOpen: ${cursor.errno} ${cursor.syscall}`);
    const seen = new Set<string>();
    try {
      for (;;) {
        const step = cursor.next(pairChunk(), false);
        for (const e of step.listing.entries) seen.add(e.name.toString());
        if (step.done) break;
      }
    } finally {
      cursor.close();
    }
    return new Set(fs.readdirSync(src('flat')).filter((n) => !seen.has(n)));
  }

  /** The case directories scanTree finds dirty. */
  function dirtyDirs(o: OptionSet): Set<string> {
    const q = derive(o).spec.treeQuery;
    if (q === undefined) throw new Error(`${o.name}: no tree query`);
    const r = ctx.scanTree!(Buffer.from(src('tree')), Buffer.from('tree'), q);
    if ('errno' in r) throw new Error(`scanTree: ${r.errno} ${r.syscall}`);
    return new Set(r.dirty.map((d) => d.rel.toString()));
  }

  for (const o of SETS) {
    describe(o.name, () => {
      it('pairOpen leaves out a regular file or symlink exactly when quickCheck says none', () => {
        const out = leftOut(o);
        const collapse = (derive(o).spec.pairQuery[0]! & PairBits.Collapse) !== 0;
        const rows = CASES.filter((k) => ['reg', 'link'].includes(fileType(lstat(src('flat', k.name)).mode))).map((k) => {
          const v = verdict(o, src('flat', k.name), dst('flat', k.name));
          return `${k.name}: quickCheck ${v}, native ${out.has(k.name) ? 'left out' : 'listed'}`;
        });
        const expected = rows.map((r) => r.replace(/native .*/, (collapse && / none,/.test(r) && !/group member/.test(r) ? 'native left out' : 'native listed')));
        expect(rows).toEqual(expected);
        // Directories and specials always reach the planner.
        for (const k of CASES) if (/^(dir|fifo)-/.test(k.name)) expect(out.has(k.name), k.name).toBe(false);
      });

      // scanTree runs only when unchanged entries may be left out (treeQuery says when).
      it.skipIf(derive(o).spec.treeQuery === undefined)('scanTree finds a directory dirty exactly when quickCheck says its entry needs something', () => {
        const dirty = dirtyDirs(o);
        const rows = CASES.map((k) => {
          const v = verdict(o, src('tree', k.name, 'e'), dst('tree', k.name, 'e'));
          return `${k.name}: quickCheck ${v}, scanTree ${dirty.has(k.name) ? 'dirty' : 'clean'}`;
        });
        const expected = rows.map((r) => {
          const clean = / none,/.test(r) && !/group member/.test(r);
          return r.replace(/scanTree .*/, clean ? 'scanTree clean' : 'scanTree dirty');
        });
        expect(rows).toEqual(expected);
        expect(dirty.has(''), 'the tree root itself is clean').toBe(false);
      });
    });
  }
});
