// A no-op pull's shortcut (cli/pull-current.ts): the destination is current only when the planner's own
// quick check finds every entry unchanged, times to the engine's resolution, -H groups one inode, and
// --delete finds no name the list does not have; options it does not judge always take the whole run.

import { expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import { currentDest, judgeable } from '../../../src/cli/pull-current.js';
import type { Config } from '../../../src/model/config.js';
import type { Stat } from '../../../src/model/stat.js';
import type { RemoteEntry } from '../../../src/remote/flist.js';
import type { StagedMeta } from '../../../src/run/staged-source.js';

const config = (...args: string[]): Config => {
  const p = parseArgs(['node', 'arsync', ...args, 'src/', 'dst/']);
  if (p.kind !== 'run') throw new Error('expected a run');
  return { ...p.config, amRoot: 1 };
};

const T = 1_700_000_000;
const entry = (name: string, mode: number, o: Partial<RemoteEntry> = {}): RemoteEntry => ({ name: Buffer.from(name), mode, size: 3, mtime: T, mtimeNsec: 500, uid: 0, gid: 0, topDir: false, ...o });
const list = (): RemoteEntry[] => [
  entry('.', 0o040755, { size: 0 }),
  entry('a', 0o100644),
  entry('d', 0o040700, { size: 0 }),
  entry('d/l', 0o120777, { link: Buffer.from('../a'), size: 4 }),
];
const statOf = (e: RemoteEntry, o: Partial<Stat> = {}): Stat => ({ mode: e.mode, uid: 0, gid: 0, size: e.size, mtimeSec: e.mtime, mtimeNsec: e.mtimeNsec, ino: 1, dev: 1, nlink: 1, rdev: 0, blocks: 0, ...o });
const meta = (e: RemoteEntry): StagedMeta => ({ mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0, size: e.size, mtimeSec: e.mtime, mtimeNsec: e.mtimeNsec });

/** A destination holding the list's entries, each changed by `tweak`. */
function dest(entries: RemoteEntry[], tweak: Record<string, Partial<Stat>> = {}, o: { link?: string; extra?: string } = {}) {
  const by = new Map(entries.map((e) => [e.name.toString(), statOf(e, tweak[e.name.toString()])]));
  return {
    dest: { dir: Buffer.from('/nowhere') },
    entryIn: (rel: string, dir: string, base: string) => {
      // The judgement splits each name once; the split must match the name.
      expect(dir === '.' ? base : `${dir}/${base}`).toBe(rel);
      return by.get(rel);
    },
    readlink: (rel: string) => (rel === 'd/l' ? Buffer.from(o.link ?? '../a') : undefined),
    names: (rel: string) => [...by.keys()].filter((k) => k !== '.' && (rel === '.' ? !k.includes('/') : k.startsWith(`${rel}/`) && !k.slice(rel.length + 1).includes('/'))).map((k) => k.slice(k.lastIndexOf('/') + 1)).concat(o.extra && rel === '.' ? [o.extra] : []),
  };
}

const judge = (c: Config, d: ReturnType<typeof dest>, entries = list(), resolution = 1) => currentDest(c, entries, meta, d, () => resolution);

it('counts the list when every entry is there unchanged', () => {
  expect(judge(config('-a'), dest(list()))).toEqual({ listed: { reg: 1, dir: 2, link: 1, dev: 0, special: 0 }, totalSize: 7 });
});

it('finds a mode, an owner, a group, a size, a time, a type or a target that differs', () => {
  const c = config('-a');
  expect(judge(c, dest(list(), { a: { mode: 0o100600 } }))).toBeUndefined();
  expect(judge(c, dest(list(), { a: { uid: 5 } }))).toBeUndefined();
  expect(judge(c, dest(list(), { a: { gid: 5 } }))).toBeUndefined();
  expect(judge(c, dest(list(), { a: { size: 4 } }))).toBeUndefined();
  expect(judge(c, dest(list(), { d: { mtimeSec: T - 5 } }))).toBeUndefined();
  expect(judge(c, dest(list(), { '.': { mode: 0o040700 } }))).toBeUndefined();
  expect(judge(c, dest(list(), { a: { mode: 0o040755 } }))).toBeUndefined();
  expect(judge(c, dest(list(), {}, { link: '../b' }))).toBeUndefined();
  // What the options do not keep does not count.
  expect(judge(config('-rlt'), dest(list(), { a: { mode: 0o100600, uid: 5 } }))).toBeDefined();
  expect(judge(config('-aO'), dest(list(), { d: { mtimeSec: T - 5 } }))).toBeDefined();
});

it('compares times to the resolution of the engine that would run', () => {
  const c = config('-a');
  const near = dest(list(), { a: { mtimeNsec: 900 } });
  expect(judge(c, near, list(), 1)).toBeUndefined();
  expect(judge(c, near, list(), 1000)).toBeDefined();
  expect(judge(c, dest(list(), { a: { mtimeNsec: 1500 } }), list(), 1000)).toBeUndefined();
  // An engine that cannot say (resolution 0): never current on a near time.
  expect(judge(c, near, list(), 0)).toBeUndefined();
  // --modify-window: whole seconds, whatever the engine.
  expect(judge(config('-a', '--modify-window=1'), dest(list(), { a: { mtimeSec: T + 1 } }), list(), 1)).toBeDefined();
});

it('wants a missing entry, a split -H group and, with --delete, an extraneous name', () => {
  const c = config('-a');
  const missing = dest(list());
  expect(judge(c, { ...missing, entryIn: (rel: string, dir: string, base: string) => (rel === 'd/l' ? undefined : missing.entryIn(rel, dir, base)) })).toBeUndefined();
  const group = [...list(), entry('d/h', 0o100644, { hlinkGroup: 1 })];
  group[1] = { ...group[1]!, hlinkGroup: 1 };
  expect(judge(config('-aH'), dest(group, { 'd/h': { ino: 1 } }), group)).toBeDefined();
  expect(judge(config('-aH'), dest(group, { 'd/h': { ino: 2 } }), group)).toBeUndefined();
  expect(judge(c, dest(list(), {}, { extra: 'old' }))).toBeDefined();
  expect(judge(config('-a', '--delete'), dest(list(), {}, { extra: 'old' }))).toBeUndefined();
  expect(judge(config('-a', '--delete'), dest(list()))).toBeDefined();
});

it('leaves every option it does not judge to the whole run', () => {
  expect(judgeable(config('-a'))).toBe(true);
  expect(judgeable(config('-avi', '--delete', '-n', '--numeric-ids', '-H', '-O', '--size-only'))).toBe(true);
  for (const o of [['-c'], ['-I'], ['-ii'], ['-vv'], ['-u'], ['--existing'], ['--ignore-existing'], ['--exclude=x'], ['-R'], ['--chmod=u+x'], ['--progress'], ['--log-file=/dev/null'], ['--out-format=%n'], ['--link-dest=/x'], ['--max-size=1'], ['-x'], ['--debug=flist'], ['--files-from=/dev/null'], ['-d']]) {
    expect(judgeable(config(...(o[0] === '-d' ? ['-lpt', '-d'] : ['-a', ...o]))), o.join(' ')).toBe(false);
  }
});

it('refuses an entry outside a directory the list sent, and a device', () => {
  const c = config('-a');
  const stray = [entry('.', 0o040755, { size: 0 }), entry('x/y', 0o100644)];
  expect(judge(c, dest(stray), stray)).toBeUndefined();
  const dev = [entry('.', 0o040755, { size: 0 }), entry('n', 0o020644, { size: 0 })];
  expect(judge(c, dest(dev), dev)).toBeUndefined();
});
