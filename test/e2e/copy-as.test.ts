// --copy-as=USER[:GROUP] against rsync on the same tree, on every engine: the copy runs as that user
// (new entries are its own, what it cannot read is rsync's per-file error, exit 23), rsync's errors for
// an unknown user or group, and "setgroups failed" (exit 1, nothing written) when not run by root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { isRoot, removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { differential, freshSetup, put } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** freshSetup, readable by all, in a work root anyone may write in. */
function copyAsSetup(root: string): void {
  freshSetup(root);
  fs.chmodSync(root, 0o1777);
  // The differential's base directory (mkdtemp: 0700) must let the other user through to A/ and B/.
  fs.chmodSync(path.dirname(root), 0o755);
}

describeEngines((e) => {
  const engine = e.name;
  const rootOnly = it.skipIf(!isRoot);

  rootOnly('--copy-as=nobody: the entries made are nobody\'s (owners are not kept: nobody is not root)', async () => {
    const r = await differential({ engine, setup: copyAsSetup, args: ['-a', '--copy-as=nobody', 'src/', 'dst/'] });
    expect(fs.lstatSync(path.join(r.B, 'dst/a.txt')).uid).toBe(65534);
  });

  rootOnly('--copy-as=nobody: a file only root can read is a per-file error (exit 23), the rest is copied', async () => {
    const root = tempDir('arsync-copyas-');
    copyAsSetup(root);
    fs.chmodSync(path.dirname(root), 0o755);
    put(path.join(root, 'src'), 'secret.txt', 'root only\n', 0o600);
    const r = await runCli(['-a', '--copy-as=nobody', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr).toMatch(/EACCES|permission denied/i);
    expect(fs.existsSync(path.join(root, 'dst/secret.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'dst/a.txt'), 'utf8')).toBe('alpha\n');
  });

  rootOnly('--copy-as=USER:GROUP: the group named (and only it)', async () => {
    const r = await differential({ engine, setup: copyAsSetup, args: ['-rt', '--copy-as=65534:1', 'src/', 'dst/'] });
    expect(fs.lstatSync(path.join(r.B, 'dst/a.txt')).gid).toBe(1);
  });

  it("rsync's errors: an unknown user or group, and setgroups failing when not root; nothing written", async () => {
    const cases: [string[], string, { uid: number; gid: number } | undefined][] = [
      [['--copy-as=no-such-user-here'], 'Invalid copy-as user: no-such-user-here', undefined],
      [['--copy-as=nobody:no-such-group-here'], 'Invalid copy-as group: no-such-group-here', undefined],
      [['--copy-as=nobody'], 'setgroups failed: Operation not permitted (1)', { uid: 65534, gid: 65534 }],
    ];
    for (const [opts, message, user] of cases) {
      if (user && !isRoot) continue;
      const root = tempDir('arsync-copyas-');
      copyAsSetup(root);
      const r = await runCli(['-a', ...opts, `--engine=${engine}`, 'src/', 'dst/'], { cwd: root, ...(user ? { user } : {}) });
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr).toContain(message);
      expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
    }
  });
});
