// What the differential fuzzer (diff-fuzz.test.ts) found, each as a small case of its own against rsync 3.5:
//  - a directory made from an alternate directory's twin under -O (or -b, which implies it) or without -t:
//    rsync judges the twin's time under -t even with -O, and itemizes any local change with `t` where
//    directory times are not kept (`T` without -t, for a file's twin too);
//  - -H with --remove-source-files: members removed from the source before the walk met the group's
//    last member left it with one link, so it was sent as a file of its own instead of linked.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { clone, differential, put, stampTree, touchNs } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** src with directories and files; prev a copy whose `d1` has another time, `d2` another mode, and `f` another mode. */
function twins(root: string): void {
  const src = path.join(root, 'src');
  for (const d of ['d1', 'd2', 'd3']) put(src, `${d}/x`, `${d}\n`, 0o644);
  put(src, 'f', 'file\n', 0o644);
  stampTree(src);
  clone(src, path.join(root, 'prev'));
  const prev = path.join(root, 'prev');
  touchNs([[path.join(prev, 'd1'), '1500000000.0']]);
  fs.chmodSync(path.join(prev, 'd2'), 0o700);
  fs.chmodSync(path.join(prev, 'f'), 0o600);
}

/** A group of three names for one inode: the destination has two of them linked and current, the third (walked last) stale. */
function staleMember(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a', 'the group\n', 0o644);
  fs.mkdirSync(path.join(src, 'sub'));
  fs.linkSync(path.join(src, 'a'), path.join(src, 'b'));
  fs.linkSync(path.join(src, 'a'), path.join(src, 'sub/z'));
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  const z = path.join(root, 'dst/sub/z');
  fs.unlinkSync(z);
  put(root, 'dst/sub/z', 'another, longer file\n', 0o644);
  touchNs([[z, '1600000000.0']]);
}

describeEngines((e) => {
  it('-O, -b and no -t over --link-dest/--copy-dest/--compare-dest twins: the same lines and tree as rsync', async () => {
    for (const alt of ['--link-dest=../prev', '--copy-dest=../prev', '--compare-dest=../prev']) {
      for (const opts of [['-a', '-O'], ['-a', '-b'], ['-a', '--no-t'], ['-aH', '--no-t'], ['-a', '-O', '--no-p'], ['-a', '-O', '-n']]) {
        // -O and -b leave the directories' times to the clock (rsync's implied -O for -b), in both runs;
        // --no-t every time.
        const files = opts.includes('--no-t') ? ['dst/f', 'dst/d1/x', 'dst/d2/x', 'dst/d3/x'] : [];
        await differential({ engine: e.name, setup: twins, args: [...opts, alt, 'src/', 'dst/'], volatile: files, volatileDirsUnder: ['dst'] });
      }
    }
  });

  it('-H --remove-source-files: a member met after the others were removed is still linked to its leader', async () => {
    for (const opts of [['-aH'], ['-aH', '--delete'], ['-aHc']]) {
      await differential({ engine: e.name, setup: staleMember, args: [...opts, '--remove-source-files', 'src/', 'dst/'], sourceChanges: true, unchanged: [], volatileDirsUnder: ['src'] });
    }
  });
});
