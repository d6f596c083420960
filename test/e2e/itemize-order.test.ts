// Differential tests against rsync for the order and content of itemized lines (rsync suite: itemize): a
// compare runs in the engines, in parallel, yet its line comes at the entry's place in the list, as
// rsync's generator prints it; and destination names of one inode (without -H) are decided one after the
// other, so a name whose attributes another name just set prints nothing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, put, touchNs, type DiffResult } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** The lines of stdout in their order. */
const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

/** rsync and arsync printed the same lines in the same order (differential() compares them as sets). */
function sameOrder(r: DiffResult): void {
  expect(lines(r.arsync.stdout)).toEqual(lines(r.rsync.stdout));
}

/**
 * dst is a copy of src whose files (same bytes) and directories have other mtimes, across three
 * directories of several files: under -c each file is compared in the engines, and only its time changes.
 */
function retimedSetup(root: string): void {
  const stamps: [string, string][] = [];
  for (const side of ['src', 'dst']) {
    for (const d of ['a', 'b', 'c']) {
      for (let i = 0; i < 12; i++) {
        const rel = `${side}/${d}/f${String(i).padStart(2, '0')}`;
        put(root, rel, `${d}${i}\n`.repeat(100 * (i + 1)), 0o644);
        stamps.push([path.join(root, rel), side === 'src' ? '1700000100.5' : '1700000000.5']);
      }
      stamps.push([path.join(root, side, d), side === 'src' ? '1700000200.5' : '1700000000.5']);
    }
  }
  // One file whose content differs too (same size): sent.
  put(root, 'src/b/f05', 'X'.repeat(fs.statSync(path.join(root, 'src/b/f05')).size), 0o644);
  stamps.push([path.join(root, 'src/b/f05'), '1700000100.5'], [path.join(root, 'src'), '1700000300.5'], [path.join(root, 'dst'), '1700000300.5']);
  touchNs(stamps);
}

/** dst's `one` and `two` are one inode; src's are two files with the same bytes, a newer mtime and another mode. */
function linkedDestSetup(root: string): void {
  put(root, 'src/one', 'same bytes\n', 0o600);
  put(root, 'src/two', 'same bytes\n', 0o600);
  put(root, 'dst/one', 'same bytes\n', 0o644);
  fs.linkSync(path.join(root, 'dst/one'), path.join(root, 'dst/two'));
  touchNs([
    [path.join(root, 'src/one'), '1700000100.5'],
    [path.join(root, 'src/two'), '1700000100.5'],
    [path.join(root, 'dst/one'), '1700000000.5'],
    [path.join(root, 'src'), '1700000300.5'],
    [path.join(root, 'dst'), '1700000300.5'],
  ]);
}

/**
 * A re-sync onto a destination that has some of the directories: `a/` and `c/` there (a file changed in
 * each), `b/`, `d/` and `d/e/` new, and a new file at the top. rsync walks its list in order: the new
 * directories among the changed ones, not after them.
 */
function partlyThereSetup(root: string): void {
  const stamps: [string, string][] = [];
  for (const f of ['top', 'a/x', 'b/y', 'c/z', 'd/w', 'd/e/v']) {
    put(root, `src/${f}`, `${f}\n`, 0o644);
    stamps.push([path.join(root, 'src', f), '1700000100']);
  }
  for (const f of ['a/x', 'c/z']) {
    put(root, `dst/${f}`, 'old\n', 0o644);
    stamps.push([path.join(root, 'dst', f), '1700000000']);
  }
  for (const d of ['src/a', 'src/b', 'src/c', 'src/d', 'src/d/e', 'src', 'dst/a', 'dst/c', 'dst']) stamps.push([path.join(root, d), '1700000200']);
  touchNs(stamps);
}

/** A destination with an extraneous file in each of three subdirectories, and new files in all of them. */
function extraneousSetup(root: string): void {
  const stamps: [string, string][] = [];
  for (const f of ['top', 'a/x', 'c/z', 'logs/1.log']) {
    put(root, `src/${f}`, `${f}\n`, 0o644);
    stamps.push([path.join(root, 'src', f), '1700000100']);
  }
  for (const f of ['a/old', 'c/gone', 'logs/0.log']) {
    put(root, `dst/${f}`, 'old\n', 0o644);
    stamps.push([path.join(root, 'dst', f), '1700000000']);
  }
  for (const d of ['src/a', 'src/c', 'src/logs', 'src', 'dst/a', 'dst/c', 'dst/logs', 'dst']) stamps.push([path.join(root, d), '1700000200']);
  touchNs(stamps);
}

