// The member of a -H group a pull asks for its data under (cli/pull-stage.ts groupLeads), where the
// destination holds a non-directory at a listed directory's name: rsync's generator fails the stat of
// every member below it, so none of them leads; under -K a symlink there blocks unless it leads to a
// directory.

import { expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import { groupLeads } from '../../../src/cli/pull-stage.js';
import type { Config } from '../../../src/model/config.js';
import type { Stat } from '../../../src/model/stat.js';
import type { RemoteEntry } from '../../../src/remote/flist.js';

const config = (...args: string[]): Config => {
  const p = parseArgs(['node', 'arsync', ...args, 'src/', 'dst/']);
  if (p.kind !== 'run') throw new Error('expected a run');
  return p.config;
};

const T = 1_700_000_000;
const entry = (name: string, mode: number, o: Partial<RemoteEntry> = {}): RemoteEntry => ({ name: Buffer.from(name), mode, size: 3, mtime: T, mtimeNsec: 0, uid: 0, gid: 0, topDir: false, ...o });
const DIR = 0o040755;
const REG = 0o100644;
const LINK = 0o120777;
const stat = (mode: number): Stat => ({ mode, uid: 0, gid: 0, size: 3, mtimeSec: T, mtimeNsec: 0, ino: 1, dev: 1, nlink: 1, rdev: 0, blocks: 0 });

/** c/ and k/ listed; group 1 all below c/ (c/f2, c/f3), group 2 reaching out of it (c/f1, k/h1). */
const list = (): RemoteEntry[] => [
  entry('.', DIR),
  entry('c', DIR),
  entry('k', DIR),
  entry('c/f1', REG, { hlinkGroup: 2 }),
  entry('c/f2', REG, { hlinkGroup: 1 }),
  entry('c/f3', REG, { hlinkGroup: 1 }),
  entry('k/h1', REG, { hlinkGroup: 2 }),
];

/** A destination with `k/` and `c` as `cMode` (a link leading to a directory when `toDir`). */
const dest = (cMode: number, toDir = false) => ({
  entry: (rel: string): Stat | undefined => (rel === 'k' ? stat(DIR) : rel === 'c' ? stat(cMode) : undefined),
  leadsToDir: (rel: string): boolean => rel === 'c' && toDir,
});

const leads = (c: Config, d: ReturnType<typeof dest>) =>
  [...groupLeads(list(), c, d, 0, () => false)].map(([g, l]) => [g, l.entry.name.toString()]);

it('passes over the members below a file at a directory\'s name: a member elsewhere leads, or none', () => {
  // Group 2 under k/h1 (not its first member); group 1 has no lead at all, so it is not in the map.
  expect(leads(config('-aH', '--ignore-existing'), dest(REG))).toEqual([[2, 'k/h1']]);
});

it('takes the members below a directory as before: the last of each group the destination lacks', () => {
  expect(leads(config('-aH', '--ignore-existing'), dest(DIR))).toEqual([
    [2, 'k/h1'],
    [1, 'c/f3'],
  ]);
  // Without --ignore-existing a file there is replaced by the directory: nothing is blocked.
  expect(leads(config('-aH'), dest(REG))).toEqual([
    [2, 'k/h1'],
    [1, 'c/f3'],
  ]);
});

it('-K: a symlink there blocks unless it leads to a directory', () => {
  expect(leads(config('-aHK', '--ignore-existing'), dest(LINK))).toEqual([[2, 'k/h1']]);
  expect(leads(config('-aHK', '--ignore-existing'), dest(LINK, true))).toEqual([
    [2, 'k/h1'],
    [1, 'c/f3'],
  ]);
  // Without -K a symlink is a non-directory like any other.
  expect(leads(config('-aH', '--ignore-existing'), dest(LINK, true))).toEqual([[2, 'k/h1']]);
});
