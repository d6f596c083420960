// -M-t/--times and -M--no-t/--no-times on a local copy, against rsync on every engine. rsync's forked
// receiver sets the mtimes (files and directories) as its own -t says, and its generator decides whether
// -i reports a time change; the client prints that letter as t or T by the line's own -t. Same tree,
// exit code and -i lines as rsync.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, freshSetup, put, shiftMtime, syncedSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** A previous sync, then a file grown, one only older, one new in a new directory. */
function changedSetup(root: string): void {
  const src = syncedSetup(root);
  fs.appendFileSync(path.join(src, 'a.txt'), 'and more\n');
  shiftMtime(path.join(src, 'sub/c.txt'), -100);
  put(src, 'new.txt', 'new file\n');
  put(src, 'sub/newdir/n.txt', 'new in new dir\n');
}

/** What changedSetup makes the run write: without the receiver's -t their mtimes are the run's. */
const WRITTEN = ['dst', 'dst/sub', 'dst/sub/newdir', 'dst/a.txt', 'dst/sub/c.txt', 'dst/new.txt', 'dst/sub/newdir/n.txt'];

describeEngines((e) => {
  const engine = e.name;
  it('-r -M-t into a fresh destination: the receiver sets every mtime (dirs too), -i as rsync\'s', async () => {
    await differential({ engine, setup: freshSetup, args: ['-r', '-M-t', 'src/', 'dst/'] });
  });
  it('-r -M--times over a previous sync: changed mtimes set, -i reports them as T (the client has no -t)', async () => {
    const r = await differential({ engine, setup: changedSetup, args: ['-r', '-M--times', 'src/', 'dst/'] });
    expect(r.arsync.stdout).toMatch(/^>f\.\.T\.+ sub\/c\.txt$/m);
  });
  it('-rlpt -M--no-t: the receiver leaves the run\'s mtimes, -i prints t as the client\'s -t says', async () => {
    const r = await differential({ engine, setup: changedSetup, args: ['-rlp', '-t', '-M--no-t', 'src/', 'dst/'], volatile: WRITTEN });
    expect(r.arsync.stdout).toMatch(/^>f\.\.t\.+ sub\/c\.txt$/m);
  });
  it('-a -M--no-times', async () => {
    await differential({ engine, setup: changedSetup, args: ['-a', '-M--no-times', 'src/', 'dst/'], volatile: WRITTEN });
  });
});
