// A no-op pull's judgement is written twice: in TypeScript (cli/pull-current.ts's loop over PullDest,
// the node engine's way) and in C (native/listcurrent.c, the native engines' way). This test gives both
// the same received list and the same real destination tree, unchanged and then changed in one way at a
// time, under several option sets, and asks for the same verdict from both (and the verdict expected:
// current only when nothing would be done).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/options.js';
import { currentDest, type NativeCurrent } from '../../src/cli/pull-current.js';
import { PullDest } from '../../src/cli/pull-dest.js';
import { selectEngine } from '../../src/engine/index.js';
import { loadAddon } from '../../src/engine/native.js';
import type { Config } from '../../src/model/config.js';
import { sortAndClean, type RemoteEntry } from '../../src/remote/flist.js';
import type { StagedMeta } from '../../src/run/staged-source.js';

const addon = loadAddon();
const native: NativeCurrent | undefined = addon.ok && addon.addon.listCurrent ? addon.addon.listCurrent.bind(addon.addon) : undefined;

let root: string;
let src: string;
let n = 0;

const STAMP = '1700000000.123456789';
const touch = (p: string, stamp: string): void => void execFileSync('touch', ['-h', '-d', `@${stamp}`, p]);

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-pullcurrent-'));
  src = path.join(root, 'src');
  const w = (rel: string, data: string, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
    fs.chmodSync(path.join(src, rel), mode);
  };
  w('a', 'aaa');
  w('b.txt', 'bee', 0o600);
  w('d/x', 'x in d');
  w('d/e/deep', 'deep', 0o755);
  w('d-z/y', 'sorted after d/');
  fs.mkdirSync(path.join(src, 'empty'));
  fs.symlinkSync('../a', path.join(src, 'd', 'l'));
  fs.linkSync(path.join(src, 'a'), path.join(src, 'd', 'hl'));
  execFileSync('find', [src, '-exec', 'touch', '-h', '-d', `@${STAMP}`, '{}', '+']);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The list rsync's sender would send for `src/` (with -H its groups, as the receiver numbers them), sorted as received. */
function listOf(dir: string, hardLinks: boolean): (RemoteEntry | undefined)[] {
  const out: RemoteEntry[] = [];
  const inodes = new Map<number, number>();
  const add = (rel: string): void => {
    const st = fs.lstatSync(path.join(dir, rel), { bigint: true });
    const mode = Number(st.mode);
    const e: RemoteEntry = {
      name: Buffer.from(rel), mode, size: st.isFile() ? Number(st.size) : 0,
      mtime: Number(st.mtimeNs / 1_000_000_000n), mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
      uid: Number(st.uid), gid: Number(st.gid), topDir: rel === '.',
    };
    if (st.isSymbolicLink()) e.link = fs.readlinkSync(path.join(dir, rel), { encoding: 'buffer' });
    if (hardLinks && st.isFile() && st.nlink > 1n) {
      const first = inodes.get(Number(st.ino));
      e.hlinkGroup = first ?? out.length;
      if (first === undefined) inodes.set(Number(st.ino), out.length);
    }
    out.push(e);
    if (st.isDirectory()) for (const name of fs.readdirSync(path.join(dir, rel))) add(rel === '.' ? name : `${rel}/${name}`);
  };
  add('.');
  return sortAndClean(out);
}

const meta = (e: RemoteEntry): StagedMeta => ({ mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0, size: e.link ? e.link.length : e.size, mtimeSec: e.mtime, mtimeNsec: e.mtimeNsec });

function config(args: string[], dest: string): Config {
  const p = parseArgs(['node', 'arsync', ...args, 'host:src/', `${dest}/`]);
  if (p.kind !== 'remote-pull') throw new Error(`expected a pull: ${p.kind}`);
  return { ...p.pull.config, amRoot: 1 };
}

/** Both verdicts on a copy of the source changed by `change`: [TypeScript's, C's], each true for "current". */
function verdicts(args: string[], change: (dst: string) => void): [boolean, boolean] {
  const dst = path.join(root, `dst-${n++}`);
  execFileSync('cp', ['-a', `${src}/.`, dst]);
  change(dst);
  const c = config(args, dst);
  const entries = listOf(src, c.hardLinks);
  const engine = selectEngine('sync', [Buffer.from(dst)]);
  if ('error' in engine) throw new Error(engine.error);
  const judge = (withC: boolean): boolean => {
    const dest = new PullDest({ dir: Buffer.from(dst) }, (at, anchor) => engine.scanDir(at, anchor));
    try {
      return currentDest(c, entries, meta, dest, () => 1, withC ? native : undefined) !== undefined;
    } finally {
      dest.close();
    }
  };
  const both: [boolean, boolean] = [judge(false), judge(true)];
  fs.rmSync(dst, { recursive: true, force: true });
  return both;
}

