// -M-t/--times and -M--no-t/--no-times on a local copy, against rsync on every engine. rsync's forked
// receiver sets the mtimes (files and directories) as its own -t says, and its generator decides whether
// -i reports a time change; the client prints that letter as t or T by the line's own -t. Same tree,
// exit code and -i lines as rsync.

import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { changedSetup, differential, freshSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

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
