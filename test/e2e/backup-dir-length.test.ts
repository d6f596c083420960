// --backup-dir lengths at the edge: over rsync's own limit it is rsync's usage error (exit 1, "WAY too
// long"), and one that fits rsync's limit but, below a deep destination, not PATH_MAX is refused before
// anything is written (exit 11) instead of failing inside an engine. Found by the CLI fuzzer.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { put } from '../helpers/differential.js';

afterAll(() => removeTemps());

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  it('a --backup-dir over rsync\'s limit: rsync\'s usage error, exit 1, nothing written', async () => {
    const root = tempDir('arsync-bdlen-');
    put(path.join(root, 'src'), 'f', 'x');
    const long = './'.repeat(3) + 'a/'.repeat(1985);
    const rsync = spawnSync('rsync', ['-a', `--backup-dir=${long}`, 'src/', 'rdst/'], { cwd: root, encoding: 'utf8' });
    const r = await runCli(['-a', eng, `--backup-dir=${long}`, 'src/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(1);
    if (rsync.status !== null) expect(r.code).toBe(rsync.status);
    expect(r.stderr).toMatch(/the --backup-dir path is WAY too long/);
    expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
  });

  it('a --backup-dir that does not fit PATH_MAX below a deep destination: exit 11 before any write, no internal error', async () => {
    const root = tempDir('arsync-bdlen-deep-');
    put(path.join(root, 'src'), 'f', 'x');
    const deep = path.join(root, ...Array.from({ length: 3 }, (_, i) => `${'d'.repeat(200)}${i}`));
    fs.mkdirSync(deep, { recursive: true });
    const r = await runCli(['-a', eng, `--backup-dir=${'b/'.repeat(1950)}`, `${root}/src/`, `${deep}/dst/`]);
    expect(r.code, show(r)).toBe(11);
    expect(r.stderr).toMatch(/backup-dir .* failed: File name too long/);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(fs.existsSync(path.join(deep, 'dst'))).toBe(false);
  });
});