const CHANGES: [string, (d: string) => void, { current: string[] }][] = [
  ['nothing', () => {}, { current: ['-a', '-aH', '-a --delete', '-rlpt', '-a -O'] }],
  ['a file one nanosecond newer', (d) => touch(path.join(d, 'b.txt'), '1700000000.123456790'), { current: [] }],
  ['a file of another size, same time', (d) => {
    fs.appendFileSync(path.join(d, 'd', 'x'), '!');
    touch(path.join(d, 'd', 'x'), STAMP);
  }, { current: [] }],
  ['a file\'s mode', (d) => fs.chmodSync(path.join(d, 'a'), 0o640), { current: [] }],
  ['a file\'s group', (d) => fs.chownSync(path.join(d, 'b.txt'), 0, 1), { current: ['-rlpt'] }],
  ['a directory\'s time', (d) => touch(path.join(d, 'd', 'e'), '1600000000'), { current: ['-a -O'] }],
  ['a directory\'s mode', (d) => fs.chmodSync(path.join(d, 'empty'), 0o700), { current: [] }],
  ['a symlink\'s target', (d) => {
    fs.unlinkSync(path.join(d, 'd', 'l'));
    fs.symlinkSync('../b', path.join(d, 'd', 'l'));
    touch(path.join(d, 'd', 'l'), STAMP);
  }, { current: [] }],
  ['a file where a symlink was', (d) => {
    fs.unlinkSync(path.join(d, 'd', 'l'));
    fs.writeFileSync(path.join(d, 'd', 'l'), '../a');
  }, { current: [] }],
  ['a missing file', (d) => fs.unlinkSync(path.join(d, 'd-z', 'y')), { current: [] }],
  // (Each change below that adds or removes a name puts its directory's time back, so that only the
  // name itself differs.)
  ['an extra file deep down', (d) => {
    fs.writeFileSync(path.join(d, 'd', 'e', 'extra'), 'x');
    touch(path.join(d, 'd', 'e'), STAMP);
  }, { current: ['-a', '-aH', '-rlpt', '-a -O'] }],
  ['an extra file at the top', (d) => {
    fs.writeFileSync(path.join(d, 'zz'), 'x');
    touch(d, STAMP);
  }, { current: ['-a', '-aH', '-rlpt', '-a -O'] }],
  ['a hard link split', (d) => {
    fs.unlinkSync(path.join(d, 'd', 'hl'));
    fs.copyFileSync(path.join(d, 'a'), path.join(d, 'd', 'hl'));
    touch(path.join(d, 'd', 'hl'), STAMP);
    fs.chmodSync(path.join(d, 'd', 'hl'), 0o644);
    touch(path.join(d, 'd'), STAMP);
  }, { current: ['-a', '-a --delete', '-rlpt', '-a -O'] }],
  // --munge-links: the stage writes every target munged, so a destination whose links are munged is
  // current under it, and only then.
  ['the symlink munged', (d) => {
    fs.unlinkSync(path.join(d, 'd', 'l'));
    fs.symlinkSync('/rsyncd-munged/../a', path.join(d, 'd', 'l'));
    touch(path.join(d, 'd', 'l'), STAMP);
    touch(path.join(d, 'd'), STAMP);
  }, { current: ['-a --munge-links'] }],
  ['a symlink planted for a directory (to an identical tree)', (d) => {
    fs.renameSync(path.join(d, 'd'), path.join(d, '..', `${path.basename(d)}-moved`));
    fs.symlinkSync(path.join(d, '..', `${path.basename(d)}-moved`), path.join(d, 'd'));
  }, { current: [] }],
];

describe.skipIf(!native)('no-op pull judgement: TypeScript and C agree', () => {
  for (const [label, change, want] of CHANGES) {
    for (const args of ['-a', '-aH', '-a --delete', '-rlpt', '-a -O', '-a --munge-links']) {
      it(`${label}, ${args}`, () => {
        const [ts, c] = verdicts(args.split(' '), change);
        expect(c, 'C against TypeScript').toBe(ts);
        expect(ts, 'current').toBe(want.current.includes(args));
      });
    }
  }
});
