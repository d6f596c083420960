// -M values that set how rsync's local receiver maps owners and groups (cli/receiver-options.ts):
// -M--usermap, -M--groupmap, -M--chown (the receiver maps the list it receives), and -M--numeric-ids /
// --no-numeric-ids (no change with the incremental list; refused where rsync's protocol breaks). Against
// rsync itself on the same tree, on every engine; the conflicts end as rsync's receiver ends (exit 12).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { differential, put, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

describeEngines((e) => {
  const engine = e.name;
  const cases: [string, string[]][] = [
    ['-M--usermap=1234:77: the receiver maps ro.txt\'s owner', ['-a', '-M--usermap=1234:77']],
    ['-M--groupmap=*:9: every group mapped', ['-a', '-M--groupmap=*:9']],
    ['-M--chown=5:6: every owner and group', ['-a', '-M--chown=5:6']],
    ['-M--chown=:6 with --no-inc-recursive', ['-a', '--no-inc-recursive', '-M--chown=:6']],
    ['-M--usermap=root:nobody: by name', ['-a', '-M--usermap=root:nobody']],
    ['-M--numeric-ids with the incremental list: no change', ['-a', '-M--numeric-ids']],
    ['--numeric-ids -M--no-numeric-ids with the incremental list: no change', ['-a', '--numeric-ids', '-M--no-numeric-ids']],
    ['-M--numeric-ids without -o/-g: no id lists, no change', ['-rt', '--no-inc-recursive', '-M--numeric-ids']],
  ];
  for (const [title, args] of cases) {
    it.skipIf(!isRoot)(title, async () => {
      await differential({ engine, setup: updateSetup, args: [...args, 'src/', 'dst/'] });
    });
  }
});

describe('-M owner values rsync\'s receiver rejects or breaks on: nothing written', () => {
  const hasRsync = spawnSync('rsync', ['--version']).status === 0;
  const cases: [string[], number, RegExp, number?][] = [
    [['-a', '--usermap=1234:78', '-M--usermap=1234:77'], 12, /You can only specify --usermap once\./],
    [['-a', '--chown=3:4', '-M--usermap=1234:77'], 12, /--usermap conflicts with prior --chown\./],
    [['-a', '--chown=3:4', '-M--chown=5:6'], 12, /You can only specify a user-affecting --chown once\./],
    // rsync's receiver skips the id lists its sender sends (a protocol error, exit 2): refused.
    [['-a', '--delete-after', '-M--numeric-ids'], 1, /-M\/--remote-option=--numeric-ids: a receiver's --numeric-ids unlike its sender's/, 2],
    [['-a', '--no-inc-recursive', '-M--numeric-ids'], 1, /a receiver's --numeric-ids unlike its sender's/, 2],
    // (rsync's receiver then waits for id lists that never come: not run here.)
    [['-a', '--no-inc-recursive', '--numeric-ids', '-M--no-numeric-ids'], 1, /a receiver's --numeric-ids unlike its sender's/, -1],
  ];
  for (const [args, code, message, rsyncCode] of cases) {
    it.skipIf(!hasRsync)(`${args.join(' ')}: exit ${code}`, async () => {
      const root = tempDir('arsync-mids-');
      put(path.join(root, 'src'), 'f', 'x\n');
      if (rsyncCode !== -1) {
        const rsync = spawnSync('rsync', [...args, 'src/', 'rdst/'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
        expect(rsync.status, `rsync ${args.join(' ')}: ${rsync.stderr}`).toBe(rsyncCode ?? code);
      }
      const r = await runCli([...args, 'src/', 'dst/'], { cwd: root });
      expect(r.code, show(r)).toBe(code);
      expect(r.stderr, show(r)).toMatch(message);
      expect(fs.existsSync(path.join(root, 'dst')), 'dst created').toBe(false);
    });
  }
});
