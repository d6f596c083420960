// -0/--from0: --files-from, --exclude-from, --include-from and merge files are NUL-separated (so names
// may hold newlines); without it a NUL ends the name on its line, as in rsync. rsync itself is the oracle:
// the same command line must select the same entries.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { walk } from '../helpers/compare.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';

let base: string;
let src: string;

beforeAll(() => {
  base = tempDir('arsync-from0-');
  src = path.join(base, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  for (const name of ['f', 'g', 'a\nb', 'a', 'b', 'semi;x', 'd/inner', 'cr\r']) fs.writeFileSync(path.join(src, name), name);
  const w = (name: string, text: string): void => fs.writeFileSync(path.join(base, name), text, 'latin1');
  w('list0', 'f\0a\nb\0d\0#g\0');
  w('list-nul-no-flag', 'f\0d\0\ng\0x\n');
  w('ex0', 'a\nb\0semi;x\0');
  w('in0', 'a\nb\0d/\0cr\r\0');
  w('merge0', '- a\nb\0- f\0');
  w('ex-nul-no-flag', 'f\0ignored\ng\n');
});
afterAll(() => removeTemps());

const entries = (root: string): string[] => [...walk(root).keys()].filter(Boolean).sort();

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  let n = 0;

  /** Run rsync and arsync with the same options; both must select the same entries. */
  async function sameAsRsync(opts: string[]): Promise<string[]> {
    const tag = `${e.name}-${n++}`;
    const rdst = path.join(base, `r-${tag}`);
    const adst = path.join(base, `a-${tag}`);
    const rs = spawnSync('rsync', [...opts, `${src}/`, `${rdst}/`], { cwd: base, encoding: 'utf8' });
    expect(rs.status, `rsync ${opts.join(' ')}: ${rs.stderr}`).toBe(0);
    const r = await runCli([eng, ...opts, `${src}/`, `${adst}/`], { cwd: base });
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(entries(adst), opts.join(' ')).toEqual(entries(rdst));
    return entries(adst);
  }

  it('-0 --files-from: NUL-separated names, a newline inside a name, comments skipped', async () => {
    const got = await sameAsRsync(['-a', '-0', '--files-from=list0']);
    expect(got).toContain('a\nb');
    expect(got).not.toContain('g');
  });

  it('--from0 with --files-from=- reads stdin the same way', async () => {
    const dst = path.join(base, `stdin-${e.name}`);
    const r = spawnSync('sh', ['-c', `"$0" "$@" < list0`, process.execPath, path.resolve('dist/bin.js'), eng, '-a', '--from0', '--files-from=-', `${src}/`, `${dst}/`], { cwd: base, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(entries(dst)).toEqual(['a\nb', 'd', 'f']);
  });

  it('without -0, a NUL-separated --files-from is read as rsync does (a NUL ends the name), no internal error', async () => {
    await sameAsRsync(['-a', '--files-from=list-nul-no-flag']);
  });

  it('-0 --exclude-from, --include-from and a merge file are NUL-separated', async () => {
    expect(await sameAsRsync(['-a', '-0', '--exclude-from=ex0'])).not.toContain('a\nb');
    await sameAsRsync(['-a', '-0', '--include-from=in0', '--exclude=*']);
    expect(await sameAsRsync(['-a', '-0', '--filter=merge merge0'])).not.toContain('f');
  });

  it('without -0 a NUL in an --exclude-from line ends the rule there', async () => {
    expect(await sameAsRsync(['-a', '--exclude-from=ex-nul-no-flag'])).not.toContain('f');
  });
});
