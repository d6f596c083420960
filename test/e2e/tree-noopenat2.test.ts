// The native tree pre-pass (scanTree) and the pair cursor resolve destination and source directories
// beneath their roots with the one helper of native/beneath.c: openat2 where the kernel has it, the
// O_NOFOLLOW component walk where it does not. Without openat2 (seccomp, test/helpers/noopenat2.py) the
// scan must give the very same answer, and still refuse a destination path through a planted symlink or
// `..`, instead of failing (which made the CLI walk everything) or following it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ADDON, REPO } from '../helpers/cli.js';
import { removeTemps, tempDir } from '../helpers/tree.js';

afterAll(() => removeTemps());

const addon = process.env['ARSYNC_TEST_ADDON'] ?? ADDON;

/** Runs scanTree and pairOpen/pairNext in a child node, with or without openat2, and returns what they gave. */
function scan(root: string, noOpenat2: boolean): unknown {
  const script = `
    const a = require(process.argv[1]);
    const root = process.argv[2];
    const ctx = a.createContext({ engine: 'sync', destRoot: Buffer.from(root + '/d'), flags: 0, umask: 0o22,
      counters: new BigInt64Array(new SharedArrayBuffer(8 * 24)) });
    const q = Float64Array.of(1 | 16, 0, 1, 2, 100);
    const split = (b) => b && b.toString('latin1').split('\\0').filter(Boolean);
    const t = a.scanTree(ctx, Buffer.from(root + '/s'), Buffer.from(''), q);
    const tree = t.errno ? t : { dirty: t.dirty.map((d) => [d.rel.toString(), split(d.names), split(d.extra)]), counts: Array.from(t.counts) };
    const k = a.pairOpen(ctx, Buffer.from(root + '/s/a'), Buffer.from('a'), Float64Array.of(1, 0, 1));
    const n = k.errno ? k : a.pairNext(k, 100, false);
    const pair = n.errno ? n : [split(n.names), split(n.extra), Array.from(n.collapsed), n.destErrno];
    const e = a.scanTree(ctx, Buffer.from(root + '/s/a/evil'), Buffer.from('a/evil'), q);
    const up = a.scanTree(ctx, Buffer.from(root + '/s/a'), Buffer.from('a/../..'), q);
    console.log(JSON.stringify({ tree, pair, planted: e.errno ? 'refused' : 'followed', dotdot: up.errno ? 'refused' : 'followed' }));`;
  const argv = [process.execPath, '-e', script, addon, root];
  const r = noOpenat2
    ? spawnSync('python3', [path.join(REPO, 'test', 'helpers', 'noopenat2.py'), ...argv], { encoding: 'utf8' })
    : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe.skipIf(!fs.existsSync(addon) || !['x64', 'arm64'].includes(process.arch))('native scans without openat2', () => {
  it('scanTree and the pair cursor answer as with openat2, and refuse a planted symlink and ..', () => {
    const root = tempDir('arsync-noopenat2-');
    for (const d of ['s/a/b', 's/a/evil', 's/c', 'd/a/b', 'd/c']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.writeFileSync(path.join(root, 's/a/f'), 'same');
    fs.writeFileSync(path.join(root, 's/a/b/g'), 'new');
    fs.writeFileSync(path.join(root, 's/c/h'), 'changed');
    fs.writeFileSync(path.join(root, 'd/a/f'), 'same');
    fs.writeFileSync(path.join(root, 'd/c/h'), 'old');
    fs.writeFileSync(path.join(root, 'd/c/extra'), 'x');
    const t = new Date('2020-01-01T00:00:00Z');
    for (const f of ['s/a/f', 'd/a/f']) fs.utimesSync(path.join(root, f), t, t);
    fs.symlinkSync('/etc', path.join(root, 'd/a/evil'));

    const withIt = scan(root, false);
    const without = scan(root, true);
    expect(without).toEqual(withIt);
    expect(withIt).toMatchObject({ planted: 'refused', dotdot: 'refused', tree: { dirty: expect.any(Array) } });
  });
});
