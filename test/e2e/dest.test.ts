// The destination's own path: rsync makes one missing level, --mkpath makes them all, and a missing
// parent without --mkpath is a clean file-I/O error (code 11), never a crash. --mkpath over a file or a
// link that leads nowhere fails as rsync 3.5's fails, beside it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { sameRoot } from '../helpers/normalise.js';
import { spawnSync } from 'node:child_process';

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

  // rsync 3.5's get_local_name (main.c) runs make_path (util1.c) wherever its stat of the destination
  // failed: a file in the way is its failing mkdir (exit 11, DEST named as given, ELOOP for a file in the
  // middle, as its resolver says), a link that leads nowhere is made nothing through (its mkdir says
  // EEXIST, or ENOENT below it; a file's new name under it is change_dir#3's exit 3), and a dry run adds
  // the plain mkdir's "created directory" line for a root still missing. Each case with rsync's own exit
  // code, so that both cannot agree on the wrong thing.
  it('--mkpath over a file, a link leading nowhere, and -n: exit code, stderr, stdout and tree as rsync 3.5', async () => {
    const cases: [string[], number][] = [
      [['src/', 'dst/file/sub/'], 11],
      [['src/top', 'dst/file/sub/x'], 11],
      [['src/', 'dst/file/a/b/'], 11],
      [['-n', 'src/', 'dst/file/a/b/'], 11],
      [['src/top', 'dst/file/x'], 11],
      [['src/top', 'dst/dangle/x'], 3],
      [['-n', 'src/top', 'dst/dangle/x'], 0],
      [['src/', 'dst/dangle/x/'], 11],
      [['src/', 'dst/dangle/'], 11],
      [['src/', 'dst/dangle'], 11],
      [['src/top', 'dst/dangle'], 0],
      [['-n', 'src/', 'dst/dangle'], 0],
      [['-n', 'src/', 'dst/new/deep/'], 0],
      [['src/', 'dst/new/deep/'], 0],
    ];
    for (const [args, code] of cases) {
      const seen: Record<string, { code: number | null; stderr: string; stdout: string; tree: string[] }> = {};
      for (const tool of ['rsync', 'arsync'] as const) {
        const d = tempDir('arsync-dest-');
        fs.mkdirSync(path.join(d, 'src'));
        fs.mkdirSync(path.join(d, 'dst'));
        fs.writeFileSync(path.join(d, 'src/top'), '3\n');
        // (An old source directory: the new root's ".d..t" line then comes whatever the second.)
        fs.utimesSync(path.join(d, 'src'), 1e9, 1e9);
        fs.writeFileSync(path.join(d, 'dst/file'), 'file\n');
        fs.symlinkSync('nowhere', path.join(d, 'dst/dangle'));
        const argv = ['-ai', '--mkpath', ...args];
        const r = tool === 'rsync' ? spawnSync('/usr/bin/rsync', argv, { cwd: d, encoding: 'utf8' }) : await runCli([`--engine=${engine}`, ...argv], { cwd: d });
        const tree = fs
          .readdirSync(path.join(d, 'dst'), { recursive: true, encoding: 'utf8' })
          .sort()
          .map((n) => {
            const st = fs.lstatSync(path.join(d, 'dst', n));
            return `${n} ${st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file'}`;
          });
        seen[tool] = { code: 'status' in r ? r.status : r.code, stderr: sameRoot(r.stderr, d), stdout: r.stdout, tree };
      }
      const ctx = args.join(' ');
      expect(seen['arsync'], ctx).toEqual(seen['rsync']);
      expect(seen['arsync']!.code, ctx).toBe(code);
    }
  });
});

