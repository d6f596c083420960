// What the operands mean: rsync's trailing-slash rule, single files, several sources, a destination that
// does not exist yet, and the refusals (a directory into itself, a file onto itself) that must happen
// before anything is written.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeSmallTree, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';

let base: string;
let src: string;
let other: string;

beforeAll(() => {
  base = tempDir('arsync-operands-');
  src = path.join(base, 'src');
  makeSmallTree(src, 3);
  other = path.join(base, 'other');
  makeSmallTree(other, 4);
});
afterAll(() => removeTemps());

/** A frozen copy of a tree, to prove later that nothing in it changed. */
function snapshot(dir: string): string {
  const snap = path.join(base, `snap-${path.basename(dir)}-${Math.random().toString(36).slice(2, 8)}`);
  sh(`cp -a '${dir}' '${snap}'`);
  return snap;
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const out = (name: string): string => path.join(base, `${name}-${e.name}`);

  it('src/ copies the contents of src into dst', async () => {
    const dst = out('slash');
    const r = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(src, dst, e.name, { withXattrs: false });
  });

  it('src (no slash) copies the directory itself into dst', async () => {
    const dst = out('noslash');
    fs.mkdirSync(dst);
    const r = await runCli(['-a', eng, src, dst]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.readdirSync(dst)).toEqual(['src']);
    expectExactCopy(src, path.join(dst, 'src'), e.name, { withXattrs: false });
  });

  it('creates a missing destination directory', async () => {
    const dst = path.join(out('missing'), 'new');
    fs.mkdirSync(path.dirname(dst));
    const r = await runCli(['-a', eng, `${src}/`, dst]);
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(src, dst, e.name, { withXattrs: false });
  });

  it('copies a single file into an existing directory, and to a new name', async () => {
    const file = fs.readdirSync(path.join(src, 'bulk')).find((n) => fs.lstatSync(path.join(src, 'bulk', n)).isFile());
    expect(file).toBeDefined();
    const from = path.join(src, 'bulk', file as string);
    const dir = out('single');
    fs.mkdirSync(dir);
    let r = await runCli(['-a', eng, from, `${dir}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.readdirSync(dir)).toEqual([file]);
    expect(fs.readFileSync(path.join(dir, file as string)).equals(fs.readFileSync(from))).toBe(true);
    const dt = fs.statSync(path.join(dir, file as string), { bigint: true }).mtimeNs - fs.statSync(from, { bigint: true }).mtimeNs;
    expect(Number(dt < 0n ? -dt : dt)).toBeLessThanOrEqual(fidelity(e.name).mtimeToleranceNs);

    const renamed = path.join(dir, 'renamed');
    r = await runCli(['-a', eng, from, renamed]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.lstatSync(renamed).isFile()).toBe(true);
    expect(fs.readFileSync(renamed).equals(fs.readFileSync(from))).toBe(true);
  });

  it('copies several sources into one destination (each by the slash rule)', async () => {
    const dst = out('multi');
    const r = await runCli(['-a', eng, src, `${other}/`, dst]);
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(src, path.join(dst, 'src'), e.name, { withXattrs: false });
    // other/'s contents land at the top of dst, beside src/: compare them entry by entry.
    const diffs = formatDiffs(compareTrees(path.join(other, 'bulk'), path.join(dst, 'bulk'), { xattrs: false, acls: false, mtimeToleranceNs: e.name === 'node' ? 1000 : 0 }));
    expect(diffs).toEqual([]);
  });

  it('refuses to copy a directory into itself, before writing anything', async () => {
    const snap = snapshot(src);
    for (const args of [[`${src}/`, `${src}/sub/`], [src, `${src}/`], [`${src}/`, `${src}/bulk/deeper`]]) {
      const r = await runCli(['-a', eng, ...args]);
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr, show(r)).toMatch(/itself|inside|into/i);
      expect(formatDiffs(compareTrees(snap, src, { rootMeta: true })), `after ${args.join(' ')}`).toEqual([]);
    }
  });

  it('a file onto itself changes nothing', async () => {
    const f = path.join(base, `self-${e.name}`);
    fs.writeFileSync(f, 'keep me');
    const before = fs.statSync(f, { bigint: true });
    const r = await runCli(['-a', eng, f, f]);
    // DESIGN §3.6 says refuse (exit 1); rsync itself treats it as an up-to-date no-op (exit 0). Either way
    // the file must be untouched.
    expect([0, 1], show(r)).toContain(r.code);
    if (r.code === 1) expect(r.stderr, show(r)).toMatch(/same/i);
    const after = fs.statSync(f, { bigint: true });
    expect(fs.readFileSync(f, 'utf8')).toBe('keep me');
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeNs).toBe(before.mtimeNs);
    expect(fs.readdirSync(base).filter((n) => n.startsWith(`.self-${e.name}.`))).toEqual([]);
  });
});
