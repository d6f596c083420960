// The destination's own path: rsync makes one missing level, --mkpath makes them all, and a missing
// parent without --mkpath is a clean file-I/O error (code 11), never a crash.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';

afterAll(() => removeTemps());

describeEngines((e) => {
  const engine = e.name;

  it('a missing parent of the destination: exit 11 with the mkdir error, nothing created', async () => {
    const root = tempDir('arsync-dest-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src/f'), 'x');
    const r = await runCli(['-a', `--engine=${engine}`, `${root}/src/`, `${root}/no/such/dst/`]);
    expect(r.code, show(r)).toBe(11);
    expect(r.stderr).toMatch(/\[Receiver\] mkdir ".*no\/such\/dst" failed: No such file or directory \(2\)/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(fs.existsSync(path.join(root, 'no'))).toBe(false);
  });

  it('--mkpath makes every missing level and says how many', async () => {
    const root = tempDir('arsync-dest-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src/f'), 'x');
    const r = await runCli(['-ai', '--mkpath', `--engine=${engine}`, `${root}/src/`, `${root}/a/b/c/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^created 3 directories for .*a\/b\/c$/m);
    expect(fs.readFileSync(path.join(root, 'a/b/c/f'), 'utf8')).toBe('x');
  });
});
