// Memory on one wide directory: listing a directory must not cost memory in proportion to its entries
// all at once (the walk reads it through a cursor, a chunk at a time). Peak RSS of a run on 120,000
// empty files in one directory is compared with the same run on 20,000 (enough for the workers, which
// start in the background past 1,024 ops, to be up well before the end: on 2,000 they were not always,
// and their ~30 MB went missing from the baseline), so what Node, the addon and the workers cost anyway
// cancels out. Before the cursor, the growth was
// about 55 MB per 100,000 entries on a no-op re-sync (native engines) and 85 MB on a fresh copy.
// 100,000 entries between the two runs show that growth as clearly as 180,000 did (it is per entry; the
// bounds below are per entry as they were, scaled to 100,000), at about half the run's cost. Measured on
// the session-20 machine, 20,000 -> 100,000 entries grew 8-9 MB (copy) and 0-4 MB (re-sync) on the native
// engines, 17 and 18 MB on the node engine.
// Peak RSS comes from GNU time (wait4's ru_maxrss); no timing is asserted.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { removeTemps, tempDir } from '../helpers/tree.js';

const WIDE = 120_000;
const SMALL = 20_000;

/**
 * Allowed growth in MB from SMALL to WIDE entries (100,000 more). The node engine allocates a Buffer and
 * a Stat per entry as it goes (garbage, but V8 lets it pile up before collecting), so it gets more
 * headroom; its figures before the cursor were 105 MB (copy) and 167 MB (re-sync) per 100,000 entries.
 * (For 180,000 more entries these were 120/25 and 150/200: the same allowance per entry.)
 */
const BOUND = { native: { copy: 67, resync: 14 }, node: { copy: 83, resync: 111 } };

let root = '';

function emptyFiles(dir: string, n: number): void {
  fs.mkdirSync(dir);
  for (let i = 0; i < n; i++) fs.closeSync(fs.openSync(path.join(dir, `f${String(i).padStart(7, '0')}`), 'w'));
}

beforeAll(() => {
  root = tempDir('arsync-wide-mem-');
  emptyFiles(path.join(root, 'small'), SMALL);
  emptyFiles(path.join(root, 'wide'), WIDE);
});
afterAll(() => removeTemps());

/** Runs arsync under GNU time; returns the result and its peak RSS in MB. */
async function measured(args: string[]): Promise<{ r: CliResult; mb: number }> {
  const out = path.join(root, 'rss');
  const r = await runCli(args, { peakRssFile: out, timeoutMs: 300_000 });
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  return { r, mb: Number(lines[lines.length - 1]) / 1024 };
}

describeEngines((e) => {
  const engine = e.name;
  const bound = engine === 'node' ? BOUND.node : BOUND.native;

  /** A fresh copy of `dir` to `dest`, then a re-sync with nothing to do; their peak RSS. */
  async function copyAndResync(dir: string, dest: string): Promise<{ copy: number; resync: number }> {
    const args = ['-a', `--engine=${engine}`, `${path.join(root, dir)}/`, `${path.join(root, dest)}/`];
    const copy = await measured(args);
    expect(copy.r.code, copy.r.stderr).toBe(0);
    const resync = await measured(['-i', ...args]);
    expect(resync.r.code, resync.r.stderr).toBe(0);
    expect(resync.r.stdout).toBe('');
    return { copy: copy.mb, resync: resync.mb };
  }

  it.skipIf(!fs.existsSync('/usr/bin/time'))(`copying and re-syncing ${WIDE.toLocaleString('en-US')} entries in one directory needs little more memory than ${SMALL.toLocaleString('en-US')}`, async () => {
    const small = await copyAndResync('small', `small-${engine}`);
    const wide = await copyAndResync('wide', `wide-${engine}`);
    expect(fs.readdirSync(path.join(root, `wide-${engine}`)).length).toBe(WIDE);
    const growth = { copy: Math.round(wide.copy - small.copy), resync: Math.round(wide.resync - small.resync) };
    expect.soft(growth.copy, `fresh copy: ${wide.copy.toFixed(0)} MB vs ${small.copy.toFixed(0)} MB`).toBeLessThan(bound.copy);
    expect.soft(growth.resync, `re-sync: ${wide.resync.toFixed(0)} MB vs ${small.resync.toFixed(0)} MB`).toBeLessThan(bound.resync);
    fs.rmSync(path.join(root, `wide-${engine}`), { recursive: true, force: true });
  }, 600_000);
});
