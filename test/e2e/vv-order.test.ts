// -vv's line order, against rsync on every engine. In a local rsync the generator's own lines ("is
// uptodate", "X/ is uptodate" for a --*-dest directory) reach stdout as messages at once, while every line
// the sender prints for an entry (a sent file's name, a changed directory, "NAME => LEADER") waits behind
// the generator's data buffer until its pass ends: so at -vv those lines come after the "uptodate" ones.
// rsync's order here is not timing: the same commands gave one order in every repeated run
// (src/run/line-order.ts). With -i every line goes the sender's way and the order is the list's.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { clone, differential, put, stampTree, touchNs } from '../helpers/differential.js';

/** A path's mtime as touch -d takes it, to the nanosecond. */
const nsTime = (p: string): string => {
  const ns = fs.statSync(p, { bigint: true }).mtimeNs;
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
};

afterAll(() => removeTemps());

/** The per-entry lines in the order printed (the differential itself compares them sorted). */
const entries = (out: string): string[] =>
  out.split('\n').filter((l) => l !== '' && !/^(sending |delta-transmission |total: |sent |total size |created directory )/.test(l));

/** rsync's itemize test: foo/config1 and foo/extra one inode, foo/sym a symlink. */
function itemizeTree(src: string): void {
  put(src, 'bar/baz/rsync', 'header\n', 0o600);
  put(src, 'foo/config1', 'configure\n', 0o600);
  put(src, 'foo/config2', 'config.sub\n', 0o600);
  fs.linkSync(path.join(src, 'foo/config1'), path.join(src, 'foo/extra'));
  fs.symlinkSync('../bar/baz/rsync', path.join(src, 'foo/sym'));
  stampTree(src);
}

/** Three directories of three files; dst has them all but `sent`, whose directory keeps its time. */
function dirs(sent: string[], touchDir?: string) {
  return (root: string): void => {
    const src = path.join(root, 'src');
    for (const d of ['d0', 'd1', 'd2']) for (const f of ['a', 'b', 'c']) put(src, `${d}/${f}`, `${d}${f}\n`);
    stampTree(src);
    clone(src, path.join(root, 'dst'));
    const dirTimes = sent.map((s) => path.join(root, 'dst', path.dirname(s))).map((d): [string, string] => [d, nsTime(d)]);
    for (const s of sent) fs.rmSync(path.join(root, 'dst', s));
    touchNs(dirTimes);
    if (touchDir) touchNs([[path.join(root, 'dst', touchDir), '1500000000.5']]);
  };
}

