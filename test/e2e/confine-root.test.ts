// --confine-root=DIR (issue 9), differential against rsync 3.5: the operator paths rsync confines are
// refused when they resolve outside DIR (by "..", through a symlink, or spelled absolute), allowed
// inside; a relative DIR and --insecure-links with it are usage errors; DIR = / confines nothing.
// Each case runs rsync and arsync on identical fresh trees and compares the exit code, the stderr lines
// (program name and rsync's " at file.c(N) [who=V]" tail dropped) and the files left on disk.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';

const T = 1_600_000_000;
const hasRsync = spawnSync('rsync', ['--version']).status === 0;

let base: string;
beforeAll(() => {
  base = tempDir('arsync-confine-');
});
afterAll(() => removeTemps());

/** Every file below `dir` with its bytes (links as "-> target"), sorted. */
function snapshot(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort().map((rel) => {
    const p = path.join(dir, rel);
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return `${rel} -> ${fs.readlinkSync(p).split(dir).join('W')}`;
    return st.isFile() ? `${rel}: ${fs.readFileSync(p, 'utf8')}` : `${rel}/`;
  });
}

const lines = (s: string): string[] =>
  s
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^a?rsync(?= |:)/, 'PROG').replace(/ at \S+\(\d+\) \[\w+=[\d.]+\]$/, ''));

