// --progress prints, like rsync, the names and one completion line per transferred file; --info=progress2
// only draws the whole-run bar (on a terminal; nothing when stdout is a pipe).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';

afterAll(() => removeTemps());

const LINE = /^\s+[\d,]+ 100%\s+[\d.]+[kMG]B\/s\s+0:00:00 \(xfr#(\d+), to-chk=(\d+)\/(\d+)\)$/;

describeEngines((e) => {
  const engine = e.name;

  it('--progress: one line per transferred file, counted like rsync', async () => {
    const root = tempDir('arsync-progress-');
    for (let i = 1; i <= 4; i++) {
      fs.mkdirSync(path.join(root, 'src', `d${i}`), { recursive: true });
      fs.writeFileSync(path.join(root, 'src', `d${i}`, 'f'), Buffer.alloc(i * 5000, i));
    }
    const r = await runCli(['-a', '--progress', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => LINE.test(l));
    expect(lines.length, r.stdout).toBe(4);
    const xfr = lines.map((l) => Number(LINE.exec(l)![1])).sort();
    expect(xfr).toEqual([1, 2, 3, 4]);
    expect(r.stdout).toMatch(/^sending incremental file list$/m);
    expect(r.stdout).toMatch(/^d1\/f$/m);
    // Nothing left to send: a second run prints no progress line.
    const again = await runCli(['-a', '--progress', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(again.stdout.split('\n').filter((l) => LINE.test(l))).toEqual([]);
  });

  it('--info=progress2 prints no per-file lines when stdout is not a terminal', async () => {
    const root = tempDir('arsync-progress-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src', 'f'), 'x');
    const r = await runCli(['-a', '--info=progress2', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toBe('');
  });
});