describeEngines((e) => {
  const engine = e.name;

  // rsync's generator sends its deletions to the sender at once, as messages, while the -i lines of what
  // it asks for wait in its 64 KiB buffer: the subdirectories' "*deleting" lines come before the new
  // files' lines (when the root's files come out varies with rsync's timing; the files below never
  // come first). arsync printed each directory's deletions among its files.
  it('-i --delete: the deletions in subdirectories come before the lines of the files sent there, as rsync', async () => {
    const r = await differential({ engine, setup: extraneousSetup, args: ['-a', '--delete', 'src/', 'dst/'] });
    for (const out of [r.rsync.stdout, r.arsync.stdout]) {
      const l = lines(out);
      const lastDeletion = Math.max(...['a/old', 'c/gone', 'logs/0.log'].map((n) => l.indexOf(`*deleting   ${n}`)));
      expect(l.indexOf('>f+++++++++ a/x'), out).toBeGreaterThan(lastDeletion);
    }
  });

  // With incremental recursion rsync's generator, done with the top-level list, waits for the next one
  // and writes out its requests: the sender prints the top level's names before the generator's
  // deletions in the subdirectories (rsync did so in every run here; arsync printed the deletion first).
  it('-v --delete: the top level\'s names come before the deletions in its subdirectories', async () => {
    const r = await differential({ engine, setup: extraneousSetup, args: ['-av', '--delete', 'src/', 'dst/'], noItemize: true });
    const l = lines(r.arsync.stdout);
    expect(l.indexOf('top'), r.arsync.stdout).toBeGreaterThan(0);
    expect(l.indexOf('top'), r.arsync.stdout).toBeLessThan(l.indexOf('deleting a/old'));
  });

  it('a re-sync walks new directories among the changed ones, in the list\'s order (was: new ones first)', async () => {
    for (const args of [['-a', 'src/', 'dst/'], ['-a', '--no-i-r', 'src/', 'dst/']]) {
      const r = await differential({ engine, setup: partlyThereSetup, args });
      sameOrder(r);
      expect(lines(r.arsync.stdout).indexOf('cd+++++++++ b/')).toBeGreaterThan(lines(r.arsync.stdout).indexOf('>f..t...... a/x'));
      expect(lines(r.arsync.stdout).indexOf('>f..t...... a/x')).toBeGreaterThan(0);
    }
  });

  it('-c prints each compared file at its place in the list, not when its compare is done', async () => {
    const r = await differential({ engine, setup: retimedSetup, args: ['-rtc', 'src/', 'dst/'] });
    sameOrder(r);
    expect(lines(r.arsync.stdout)).toContain('>fc.t...... b/f05');
    expect(fs.readFileSync(path.join(r.B, 'dst/b/f05'), 'utf8')).toMatch(/^X+$/);
  });

  it('-c with -v lists the sent file in order', async () => {
    const r = await differential({ engine, setup: retimedSetup, args: ['-rtcv', 'src/', 'dst/'], noItemize: true });
    expect(lines(r.arsync.stdout).filter((l) => /^[abc]\//.test(l))).toEqual(lines(r.rsync.stdout).filter((l) => /^[abc]\//.test(l)));
  });

  it('-c: a destination name of an inode whose times another name just set prints nothing', async () => {
    const r = await differential({ engine, setup: linkedDestSetup, args: ['-rtc', 'src/', 'dst/'] });
    sameOrder(r);
    expect(lines(r.arsync.stdout)).toEqual(['.f..t...... one']);
  });

  it('-p: a destination name of an inode whose mode another name just set prints nothing', async () => {
    const r = await differential({ engine, setup: linkedDestSetup, args: ['-rp', '--size-only', 'src/', 'dst/'] });
    expect(lines(r.arsync.stdout)).toEqual(['.f...p..... one']);
    sameOrder(r);
    expect((fs.statSync(path.join(r.B, 'dst/two')).mode & 0o777).toString(8)).toBe('600');
  });
});

/** src and dst hold the same two names of one inode each, already in sync. */
function linkedBothSetup(root: string): void {
  for (const side of ['src', 'dst']) {
    put(root, `${side}/d/one`, 'linked\n', 0o644);
    fs.linkSync(path.join(root, side, 'd/one'), path.join(root, side, 'd/two'));
    put(root, `${side}/d/zz`, 'last\n', 0o644);
    touchNs([
      [path.join(root, side, 'd/one'), '1700000100.5'],
      [path.join(root, side, 'd/zz'), '1700000100.5'],
      [path.join(root, side, 'd'), '1700000200.5'],
      [path.join(root, side), '1700000300.5'],
    ]);
  }
}

describeEngines((e) => {
  const engine = e.name;

  it('-H -ii names a member that is already linked to its leader ("hf" and blanks)', async () => {
    const r = await differential({ engine, setup: linkedBothSetup, args: ['-rtHi', 'src/', 'dst/'] });
    expect(lines(r.arsync.stdout)).toContain('hf          d/two');
    // At its own place in the list, before d/zz, as rsync's hard_link_check prints it.
    sameOrder(r);
  });

  it('-H -vv says a member already linked to its leader is up to date', async () => {
    const r = await differential({ engine, setup: linkedBothSetup, args: ['-rtHvv', 'src/', 'dst/'], noItemize: true });
    expect(lines(r.arsync.stdout)).toContain('d/two is uptodate');
  });
});
