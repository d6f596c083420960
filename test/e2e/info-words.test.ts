// The --info words that report why entries are left alone or what happens beside the transfer, against
// rsync 3.5 on the same trees, on every engine: skip (--existing, --ignore-existing with skip2's
// detail, -u, --max-size/--min-size; -vv gives skip1), remove (--remove-source-files), mount (-x/-xx
// is covered where a mount exists: not here), and the words whose lines a local copy never has (copy,
// misc) print nothing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, lineDiff, normaliseOutput, put, stampTree, touchNs } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** Whether this process may mount a tmpfs (root, outside a restricted container). */
function canMount(): boolean {
  const probe = fs.mkdtempSync('/tmp/arsync-mount-probe-');
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', 'none', probe]).status !== 0) return false;
    spawnSync('umount', [probe]);
    return true;
  } finally {
    fs.rmdirSync(probe);
  }
}

/** A destination with one entry of each kind the skip lines tell apart. */
function skipSetup(root: string): void {
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  put(src, 'new', 'new\n');
  put(src, 'same', 'same\n');
  put(src, 'content', 'AAAA\n');
  put(src, 'attrs', 'attrs\n', 0o644);
  put(src, 'typed', 'typed\n');
  put(src, 'newer', 'newer\n');
  put(src, 'big', 'x'.repeat(100));
  put(src, 'tiny', 't');
  put(src, 'd/inner', 'inner\n');
  put(src, 'old/inner', 'inner\n');
  fs.symlinkSync('same', path.join(src, 'ln'));
  stampTree(src);
  put(dst, 'same', 'same\n');
  put(dst, 'content', 'BBBB\n');
  put(dst, 'attrs', 'attrs\n', 0o600);
  fs.symlinkSync('elsewhere', path.join(dst, 'typed'));
  put(dst, 'newer', 'NEWER\n');
  put(dst, 'big', 'y');
  put(dst, 'old/inner', 'inner\n');
  fs.symlinkSync('other', path.join(dst, 'ln'));
  stampTree(dst, 1_600_000_000);
  // Same times where the case wants the quick check to pass; a later one where -u must keep it.
  const t = (rel: string): string => {
    const st = fs.lstatSync(path.join(src, rel), { bigint: true });
    return `${st.mtimeNs / 1_000_000_000n}.${String(st.mtimeNs % 1_000_000_000n).padStart(9, '0')}`;
  };
  touchNs([[path.join(dst, 'same'), t('same')], [path.join(dst, 'attrs'), t('attrs')], [path.join(dst, 'old/inner'), t('old/inner')], [path.join(dst, 'newer'), '1900000000.5']]);
}

