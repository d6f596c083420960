// -H: a group's leader that the destination already has is sent at its place in the walk, so -i lines
// come in rsync's order (its itemize test); the other members' "hf ... => leader" lines follow after
// the walk, or come at their own places when the leader was made from a --*-dest twin.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { clone, differential, put, stampTree } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** rsync's itemize test: foo/config1 and foo/extra one inode, config2 changed after the first copy. */
function tree(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'bar/baz/rsync', 'header\n', 0o600);
  put(src, 'foo/config1', 'configure\n', 0o600);
  put(src, 'foo/config2', 'config.sub\n', 0o600);
  fs.linkSync(path.join(src, 'foo/config1'), path.join(src, 'foo/extra'));
  fs.symlinkSync('../bar/baz/rsync', path.join(src, 'foo/sym'));
}

function resync(root: string): void {
  tree(root);
  const src = path.join(root, 'src');
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  // Without -H the destination got two separate files; config2 changes content and mode.
  fs.rmSync(path.join(root, 'dst/foo/extra'));
  fs.copyFileSync(path.join(root, 'dst/foo/config1'), path.join(root, 'dst/foo/extra'));
  fs.writeFileSync(path.join(src, 'foo/config2'), 'configure, longer now\n');
  fs.chmodSync(path.join(src, 'foo/config2'), 0o601);
  stampTree(src, 1_700_100_000);
}

/** The -i lines in the order printed (a differential compares them sorted). */
const lines = (out: string): string[] => out.split('\n').filter((l) => /^[.<>ch*][fdLDS]/.test(l));

describeEngines((e) => {
  const engine = e.name;

  it('-iH re-sync: the leader the destination has is printed at its place, before the files after it', async () => {
    const r = await differential({ engine, setup: resync, args: ['-plrtH', 'src/', 'dst/'] });
    expect(lines(r.arsync.stdout)).toEqual(lines(r.rsync.stdout));
    expect(lines(r.arsync.stdout)).toEqual([
      '.d..t...... ./',
      '.d..t...... bar/',
      '.d..t...... bar/baz/',
      '>f..t...... bar/baz/rsync',
      '.d..t...... foo/',
      '>f..t...... foo/config1',
      '>f.stp..... foo/config2',
      '.L..t...... foo/sym -> ../bar/baz/rsync',
      'hf..t...... foo/extra => foo/config1',
    ]);
    expect(fs.statSync(path.join(r.B, 'dst/foo/extra')).ino).toBe(fs.statSync(path.join(r.B, 'dst/foo/config1')).ino);
  });

  for (const alt of ['--compare-dest', '--copy-dest', '--link-dest']) {
    it(`-H ${alt} into an empty destination: the first member the ${alt} directory has leads; an exact twin is no change (rsync's itemize test)`, async () => {
      const setup = (root: string): void => {
        tree(root);
        stampTree(path.join(root, 'src'));
        // The earlier copy: the same files, config1 and extra one inode there too.
        clone(path.join(root, 'src'), path.join(root, 'old'));
      };
      // -ii: every entry's line (for --compare-dest, also that no member is linked to a leader that was
      // never made).
      const r = await differential({ engine, setup, args: ['-iiplrtH', `${alt}=../old`, 'src/', 'dst/'], noItemize: true, volatile: ['dst'], unchanged: alt === '--link-dest' ? ['src'] : ['src', 'old'] });
      expect(r.arsync.code, r.arsync.stderr).toBe(0);
      // In order: a member whose leader was made from its twin is printed at its own place, as rsync does.
      expect(lines(r.arsync.stdout)).toEqual(lines(r.rsync.stdout));
      if (alt !== '--compare-dest') expect(lines(r.arsync.stdout)).toContain('hf          foo/extra => foo/config1');
    });
  }
});

