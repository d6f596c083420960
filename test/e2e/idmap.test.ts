// --usermap, --groupmap and --chown against rsync on the same tree, on every engine (run as root, as the
// suite is: only root gives files away). Owners are mapped on files, directories and symlinks at every
// depth, a re-sync of an already-mapped tree changes nothing, and rsync's usage errors write nothing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { isRoot, removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { differential, freshSetup, syncedSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** freshSetup with owners spread over a few ids (a name here: root 0, nobody 65534; none: 1234, 5678). */
function ownedSetup(root: string): void {
  freshSetup(root);
  const src = path.join(root, 'src');
  fs.lchownSync(path.join(src, 'a.txt'), 1234, 5678);
  fs.lchownSync(path.join(src, 'sub'), 1234, 5678);
  fs.lchownSync(path.join(src, 'sub/deep/e.txt'), 65534, 65534);
  fs.lchownSync(path.join(src, 'lnk'), 1500, 1500);
  fs.lchownSync(path.join(src, 'docs'), 1600, 0);
}

describeEngines((e) => {
  const engine = e.name;
  const rootOnly = it.skipIf(!isRoot);

  rootOnly('--usermap with ids, a range, a name and a wildcard; --groupmap by id and name', async () => {
    await differential({ engine, setup: ownedSetup, args: ['-a', '--usermap=1234:2000,1400-1599:nobody,nobody:3000,*:4000', '--groupmap=5678:6000,root:7000', 'src/', 'dst/'] });
  });

  rootOnly('directories listed a few entries at a time (every chunk boundary) are mapped alike', async () => {
    await differential({ engine, setup: ownedSetup, args: ['-a', '--usermap=1234:2000,*:4000', '--groupmap=*:6000', 'src/', 'dst/'], env: { ARSYNC_TEST_PAIR_CHUNK: '2' } });
  });

  rootOnly('--chown=USER:GROUP, --chown=:GROUP and --chown=USER', async () => {
    await differential({ engine, setup: ownedSetup, args: ['-a', '--chown=nobody:4242', 'src/', 'dst/'] });
    await differential({ engine, setup: ownedSetup, args: ['-a', '--chown=:nogroup', 'src/', 'dst/'] });
    await differential({ engine, setup: ownedSetup, args: ['-a', '--chown=31337', 'src/', 'dst/'] });
  });

  rootOnly('--numeric-ids: names do not match, the empty name matches every id', async () => {
    await differential({ engine, setup: ownedSetup, args: ['-a', '--numeric-ids', '--usermap=nobody:1,:2', 'src/', 'dst/'] });
  });

  rootOnly('a map implies -o/-g where it is met: --usermap without -a sets owners; --no-o after it does not', async () => {
    await differential({ engine, setup: ownedSetup, args: ['-rt', '--usermap=*:4242', 'src/', 'dst/'] });
    await differential({ engine, setup: ownedSetup, args: ['-rt', '--chown=4242:4343', '--no-o', 'src/', 'dst/'] });
  });

  rootOnly('a re-sync onto an already-mapped copy: only what the map does not explain is changed', async () => {
    const setup = (root: string): void => {
      syncedSetup(root);
      for (const rel of ['a.txt', 'sub', 'sub/c.txt']) fs.lchownSync(path.join(root, 'dst', rel), 4242, 4343);
      fs.lchownSync(path.join(root, 'dst/exec.sh'), 1, 1);
    };
    await differential({ engine, setup, args: ['-a', '--chown=4242:4343', 'src/', 'dst/'] });
  });

  it("an unknown target name: rsync's message, the rule dropped, exit 0", async () => {
    const r = await differential({ engine, setup: freshSetup, args: ['-a', '--usermap=*:no-such-user-here', '--groupmap=*:no-such-group-here', 'src/', 'dst/'] });
    expect(r.arsync.stderr).toContain('Unknown --usermap name on receiver: no-such-user-here');
    expect(r.arsync.stderr).toContain('Unknown --groupmap name on receiver: no-such-group-here');
  });

  it('usage errors: exit 1 with rsync\'s message, nothing written', async () => {
    const cases: [string[], string][] = [
      [['--usermap=1234'], 'No colon found in --usermap: 1234'],
      [['--groupmap=x:'], 'No name found after colon --groupmap: x:'],
      [['--usermap=1-2-3:0'], 'Invalid number in --usermap: 1-2-3'],
      [['--groupmap=99999999999:0'], 'Invalid ID number: 99999999999'],
      [['--usermap=a:b', '--usermap=c:d'], 'You can only specify --usermap once.'],
      [['--chown=a', '--usermap=c:d'], '--usermap conflicts with prior --chown.'],
      [['--groupmap=c:d', '--chown=:a'], '--chown conflicts with prior --groupmap.'],
      [['--chown=a:b', '--chown=c'], 'You can only specify a user-affecting --chown once.'],
    ];
    for (const [opts, message] of cases) {
      const root = tempDir('arsync-idmap-');
      freshSetup(root);
      const r = await runCli(['-a', ...opts, `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
      expect(r.code, opts.join(' ')).toBe(1);
      expect(r.stderr).toContain(message);
      expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
    }
  });
});