describeEngines((e) => {
  const engine = e.name;

  it('-vv: the one file sent is named after every "is uptodate" line (rsync\'s itemize test, -vvplrH step)', async () => {
    const setup = (root: string): void => {
      itemizeTree(path.join(root, 'src'));
      clone(path.join(root, 'src'), path.join(root, 'dst'));
      // config2 changes content (and size) in the source only.
      fs.writeFileSync(path.join(root, 'src/foo/config2'), 'configure, longer now\n');
      stampTree(path.join(root, 'src'), 1_700_100_000);
      stampTree(path.join(root, 'dst'), 1_700_100_000);
    };
    const r = await differential({ engine, setup, args: ['-vvplrtH', 'src/', 'dst/'], noItemize: true });
    expect(r.arsync.code, r.arsync.stderr).toBe(0);
    expect(entries(r.arsync.stdout)).toEqual(entries(r.rsync.stdout));
    expect(entries(r.arsync.stdout)).toEqual([
      'bar/baz/rsync is uptodate',
      'foo/config1 is uptodate',
      'foo/extra is uptodate',
      'foo/sym is uptodate',
      'foo/config2',
    ]);
    expect(fs.readFileSync(path.join(r.B, 'dst/foo/config2'), 'utf8')).toBe('configure, longer now\n');
  });

  it('-vv: files sent in several directories, and a directory whose time changed, come after the pass, in list order', async () => {
    const r = await differential({ engine, setup: dirs(['d0/c', 'd1/b'], 'd1'), args: ['-avv', 'src/', 'dst/'], noItemize: true });
    expect(r.arsync.code, r.arsync.stderr).toBe(0);
    expect(entries(r.arsync.stdout)).toEqual(entries(r.rsync.stdout));
    expect(entries(r.arsync.stdout).slice(-3)).toEqual(['d0/c', 'd1/', 'd1/b']);
    expect(fs.readFileSync(path.join(r.B, 'dst/d1/b'), 'utf8')).toBe('d1b\n');
  });

  it('-vv --delete: a deletion is one of the generator\'s lines, printed at its place; the sent file after the pass', async () => {
    const setup = (root: string): void => {
      dirs(['d0/b'])(root);
      const d2 = path.join(root, 'dst/d2');
      const t = nsTime(d2);
      fs.writeFileSync(path.join(d2, 'old'), 'old\n');
      touchNs([[d2, t]]);
    };
    const r = await differential({ engine, setup, args: ['-avv', '--delete', 'src/', 'dst/'], noItemize: true });
    expect(r.arsync.code, r.arsync.stderr).toBe(0);
    expect(entries(r.arsync.stdout)).toEqual(entries(r.rsync.stdout));
    expect(entries(r.arsync.stdout).slice(-5)).toEqual(['deleting d2/old', 'd2/a is uptodate', 'd2/b is uptodate', 'd2/c is uptodate', 'd0/b']);
    expect(fs.existsSync(path.join(r.B, 'dst/d2/old'))).toBe(false);
  });

  it('-v alone and -vvi keep the list order', async () => {
    for (const flags of ['-av', '-avvi']) {
      const r = await differential({ engine, setup: dirs(['d0/c', 'd1/b', 'd2/a']), args: [flags, 'src/', 'dst/'], noItemize: true });
      expect(r.arsync.code, r.arsync.stderr).toBe(0);
      expect(entries(r.arsync.stdout), flags).toEqual(entries(r.rsync.stdout));
    }
  });

  it('-i and -v on a re-sync: a directory whose times changed is printed right before its own contents, depth first', async () => {
    const setup = (root: string): void => {
      const src = path.join(root, 'src');
      put(src, 'x', 'x\n');
      put(src, 'a/f', 'f\n');
      put(src, 'a/a1/h', 'h\n');
      put(src, 'a-b/k', 'k\n');
      put(src, 'b/g', 'g\n');
      stampTree(src);
      clone(src, path.join(root, 'dst'));
      // Only directory times differ (a clean inside, a/a1, a-b and b too); b/g is also sent.
      touchNs(['a', 'a/a1', 'a-b', 'b'].map((d): [string, string] => [path.join(root, 'dst', d), '1500000000.25']));
      fs.writeFileSync(path.join(root, 'dst/b/g'), 'old\n');
      touchNs([[path.join(root, 'dst/b/g'), '1500000000.5'], [path.join(root, 'dst/b'), '1500000000.25']]);
    };
    for (const flags of ['-ai', '-av']) {
      const r = await differential({ engine, setup, args: [flags, 'src/', 'dst/'], noItemize: true });
      expect(r.arsync.code, r.arsync.stderr).toBe(0);
      expect(entries(r.arsync.stdout), flags).toEqual(entries(r.rsync.stdout));
    }
    const r = await differential({ engine, setup, args: ['-ai', 'src/', 'dst/'], noItemize: true });
    // rsync's list compares "a-b/" with "a/": a-b comes first.
    expect(entries(r.arsync.stdout)).toEqual(['.d..t...... a-b/', '.d..t...... a/', '.d..t...... a/a1/', '.d..t...... b/', '>f.st...... b/g']);
  });

  it('-i: subdirectories in rsync\'s list order ("a-b/" and "a.c/" before "a/"), fresh and re-synced with changes inside', async () => {
    const names = ['a/f', 'a/a1/h', 'a-b/k', 'a.c/m', 'b/g'];
    const fresh = (root: string): void => {
      for (const n of names) put(path.join(root, 'src'), n, `${n}\n`);
      stampTree(path.join(root, 'src'));
    };
    const resync = (root: string): void => {
      fresh(root);
      clone(path.join(root, 'src'), path.join(root, 'dst'));
      for (const n of ['a/f', 'a-b/k', 'a/a1/h']) {
        const dir = path.join(root, 'dst', path.dirname(n));
        const t = nsTime(dir);
        fs.writeFileSync(path.join(root, 'dst', n), 'changed\n');
        touchNs([[dir, t]]);
      }
    };
    for (const setup of [fresh, resync]) {
      const r = await differential({ engine, setup, args: ['-ai', 'src/', 'dst/'], noItemize: true, volatile: ['dst'] });
      expect(r.arsync.code, r.arsync.stderr).toBe(0);
      expect(entries(r.arsync.stdout)).toEqual(entries(r.rsync.stdout));
    }
  });

  for (const alt of ['--copy-dest', '--compare-dest', '--link-dest']) {
    for (const flags of ['-vvplrtH', '-ivvplrtH', '-iplrtH']) {
      it(`${flags} ${alt} into an empty destination: rsync's lines in rsync's order (its itemize test)`, async () => {
        const setup = (root: string): void => {
          itemizeTree(path.join(root, 'src'));
          clone(path.join(root, 'src'), path.join(root, 'old'));
        };
        // --debug=deltasum0: -vv's "total: ... data=N" counts --copy-dest's local copies as sent data in
        // arsync (rsync: 0), a figure outside this order.
        const args = [flags, ...(flags.includes('vv') ? ['--debug=deltasum0'] : []), `${alt}=../old`, 'src/', 'dst/'];
        const r = await differential({ engine, setup, args, noItemize: true, volatile: ['dst'], unchanged: alt === '--link-dest' ? ['src'] : ['src', 'old'] });
        expect(r.arsync.code, r.arsync.stderr).toBe(0);
        expect(entries(r.arsync.stdout)).toEqual(entries(r.rsync.stdout));
        if (alt !== '--compare-dest') expect(fs.statSync(path.join(r.B, 'dst/foo/extra')).ino).toBe(fs.statSync(path.join(r.B, 'dst/foo/config1')).ino);
      });
    }
  }
});
