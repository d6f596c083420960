// What the CLI prints: -v lists files, -q prints nothing, --stats prints rsync's summary, and the progress
// displays do not break output when stdout is not a terminal (as in CI logs and cron mail).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTemps, sh, tempDir } from '../helpers/tree.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';

let base: string;
let src: string;
const sizes = { 'a.txt': 1000, 'b.bin': 70_000, 'sub/c': 4096, 'sub/deeper/d': 0 };
const total = Object.values(sizes).reduce((a, b) => a + b, 0);

beforeAll(() => {
  base = tempDir('arsync-output-');
  src = path.join(base, 'src');
  for (const [rel, n] of Object.entries(sizes)) {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), Buffer.alloc(n, 0x61));
  }
  sh(`touch -d @1650000000.5 $(find '${src}' -type f)`);
});
afterAll(() => removeTemps());

/** rsync prints numbers with thousands separators: "Total file size: 75,096 bytes". */
const statNumber = (out: string, label: string): number | null => {
  const m = new RegExp(`^${label}: ([\\d,]+)`, 'm').exec(out);
  return m ? Number((m[1] as string).replace(/,/g, '')) : null;
};

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const dst = (name: string): string => path.join(base, `${name}-${e.name}`);

  it('-v lists every file copied; the engine is named under --debug=proto only', async () => {
    const r = await runCli(['-av', eng, `${src}/`, `${dst('v')}/`]);
    expect(r.code, show(r)).toBe(0);
    for (const rel of Object.keys(sizes)) expect(r.stdout, show(r)).toContain(rel);
    expect(r.stdout).not.toMatch(/engine/);
    const p = await runCli(['-av', '--debug=proto', eng, `${src}/`, `${dst('v')}/`]);
    expect(p.stdout).toMatch(new RegExp(`^engine: ${e.name} \\(`, 'm'));
    expect(r.stderr).toBe('');
  });

  it('-q prints nothing at all on success', async () => {
    const r = await runCli(['-aq', eng, `${src}/`, `${dst('q')}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expectExactCopy(src, dst('q'), e.name, { withXattrs: false });
  });

  it("--stats prints rsync's summary with the right totals", async () => {
    const r = await runCli(['-a', '--stats', eng, `${src}/`, `${dst('stats')}/`]);
    expect(r.code, show(r)).toBe(0);
    for (const label of ['Number of files', 'Number of regular files transferred', 'Total file size', 'Total transferred file size']) {
      expect(r.stdout, `${label} line`).toMatch(new RegExp(`^${label}: `, 'm'));
    }
    expect(statNumber(r.stdout, 'Total file size')).toBe(total);
    expect(statNumber(r.stdout, 'Total transferred file size')).toBe(total);
    expect(statNumber(r.stdout, 'Number of regular files transferred')).toBe(Object.keys(sizes).length);
    // rsync counts the root dir, sub, sub/deeper and the four files.
    expect(statNumber(r.stdout, 'Number of files')).toBe(7);

    // A no-op re-run transfers nothing.
    const again = await runCli(['-a', '--stats', eng, `${src}/`, `${dst('stats')}/`]);
    expect(again.code, show(again)).toBe(0);
    expect(statNumber(again.stdout, 'Number of regular files transferred'), show(again)).toBe(0);
    expect(statNumber(again.stdout, 'Total transferred file size')).toBe(0);
  });

  // rsync's sender lists a symlink, a FIFO and a device even when the options do not keep them (its
  // receiver then prints "skipping non-regular file"), so its counts and total size include them, a
  // symlink with the length of its target. arsync left them out of both.
  it('entries skipped as non-regular still count in --stats and the total size, as in rsync', async () => {
    const tree = path.join(base, `nonreg-${e.name}`);
    fs.mkdirSync(path.join(tree, 'd'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'd', 'f'), 'twelve bytes');
    fs.symlinkSync('../some/long/target', path.join(tree, 'd', 'lnk'));
    sh(`mkfifo ${JSON.stringify(path.join(tree, 'fifo'))}`);
    const lines = (out: string): string[] => out.split('\n').filter((l) => /^(Number of files|Total file size|total size is)/.test(l)).map((l) => l.replace(/ +speedup is .*/, ''));
    for (const flags of [['-r'], ['-rl'], ['-rD']]) {
      const theirs = spawnSync('rsync', [...flags, '--stats', '-v', `${tree}/`, `${dst(`nr-rsync${flags.join('')}`)}/`], { encoding: 'latin1' });
      const ours = await runCli([...flags, '--stats', '-v', eng, `${tree}/`, `${dst(`nr${flags.join('')}`)}/`]);
      expect(ours.code, show(ours)).toBe(theirs.status);
      expect(lines(ours.stdout), flags.join(' ')).toEqual(lines(theirs.stdout));
      expect(lines(ours.stdout)).toHaveLength(3);
    }
  });

  it.each([
    ['-av', ['d/c', 'd/d -> a', 'd/e'], 4],
    ['-ai', ['>f+++++++++ d/c', 'cL+++++++++ d/d -> a', '>f+++++++++ d/e'], 3],
    // A dry run names its files the same way, and makes nothing.
    ['-avn', ['d/c', 'd/d -> a', 'd/e'], 4],
    ['-ain', ['>f+++++++++ d/c', 'cL+++++++++ d/d -> a', '>f+++++++++ d/e'], 3],
  ])("%s names a fresh copy's files in rsync's list order where the direct path and the planner share a directory", async (flag, middle, at) => {
    // A new file below 16 MiB goes to the engines straight from the listing (run/direct.ts), its -v or
    // -i line printed from its op's name; a symlink and a file of 16 MiB or more go through the planner:
    // their lines (and ops) keep the names' order.
    const trees = ['r', 'a'].map((w) => path.join(base, `order${flag}-${w}-${e.name}`));
    for (const t of trees) {
      fs.rmSync(t, { recursive: true, force: true });
      fs.mkdirSync(path.join(t, 'src/d'), { recursive: true });
      for (const n of ['a', 'c', 'e', 'g', 'y']) fs.writeFileSync(path.join(t, 'src/d', n), `${n}\n`);
      fs.symlinkSync('a', path.join(t, 'src/d/d'));
      fs.writeFileSync(path.join(t, 'src/d/x'), Buffer.alloc(16 * 1024 * 1024 + 1));
    }
    const rs = spawnSync('rsync', [flag, `${trees[0]}/src/`, `${trees[0]}/dst/`], { encoding: 'utf8' });
    const r = await runCli([flag, eng, `${trees[1]}/src/`, `${trees[1]}/dst/`]);
    expect(r.code, show(r)).toBe(rs.status);
    const names = (out: string): string[] => out.split('\n').filter((l) => !/bytes\/sec$|speedup is|^created directory/.test(l));
    expect(names(r.stdout), show(r)).toEqual(names(rs.stdout));
    // (-v's output starts with rsync's list header, -i's does not.)
    expect(names(r.stdout).slice(at, at + 3), show(r)).toEqual(middle);
    if (flag.endsWith('n')) expect(fs.existsSync(`${trees[1]}/dst`)).toBe(false);
    else expectExactCopy(`${trees[1]}/src`, `${trees[1]}/dst`, e.name, { withXattrs: false });
  });

  it.each(['--progress', '--info=progress2', '-v --progress'])('%s without a TTY: exit 0, no cursor control codes, exact copy', async (opts) => {
    const flags = opts.split(' ');
    const d = dst(`progress${flags.join('')}`);
    const r = await runCli(['-a', ...flags, eng, `${src}/`, `${d}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout + r.stderr, 'terminal escape sequences in non-TTY output').not.toMatch(/\x1b\[/);
    // rsync's progress lines are redrawn with a bare \r even off a terminal, never with cursor control.
    expect(r.stderr).toBe('');
    expectExactCopy(src, d, e.name, { withXattrs: false });
  });
});
