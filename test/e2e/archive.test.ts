// The core promise: `arsync -aHAX src/ dst/` makes an exact copy of a tree with every kind of entry, on
// every engine, judged by rsync's own itemized dry run and by an independent whole-tree comparison.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTree, removeTemps, tempDir } from '../helpers/tree.js';
import { fileInodes } from '../helpers/compare.js';
import { REPO, archiveFlags, runCli, show } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';

let base: string;
let full: string;
let bulk: string;

beforeAll(() => {
  base = tempDir('arsync-archive-');
  full = path.join(base, 'full');
  makeTree(full, { seed: 2024 });
  bulk = path.join(base, 'bulk');
  makeTree(bulk, { seed: 99, catalogue: false, files: 3000, maxFileSize: 300_000 });
});
afterAll(() => removeTemps());

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  // One copy serves both: the first run's exact result is the complete destination of the second.
  it(`${archiveFlags(e.name).join(' ')} copies the full catalogue tree exactly; a second run over it is a no-op: nothing rewritten (same inodes), still exact`, async () => {
    const dst = path.join(base, `full-${e.name}`);
    const r = await runCli([...archiveFlags(e.name), eng, `${full}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr, show(r)).toBe('');
    expectExactCopy(full, dst, e.name);
    const before = fileInodes(dst);
    const again = await runCli([...archiveFlags(e.name), eng, `${full}/`, `${dst}/`]);
    expect(again.code, show(again)).toBe(0);
    const after = fileInodes(dst);
    const rewritten = [...before].filter(([k, ino]) => after.get(k) !== ino).map(([k]) => k);
    expect(rewritten, 'files rewritten by a no-op re-sync').toEqual([]);
    expectExactCopy(full, dst, e.name);
  });

  it('copies the README example tree exactly', async () => {
    const example = path.join(REPO, 'example');
    const dst = path.join(base, `example-${e.name}`);
    const r = await runCli(['-a', eng, `${example}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(example, dst, e.name, { withXattrs: false });
  });

  it('plain -a (no -H) copies hard links as separate files, otherwise exactly', async () => {
    const dst = path.join(base, `plain-${e.name}`);
    const r = await runCli(['-a', eng, `${full}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(full, dst, e.name, { noHardlinks: true, withXattrs: false });
    expect(fs.statSync(path.join(dst, 'hard/g1-a')).nlink).toBe(1);
  });

  it(`${archiveFlags(e.name).join(' ')} copies a bulk tree of 3000 files exactly`, async () => {
    const dst = path.join(base, `bulk-${e.name}`);
    const r = await runCli([...archiveFlags(e.name), eng, `${bulk}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(bulk, dst, e.name);
  });

  it('copies a unix socket (rsync -a does, as a special file)', async () => {
    const src = path.join(base, `sock-src-${e.name}`);
    makeTree(src, { seed: 5, catalogue: false, socket: false, files: 3 });
    const s = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path.join(src, 'sock'))}, () => process.exit(0))`]);
    expect(s.status).toBe(0);
    const dst = path.join(base, `sock-dst-${e.name}`);
    const r = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.lstatSync(path.join(dst, 'sock')).isSocket()).toBe(true);
    expectExactCopy(src, dst, e.name, { withXattrs: false });
  });

  if (e.name === 'node') {
    it('refuses -X and -A with exit 1 and says they need the native addon', async () => {
      for (const flag of ['-X', '-A']) {
        const dst = path.join(base, `refused${flag}`);
        const r = await runCli(['-a', flag, eng, `${full}/`, `${dst}/`]);
        expect(r.code, show(r)).toBe(1);
        expect(r.stderr).toMatch(/native addon/);
        expect(fs.existsSync(dst), 'nothing written before refusing').toBe(false);
      }
    });
  }
});