describeEngines((e) => {
  const engine = e.name;
  const run = (args: string[]) => differential({ engine, setup: skipSetup, args: [...args, 'src/', 'dst/'], noItemize: true });

  it('skip: --existing, --ignore-existing (skip2 says what changed, -c by content), -u, sizes; -vv', async () => {
    // The lines themselves, so that agreeing on silence cannot pass for agreement.
    const lines = async (args: string[], want: RegExp[]): Promise<void> => {
      const r = await run(args);
      for (const w of want) expect(r.arsync.stdout, args.join(' ')).toMatch(w);
    };
    await lines(['-rt', '--existing', '--info=skip'], [/^not creating new file "new"$/m, /^not creating new directory "d"$/m]);
    await lines(['-rlt', '--ignore-existing', '--info=skip'], [/^same exists$/m]);
    await lines(['-rlt', '--ignore-existing', '--info=skip2'], [/^typed exists \(type change\)$/m, /^content exists \(file change\)$/m, /^same exists \(uptodate\)$/m]);
    await lines(['-rlpt', '--ignore-existing', '--info=skip2'], [/^attrs exists \(attr change\)$/m]);
    await lines(['-rlt', '-c', '--ignore-existing', '--info=skip2'], [/^content exists \(sum change\)$/m]);
    await lines(['-rlt', '-u', '--info=skip'], [/^newer is newer$/m]);
    await lines(['-rlt', '--max-size=50', '--min-size=2', '--info=skip'], [/^big is over max-size$/m, /^tiny is under min-size$/m]);
    await run(['-avv', '--ignore-existing']);
    await run(['-avv', '-u']);
    await run(['-a', '--existing']);
  });

  it('--existing into a missing destination: it is made and its root itemized; what is passed by still counts in --stats', async () => {
    const base = tempDir(`arsync-existing-${engine}-`);
    for (const side of ['A', 'B']) {
      put(path.join(base, side, 'src'), 'a', 'a\n');
      put(path.join(base, side, 'src'), 'd/big', 'x'.repeat(5000));
      put(path.join(base, side, 'src'), 'd/e/q', 'q\n');
      fs.symlinkSync('/etc/hostname', path.join(base, side, 'src', 'd', 'up'));
    }
    const args = ['-ai', '--existing', '--stats', 'src/', 'dst/'];
    const theirs = spawnSync('rsync', args, { cwd: path.join(base, 'A'), encoding: 'utf8' });
    const ours = await runCli([...args, `--engine=${engine}`], { cwd: path.join(base, 'B') });
    expect(ours.code, ours.stderr).toBe(theirs.status);
    const kept = (out: string) => out.split('\n').filter((l) => /^(created directory|cd|Number of|Total file size|total size is)/.test(l)).map((l) => l.replace(/ {2}speedup.*/, ''));
    expect(kept(ours.stdout)).toEqual(kept(theirs.stdout));
    expect(ours.stdout).toMatch(/^cd\+{9} \.\/$/m);
    expect(ours.stdout).toMatch(/^Number of files: 7 \(reg: 3, dir: 3, link: 1\)$/m);
    expect(fs.readdirSync(path.join(base, 'B', 'dst'))).toEqual([]);
  });

  it('remove: "sender removed X" for every source --remove-source-files removes (sent or already there), -vv too', async () => {
    const setup = (root: string): void => {
      put(path.join(root, 'src'), 'a', 'a\n');
      put(path.join(root, 'src'), 'big', 'x'.repeat(300_000));
      put(path.join(root, 'src'), 'd/b', 'b\n');
      put(path.join(root, 'src'), 'c', 'c\n');
      fs.symlinkSync('a', path.join(root, 'src', 'ln'));
      stampTree(path.join(root, 'src'));
      fs.mkdirSync(path.join(root, 'dst'));
      fs.copyFileSync(path.join(root, 'src', 'c'), path.join(root, 'dst', 'c'));
      const st = fs.statSync(path.join(root, 'src', 'c'));
      fs.utimesSync(path.join(root, 'dst', 'c'), st.atime, st.mtime);
    };
    for (const args of [['-a', '--info=remove'], ['-avv'], ['-a', '-c', '--info=remove'], ['-a']]) {
      const r = await differential({ engine, setup, args: [...args, '--remove-source-files', 'src/', 'dst/'], noItemize: true, sourceChanges: true, volatileDirsUnder: ['src'] });
      if (args.includes('-a') && args.length === 1) expect(r.arsync.stdout).toBe('');
      else expect(r.arsync.stdout).toMatch(/^sender removed d\/b$/m);
    }
  });

  it.skipIf(!canMount())('mount: -x keeps a mount point in the destination ("cannot delete mount point"), -xx skips one in the source', async () => {
    const setup = (root: string): void => {
      put(path.join(root, 'src'), 'a', 'a\n');
      fs.mkdirSync(path.join(root, 'src', 'm'));
      fs.mkdirSync(path.join(root, 'dst', 'n'), { recursive: true });
    };
    // Mounts are not cloned and their times are the mount's: the runs are compared by exit code, output
    // lines and what stays in the mount points, not by differential()'s whole-tree checks.
    for (const args of [['-a', '-x', '--delete', '--info=mount'], ['-avv', '-x', '--delete'], ['-a', '-xx', '--info=mount'], ['-a', '-x', '--delete']]) {
      const base = tempDir('arsync-mount-');
      const mounts: string[] = [];
      const out: Record<string, { code: number | null; stdout: string }> = {};
      try {
        for (const tool of ['rsync', 'arsync']) {
          const r = path.join(base, tool);
          setup(r);
          for (const [dir, file] of [['src/m', 'f'], ['dst/n', 'q']] as const) {
            execFileSync('mount', ['-t', 'tmpfs', 'none', path.join(r, dir)]);
            mounts.push(path.join(r, dir));
            fs.writeFileSync(path.join(r, dir, file), `${file}\n`);
          }
          if (tool === 'rsync') {
            const p = spawnSync('rsync', [...args, 'src/', 'dst/'], { cwd: r, encoding: 'utf8' });
            out[tool] = { code: p.status, stdout: p.stdout };
          } else {
            const p = await runCli([`--engine=${engine}`, ...args, 'src/', 'dst/'], { cwd: r });
            out[tool] = { code: p.code, stdout: p.stdout };
          }
          expect(fs.readFileSync(path.join(r, 'dst/n/q'), 'utf8'), `${tool}: the mount point's contents`).toBe('q\n');
          expect(fs.existsSync(path.join(r, 'dst/m/f')), `${tool}: -x does not enter a source mount point`).toBe(false);
        }
      } finally {
        while (mounts.length) execFileSync('umount', [mounts.pop()!]);
      }
      expect(out['arsync']!.code, args.join(' ')).toBe(out['rsync']!.code);
      expect(lineDiff(normaliseOutput(out['rsync']!.stdout, 'rsync'), normaliseOutput(out['arsync']!.stdout, 'arsync')), args.join(' ')).toEqual({ onlyRsync: [], onlyArsync: [] });
      if (args.includes('-xx')) expect(out['arsync']!.stdout).toMatch(/^\[sender\] skipping mount-point dir m$/m);
      else if (args.length > 3 || args.includes('-avv')) expect(out['arsync']!.stdout).toMatch(/^cannot delete mount point: n$/m);
      else expect(out['arsync']!.stdout).toBe('');
    }
  });

  it.skipIf(!canMount())('-x deletes nothing inside a mount point of either side, in every --delete mode; -xx leaves the source one out, so its twin goes', async () => {
    // rsync's generator deletes only in directories whose contents are listed (a source mount point's
    // are not under -x) and never in a destination directory on another filesystem than its top one.
    const names = (dir: string): string[] => {
      const out: string[] = [];
      const walk = (rel: string): void => {
        for (const n of fs.readdirSync(path.join(dir, rel)).sort()) {
          const r = rel ? `${rel}/${n}` : n;
          out.push(r);
          if (fs.lstatSync(path.join(dir, r)).isDirectory()) walk(r);
        }
      };
      walk('');
      return out;
    };
    for (const side of ['src', 'dst'] as const) {
      for (const args of [['-aix', '--delete'], ['-aix', '--delete-after'], ['-aix', '--delete-before'], ['-aix', '--delete-delay'], ['-aixx', '--delete'], ['-aixx', '--delete-after']]) {
        const base = tempDir('arsync-mount-del-');
        const mounts: string[] = [];
        const out: Record<string, { code: number | null; stdout: string; tree: string[] }> = {};
        try {
          for (const tool of ['rsync', 'arsync']) {
            const r = path.join(base, tool);
            fs.mkdirSync(path.join(r, 'src', 'm'), { recursive: true });
            fs.mkdirSync(path.join(r, 'dst', 'm'), { recursive: true });
            execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'none', path.join(r, side, 'm')]);
            mounts.push(path.join(r, side, 'm'));
            put(path.join(r, 'src'), 'k', 'k\n');
            put(path.join(r, 'src', 'm'), 'inner', 'i\n');
            put(path.join(r, 'dst', 'm'), 'old', 'o\n');
            stampTree(path.join(r, 'src'));
            stampTree(path.join(r, 'dst'));
            if (tool === 'rsync') {
              const p = spawnSync('rsync', [...args, 'src/', 'dst/'], { cwd: r, encoding: 'utf8' });
              out[tool] = { code: p.status, stdout: p.stdout, tree: names(path.join(r, 'dst')) };
            } else {
              const p = await runCli([`--engine=${engine}`, ...args, 'src/', 'dst/'], { cwd: r });
              out[tool] = { code: p.code, stdout: p.stdout, tree: names(path.join(r, 'dst')) };
            }
          }
        } finally {
          while (mounts.length) execFileSync('umount', [mounts.pop()!]);
        }
        const ctx = `${side} mount, ${args.join(' ')}`;
        expect(out['arsync']!.code, ctx).toBe(out['rsync']!.code);
        expect(out['arsync']!.tree, ctx).toEqual(out['rsync']!.tree);
        expect(lineDiff(normaliseOutput(out['rsync']!.stdout, 'rsync'), normaliseOutput(out['arsync']!.stdout, 'arsync')), ctx).toEqual({ onlyRsync: [], onlyArsync: [] });
        // What rsync 3.5 does, so that the comparison cannot pass by both sides failing alike.
        const kept = side === 'dst' || !args[0]!.endsWith('xx');
        expect(out['arsync']!.tree.includes('m/old'), ctx).toBe(kept);
      }
    }
  });

  it('copy and misc print nothing on a local copy, at any level', async () => {
    await run(['-a', '--info=copy2,misc2']);
    await run(['-a', '-i', '--info=copy,misc']);
  });
});