describeEngines((e) => {
  let n = 0;
  /**
   * A fresh world: root/ (the confinement DIR) holding src/f ("new"), dst/f ("old") and dst/lnk ->
   * ../../out; out/ beside root (outside DIR) holding x ("secret") and rules ("- f").
   */
  function world(): { w: string; root: string } {
    const w = path.join(base, `${e.name}-${n++}`);
    const root = path.join(w, 'root');
    for (const d of ['src', 'dst', 'in']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.mkdirSync(path.join(w, 'out'));
    fs.writeFileSync(path.join(root, 'src', 'f'), 'new content\n');
    fs.writeFileSync(path.join(root, 'dst', 'f'), 'old\n');
    fs.writeFileSync(path.join(w, 'out', 'x'), 'secret\n');
    fs.writeFileSync(path.join(root, 'x'), 'inside\n');
    fs.writeFileSync(path.join(w, 'out', 'rules'), '- f\n');
    fs.writeFileSync(path.join(root, 'rules'), '- f\n');
    for (const f of ['src/f', 'dst/f', 'x']) fs.utimesSync(path.join(root, f), T, T);
    fs.symlinkSync('../../out', path.join(root, 'dst', 'lnk'));
    fs.symlinkSync(path.join(w, 'out'), path.join(root, 'outlnk'));
    return { w, root };
  }

  /** Runs rsync and arsync, each on its own fresh world, with args from `make`; both results compared. */
  async function same(make: (root: string, w: string) => string[]): Promise<{ code: number | null; tree: string[]; err: string[] }> {
    const a = world();
    const r = spawnSync('rsync', make(a.root, a.w), { encoding: 'utf8' });
    const b = world();
    const mine = await runCli([`--engine=${e.name}`, ...make(b.root, b.w)]);
    const norm = (s: string, w: string): string[] => lines(s.split(w).join('W'));
    expect(mine.code, show(mine)).toBe(r.status);
    expect(norm(mine.stderr, b.w), show(mine)).toEqual(norm(r.stderr, a.w));
    expect(norm(mine.stdout, b.w), show(mine)).toEqual(norm(r.stdout, a.w));
    expect(snapshot(b.w)).toEqual(snapshot(a.w));
    return { code: mine.code, tree: snapshot(b.w), err: norm(mine.stderr, b.w) };
  }

  const copy = (root: string): string[] => [`${root}/src/`, `${root}/dst/`];

  it.skipIf(!hasRsync)('DIR must be absolute; --insecure-links cannot go with it: exit 1, nothing written', async () => {
    const rel = await same((root) => ['-a', '--confine-root=root', ...copy(root)]);
    expect(rel.code).toBe(1);
    expect(rel.err[0]).toBe('PROG: --confine-root must be an absolute path');
    const ins = await same((root) => ['-a', `--confine-root=${root}`, '--insecure-links', ...copy(root)]);
    expect(ins.code).toBe(1);
    expect(ins.err[0]).toBe('PROG: --insecure-links cannot be combined with --confine-root');
    expect(ins.tree).toContain('root/dst/f: old\n');
  });

  it.skipIf(!hasRsync)('--backup-dir outside DIR (absolute, by "..", through a symlink): exit 11 before anything is replaced', async () => {
    for (const dir of [(w: string) => `${w}/out/bk`, () => '../../out/bk', () => 'lnk/bk']) {
      const r = await same((root, w) => ['-a', `--confine-root=${root}`, '-b', `--backup-dir=${dir(w)}`, ...copy(root)]);
      expect(r.code).toBe(11);
      expect(r.tree).toContain('root/dst/f: old\n');
      expect(r.tree.some((l) => l.startsWith('out/bk'))).toBe(false);
    }
  });

  it.skipIf(!hasRsync)('--backup-dir inside DIR, and any with --confine-root=/: the backup is made', async () => {
    const inside = await same((root) => ['-a', `--confine-root=${root}/`, '-b', `--backup-dir=${root}/bk`, ...copy(root)]);
    expect(inside.code).toBe(0);
    expect(inside.tree).toContain('root/bk/f: old\n');
    const slash = await same((root, w) => ['-a', '--confine-root=/', '-b', `--backup-dir=${w}/out/bk`, ...copy(root)]);
    expect(slash.code).toBe(0);
    expect(slash.tree).toContain('out/bk/f: old\n');
    expect(slash.tree).toContain('root/dst/f: new content\n');
  });

  it.skipIf(!hasRsync)('a --files-from name through a symlink leading outside DIR: link_stat fails, exit 23, the rest copied', async () => {
    const a = world();
    fs.writeFileSync(path.join(a.w, 'list'), 'x\noutlnk/x\n');
    const r = spawnSync('rsync', ['-a', `--confine-root=${a.root}`, `--files-from=${a.w}/list`, `${a.root}/`, `${a.w}/d/`], { encoding: 'utf8' });
    const b = world();
    fs.writeFileSync(path.join(b.w, 'list'), 'x\noutlnk/x\n');
    const mine = await runCli([`--engine=${e.name}`, '-a', `--confine-root=${b.root}`, `--files-from=${b.w}/list`, `${b.root}/`, `${b.w}/d/`]);
    expect(mine.code, show(mine)).toBe(23);
    expect(r.status).toBe(23);
    expect(snapshot(path.join(b.w, 'd'))).toEqual(snapshot(path.join(a.w, 'd')));
    expect(snapshot(path.join(b.w, 'd'))).toEqual(['x: inside\n']);
    expect(lines(mine.stderr.split(b.w).join('W'))).toEqual(lines(r.stderr.split(a.w).join('W')));
    expect(lines(mine.stderr)[0]).toBe(`PROG: [sender] link_stat "${b.root}/outlnk/x" failed: Too many levels of symbolic links (40)`);
    // Without --confine-root the same list copies both.
    const free = await runCli([`--engine=${e.name}`, '-a', `--files-from=${b.w}/list`, `${b.root}/`, `${b.w}/e/`]);
    expect(free.code, show(free)).toBe(0);
    expect(snapshot(path.join(b.w, 'e'))).toContain('outlnk/x: secret\n');
  });

  it.skipIf(!hasRsync)('a per-directory merge file leading outside DIR is not read; one inside is', async () => {
    const outside = await same((root, w) => {
      fs.symlinkSync(`${w}/out/rules`, path.join(root, 'src', '.rules'));
      return ['-a', `--confine-root=${root}`, '--filter=dir-merge .rules', ...copy(root)];
    });
    expect(outside.code).toBe(0);
    expect(outside.tree).toContain('root/dst/f: new content\n');
    const inside = await same((root) => {
      fs.writeFileSync(path.join(root, 'src', '.rules'), '- f\n');
      return ['-a', `--confine-root=${root}`, '--filter=dir-merge .rules', ...copy(root)];
    });
    expect(inside.code).toBe(0);
    expect(inside.tree).toContain('root/dst/f: old\n');
  });

  it.skipIf(!hasRsync)('a merge file named inside a per-directory file, leading outside DIR: exit 11 before anything is written (rsync suite rrsync-merge-file-confine)', async () => {
    // The source is reached through a symlink to itself, as the rsync suite does, so a tracker that
    // followed the spelled path rather than the physical one would misjudge "..".
    const setup = (w: string, rules: string): string => {
      const al = path.join(w, 'al');
      fs.mkdirSync(al, { recursive: true });
      fs.writeFileSync(path.join(w, 'secret'), 'word\n');
      for (const f of ['word', 'plain']) fs.writeFileSync(path.join(al, f), 'X');
      fs.symlinkSync('.', path.join(al, 'self'));
      fs.symlinkSync('../secret', path.join(al, 'outside-link'));
      fs.writeFileSync(path.join(al, 'intree-list'), 'plain\n');
      fs.writeFileSync(path.join(al, '.rules'), `${rules}\n`);
      return al;
    };
    for (const [rules, code, has, lacks] of [
      ['merge,- outside-link', 11, [], ['word']],
      ['merge,- intree-list', 0, ['word'], ['plain']],
    ] as const) {
      const a = path.join(base, `${e.name}-${n++}`);
      const b = path.join(base, `${e.name}-${n++}`);
      const ra = setup(a, rules);
      const rb = setup(b, rules);
      const r = spawnSync('rsync', ['-r', `--confine-root=${ra}`, '--filter=:s .rules', `${ra}/self/`, `${a}/d/`], { encoding: 'utf8' });
      const mine = await runCli([`--engine=${e.name}`, '-r', `--confine-root=${rb}`, '--filter=:s .rules', `${rb}/self/`, `${b}/d/`]);
      expect(mine.code, show(mine)).toBe(r.status);
      expect(mine.code, show(mine)).toBe(code);
      expect(snapshot(path.join(b, 'd'))).toEqual(snapshot(path.join(a, 'd')));
      for (const f of has) expect(fs.existsSync(path.join(b, 'd', f))).toBe(true);
      for (const f of lacks) expect(fs.existsSync(path.join(b, 'd', f))).toBe(false);
      if (code === 11) expect(lines(mine.stderr)[0]).toBe(`PROG: failed to open exclude file <rule from ${rb}/self/.rules line 1>`);
    }
  });

  it.skipIf(!hasRsync)('merge and --exclude-from files on the command line are not confined (as rsync)', async () => {
    const r = await same((root, w) => ['-a', `--confine-root=${root}`, `--filter=merge ${w}/out/rules`, `--exclude-from=${w}/out/rules`, ...copy(root)]);
    expect(r.code).toBe(0);
    expect(r.tree).toContain('root/dst/f: old\n');
  });

  it.skipIf(!hasRsync)('--link-dest/--copy-dest/--compare-dest outside DIR: a matching twin is not opened (exit 23, copied whole); inside: used', async () => {
    /** out/ (outside DIR) and root/in/ (inside) each hold twins of src/f: g a level-2 one (other mode). */
    const twins = (root: string, w: string): void => {
      // An existing destination: a new one's "./" line differs (an arsync difference not about confinement).
      fs.mkdirSync(path.join(root, 'new'));
      fs.writeFileSync(path.join(root, 'src', 'g'), 'gee\n');
      fs.utimesSync(path.join(root, 'src', 'g'), T, T);
      for (const d of [path.join(w, 'out'), path.join(root, 'in')]) {
        fs.copyFileSync(path.join(root, 'src', 'f'), path.join(d, 'f'));
        fs.copyFileSync(path.join(root, 'src', 'g'), path.join(d, 'g'));
        fs.chmodSync(path.join(d, 'g'), 0o600);
        fs.chmodSync(path.join(d, 'f'), fs.statSync(path.join(root, 'src', 'f')).mode & 0o777);
        fs.utimesSync(path.join(d, 'f'), T, T);
        fs.utimesSync(path.join(d, 'g'), T, T);
      }
      // Fixed directory times, so "./" is itemized alike whichever second each run falls in.
      fs.utimesSync(path.join(root, 'src'), T, T);
      fs.utimesSync(path.join(root, 'new'), T + 60, T + 60);
    };
    for (const kind of ['link', 'copy', 'compare']) {
      for (const where of [(w: string) => `${w}/out`, () => '../../out', () => '../outlnk']) {
        const r = await same((root, w) => {
          twins(root, w);
          return ['-ai', `--confine-root=${root}`, `--${kind}-dest=${where(w)}`, `${root}/src/`, `${root}/new/`];
        });
        expect(r.code).toBe(23);
        // g (another mode) is compared by data, so its open is refused under every kind.
        expect(r.err.some((l) => /^PROG: \[generator\] open "W\/.*\/g": Too many levels of symbolic links \(40\)$/.test(l)), r.err.join('\n')).toBe(true);
      }
      const inside = await same((root, w) => {
        twins(root, w);
        return ['-ai', `--confine-root=${root}`, `--${kind}-dest=../in`, `${root}/src/`, `${root}/new/`];
      });
      expect(inside.code).toBe(0);
    }
    // The twin really is linked when allowed.
    const { w, root } = world();
    twins(root, w);
    const ok = await runCli([`--engine=${e.name}`, '-a', `--confine-root=${root}`, '--link-dest=../in', `${root}/src/`, `${root}/new/`]);
    expect(ok.code, show(ok)).toBe(0);
    expect(fs.statSync(path.join(root, 'new', 'f')).nlink).toBe(2);
  });

  it.skipIf(!hasRsync)('--temp-dir and --partial-dir inside DIR (absolute, relative, through a symlink that stays inside): the copy is made', async () => {
    // (A relative --temp-dir with ".." is left out: rsync 3.5 fails its mkstemp even unconfined.)
    const opts = [(root: string) => `--temp-dir=${root}/in`, (root: string) => `--partial-dir=${root}/in/p`, () => '--partial-dir=.p'];
    for (const opt of opts) {
      const r = await same((root) => {
        fs.symlinkSync('in', path.join(root, 'inlnk'));
        return ['-a', `--confine-root=${root}`, opt(root).replace(`${root}/in`, `${root}/inlnk`), ...copy(root)];
      });
      expect(r.code).toBe(0);
      expect(r.tree).toContain('root/dst/f: new content\n');
    }
  });

  it('--temp-dir and --partial-dir outside DIR: refused before any I/O (exit 11); a remote transfer: refused', async () => {
    for (const opt of ['--temp-dir=../../out', '--temp-dir=lnk', '--partial-dir=../out', '--partial-dir=/tmp']) {
      const { w, root } = world();
      const r = await runCli([`--engine=${e.name}`, '-a', `--confine-root=${root}`, opt, ...copy(root)]);
      expect(r.code, show(r)).toBe(11);
      expect(r.stderr).toContain('failed: Too many levels of symbolic links (40)');
      expect(snapshot(path.join(w, 'out'))).toEqual(['rules: - f\n', 'x: secret\n']);
      expect(fs.readFileSync(path.join(root, 'dst', 'f'), 'utf8')).toBe('old\n');
    }
    const { root } = world();
    const r = await runCli([`--engine=${e.name}`, '-a', `--confine-root=${root}`, '--rsh=false', `${root}/src/`, `host:${root}/dst/`]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toContain('--confine-root is only supported for a local copy');
    // A pull too; nothing is made at the destination. --confine-root=/ confines nothing: not refused.
    const pull = await runCli([`--engine=${e.name}`, '-a', `--confine-root=${root}`, '--rsh=false', `host:${root}/src/`, `${root}/pulled/`]);
    expect(pull.code, show(pull)).toBe(1);
    expect(pull.stderr).toContain('--confine-root is only supported for a local copy');
    expect(fs.existsSync(path.join(root, 'pulled'))).toBe(false);
    const slash = await runCli([`--engine=${e.name}`, '-a', '--confine-root=/', '--rsh=false', `host:${root}/src/`, `${root}/pulled/`]);
    expect(slash.stderr).not.toContain('--confine-root');
  });
});
