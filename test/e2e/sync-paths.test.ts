// Differential tests against rsync (issue 3): what gets copied where: -R with a /./ marker, --files-from,
// --mkpath, several sources, glob sources (against rsync given the shell's expansion), symlink handling
// (-L, --safe-links, --copy-unsafe-links, -K) and -x across a tmpfs mounted inside the source.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, freshSetup, put, stampTree, syncedSetup, touchNs, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** A build output tree for glob sources. */
function distSetup(root: string): void {
  const dist = path.join(root, 'dist');
  put(dist, 'index.js', 'js\n');
  put(dist, 'index.js.map', 'map\n');
  put(dist, 'index.d.ts', 'dts\n');
  put(dist, 'lib/a.js', 'a\n');
  put(dist, 'lib/a.map', 'amap\n');
  put(dist, 'lib/a.css', 'css\n');
  put(dist, 'lib/deep/er/b.js', 'b\n');
  put(dist, 'lib/deep/er/b.txt', 'btxt\n');
  put(dist, 'assets/logo.svg', 'svg\n');
  put(dist, 'assets/app.js', 'app\n');
  put(dist, '.hidden.js', 'dot file\n');
  put(dist, '.cache/c.js', 'in a dot dir\n');
  fs.mkdirSync(path.join(dist, 'empty'));
  stampTree(dist);
  fs.mkdirSync(path.join(root, 'src')); // the harness checks src is unchanged; here it is empty
}

/** The shell's expansion of dist/**\/*.{js,map} (bash globstar: no dot files, ** matches zero or more dirs). */
function bashGlob(cwd: string, pattern: string): string[] {
  const r = spawnSync('bash', ['-O', 'globstar', '-O', 'nullglob', '-c', `printf '%s\\n' ${pattern}`], { cwd, encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

const umount = (p: string): void => void spawnSync('umount', ['-l', p]);

describeEngines((e) => {
  const engine = e.name;

  it('-R with a /./ marker: src/./sub/deep keeps sub/deep/ under dst', async () => {
    await differential({ engine, setup: freshSetup, args: ['-aR', 'src/./sub/deep', 'src/./docs/readme.md', 'dst/'], volatile: ['dst'] });
  });

  it('-R without a marker keeps the whole path, implied dirs included', async () => {
    await differential({ engine, setup: freshSetup, args: ['-aR', 'src/sub/c.txt', 'src/logs', 'dst/'], volatile: ['dst'] });
  });

  // dst itself is not transferred: its mtime is whenever an entry in it was replaced.
  it('-R onto an existing destination (update)', async () => {
    await differential({ engine, setup: updateSetup, args: ['-aR', 'src/./sub', 'src/./a.txt', 'dst/'], volatile: ['dst'] });
  });

  // An implied directory already in place whose entries change: a file operand replaced in it, a
  // directory operand made in it. rsync sets its time back from the list; arsync left it at "now".
  it('-R re-sync: implied directories keep their times when an operand inside them changes or is new', async () => {
    const setup = (root: string): void => {
      put(root, 'src/f2', 'a\n');
      put(root, 'src/sub/h', 'b\n');
      put(root, 'src/sub/deep/g', 'c\n');
      stampTree(path.join(root, 'src'));
      expect(spawnSync('rsync', ['-aR', 'src/sub/deep', 'src/sub/h', 'src/f2', 'dst/'], { cwd: root }).status).toBe(0);
      put(root, 'src/f2', 'changed\n');
      put(root, 'src/sub/newdir/x', 'n\n');
      touchNs([[path.join(root, 'src/f2'), '1700000001.5'], [path.join(root, 'src/sub/newdir/x'), '1700000001.5'], [path.join(root, 'src/sub/newdir'), '1700000000.5'], [path.join(root, 'src/sub'), '1700000000.5']]);
    };
    await differential({ engine, setup, args: ['-aR', 'src/sub/deep', 'src/sub/h', 'src/f2', 'src/sub/newdir', 'dst/'], volatile: ['dst'] });
  });

  it('--files-from with files, a dir and a nested path (implies -R; -a does not recurse into listed dirs... unless -r)', async () => {
    const setup = (root: string): void => {
      freshSetup(root);
      fs.writeFileSync(path.join(root, 'list.txt'), 'a.txt\nsub/deep/e.txt\ndocs\nlogs/\n# not a comment in files-from\n');
    };
    await differential({ engine, setup, args: ['-a', '--files-from=list.txt', 'src/', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup, args: ['-a', '-r', '--files-from=list.txt', 'src/', 'dst/'], volatile: ['dst'] });
  });

  // rsync's sender stats a listed name through a symlink under -L and -k (a link to a directory also
  // when listed "link/", and an unsafe one under --copy-unsafe-links): what it finds is a directory, made
  // under the -d that --files-from brings (entered with -r), skipped under --no-d; the same for operands
  // and for such links inside a "dir/" listed without -r.
  it('--files-from, -L/-k/--copy-unsafe-links: a listed symlink to a directory is made as that directory (-d), entered with -r', async () => {
    const setup = (root: string): void => {
      put(root, 'src/b/s', 's\n');
      put(root, 'src/x/keep', 'k\n');
      put(root, 'src/f', 'f\n');
      put(root, 'out/od/o', 'o\n');
      fs.symlinkSync('b', path.join(root, 'src/lb'));
      fs.symlinkSync('f', path.join(root, 'src/lf'));
      fs.symlinkSync('../out/od', path.join(root, 'src/lu'));
      fs.writeFileSync(path.join(root, 'list'), 'lb\nx\nlu\nlf\n');
      fs.writeFileSync(path.join(root, 'list2'), 'lb/\nlu/\n');
      stampTree(path.join(root, 'src'));
      stampTree(path.join(root, 'out'));
    };
    const r = await differential({ engine, setup, args: ['-a', '-L', '--files-from=list', 'src/', 'dst/'], volatile: ['dst'] });
    expect(fs.lstatSync(path.join(r.B, 'dst/lb')).isDirectory()).toBe(true);
    expect(r.arsync.stdout).not.toContain('skipping directory');
    for (const args of [
      ['-a', '-k', '--files-from=list', 'src/', 'dst/'],
      ['-a', '--copy-unsafe-links', '--files-from=list', 'src/', 'dst/'],
      ['-a', '-L', '-r', '--files-from=list', 'src/', 'dst/'],
      ['-a', '-k', '-r', '--files-from=list', 'src/', 'dst/'],
      ['-a', '-L', '--no-d', '--files-from=list', 'src/', 'dst/'],
      ['-a', '--files-from=list2', 'src/', 'dst/'],
      ['-lptgoD', '-d', '-L', 'src/lb', 'src/f', 'dst/'],
      ['-lptgoD', '-d', '-k', 'src/lb', 'nd'],
      ['-lptgoD', '-L', 'src/lb', 'nd'],
      ['-lptgoD', '-d', '-k', 'src/', 'dst/'],
      ['-lptgoD', '-d', '--copy-unsafe-links', 'src/', 'dst/'],
    ]) {
      await differential({ engine, setup, args, volatile: ['dst', 'nd'] });
    }
  });

  it('--files-from with --delete on an existing destination', async () => {
    await differential({
      engine,
      setup: (root) => {
        updateSetup(root);
        fs.writeFileSync(path.join(root, 'list.txt'), 'a.txt\nb.bin\nsub/\n');
      },
      args: ['-ar', '--delete', '--files-from=list.txt', 'src/', 'dst/'],
      // dst itself is not in the list: its mtime is whenever an entry in it was replaced.
      volatile: ['dst'],
    });
  });

  it('--mkpath creates the missing destination path; without it, a missing parent is an error', async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', '--mkpath', 'src/', 'dst/new/deeper/'], volatile: ['dst', 'dst/new'] });
    await differential({ engine, setup: freshSetup, args: ['-a', 'src/', 'dst/new/deeper/'] });
    await differential({ engine, setup: freshSetup, args: ['-a', '--mkpath', 'src/a.txt', 'dst/x/y/renamed.txt'], volatile: ['dst', 'dst/x', 'dst/x/y'] });
  });

  it('several sources, files and dirs, with and without trailing slashes', async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', 'src/sub', 'src/docs/', 'src/a.txt', 'src/lnk', 'dst/'], volatile: ['dst'] });
  });

  it('a single file onto a new name, and onto an existing dir', async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', 'src/b.bin', 'copy.bin'] });
    await differential({
      engine,
      setup: (root) => {
        freshSetup(root);
        fs.mkdirSync(path.join(root, 'dst'));
        touchNs([[path.join(root, 'dst'), '1700000000.5']]);
      },
      args: ['-a', 'src/b.bin', 'dst'],
      volatile: ['dst'],
    });
  });

  it("glob sources: -R 'dist/**/*.{js,map}' staging/ copies what bash's globstar expansion gives rsync", async () => {
    let expanded: string[] = [];
    await differential({
      engine,
      setup: distSetup,
      args: ['-a', '-R', 'dist/**/*.{js,map}', 'staging/'],
      // rsync gets what an unquoted glob in bash (globstar on) would have given it.
      rsyncArgs: (root) => {
        expanded = bashGlob(root, 'dist/**/*.{js,map}');
        return ['-a', '-R', ...expanded, 'staging/'];
      },
      volatile: ['staging'],
      unchanged: ['dist'],
      after: ({ B }) => {
        expect(expanded.length).toBeGreaterThan(4);
        expect(fs.existsSync(path.join(B, 'staging/dist/lib/deep/er/b.js'))).toBe(true);
        expect(fs.existsSync(path.join(B, 'staging/dist/lib/a.css'))).toBe(false);
      },
    });
  });

  it('-L copies what symlinks point to (a dangling one is an error, exit 23)', async () => {
    await differential({ engine, setup: freshSetup, args: ['-aL', 'src/', 'dst/'] });
  });

  it('--safe-links skips links that leave the tree ("ignoring unsafe symlink" at -v)', async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', '--safe-links', 'src/', 'dst/'] });
    await differential({ engine, setup: freshSetup, args: ['-av', '--safe-links', 'src/', 'dst/'], noItemize: true });
  });

  it('--copy-unsafe-links copies what unsafe links point to, keeps safe ones as links ("copying unsafe symlink" at -v)', async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', '--copy-unsafe-links', 'src/', 'dst/'] });
    const v = await differential({ engine, setup: freshSetup, args: ['-av', '--copy-unsafe-links', 'src/', 'dst/'], noItemize: true });
    expect(v.arsync.stdout).toMatch(/^copying unsafe symlink "[^"]+" -> "[^"]+"$/m);
  });

  // rsync's sender prints these lines as it lists each directory, ahead of its generator (a lookahead of
  // 1,000 entries): before any deletion or name, whatever the order of the rest (which varies in rsync).
  it('--copy-unsafe-links -v --delete: the "copying unsafe symlink" lines come first, before the deletions', async () => {
    const setup = (root: string): void => {
      freshSetup(root);
      fs.symlinkSync('../../../outside.txt', path.join(root, 'src/sub/deep/out'));
      put(path.join(root, 'dst'), 'zz', 'extraneous\n');
      put(path.join(root, 'dst'), 'sub/old/x', 'extraneous\n');
      put(path.join(root, 'dst'), 'sub/deep/gone', 'extraneous\n');
    };
    const r = await differential({ engine, setup, args: ['-av', '--copy-unsafe-links', '--delete', 'src/', 'dst/'], noItemize: true });
    const head = (out: string): string[] => {
      const lines = out.split('\n').slice(1);
      const n = lines.findIndex((l) => !l.startsWith('copying unsafe symlink '));
      return lines.slice(0, n);
    };
    expect(head(r.rsync.stdout).length, r.rsync.stdout).toBe(3);
    expect(head(r.arsync.stdout), r.arsync.stdout).toEqual(head(r.rsync.stdout));
  });

  it('-L on an update where a link became a file and a file became a link', async () => {
    await differential({
      engine,
      setup: (root) => {
        const src = syncedSetup(root);
        fs.rmSync(path.join(src, 'lnk'));
        put(src, 'lnk', 'now a file\n');
        fs.rmSync(path.join(src, 'sub/c.txt'));
        fs.symlinkSync('d.log', path.join(src, 'sub/c.txt'));
      },
      args: ['-a', 'src/', 'dst/'],
    });
  });

  it('-K keeps a symlink to a dir on the destination and syncs through it', async () => {
    await differential({
      engine,
      setup: (root) => {
        const src = syncedSetup(root);
        fs.appendFileSync(path.join(src, 'docs/readme.md'), 'more\n');
        // The link stays inside dst: rsync >= 3.4 refuses to follow a destination symlink that leaves the
        // destination tree ("Too many levels of symbolic links", exit 23) even with -K.
        const t = fs.statSync(path.join(root, 'dst'), { bigint: true }).mtimeNs;
        fs.renameSync(path.join(root, 'dst/docs'), path.join(root, 'dst/real-docs'));
        fs.symlinkSync('real-docs', path.join(root, 'dst/docs'));
        touchNs([[path.join(root, 'dst'), `${t / 1_000_000_000n}.${String(t % 1_000_000_000n).padStart(9, '0')}`]]);
      },
      args: ['-aK', 'src/', 'dst/'],
      // rsync sets the directory's times on the -K link itself, so neither tool restores real-docs after
      // writing into it: it keeps the time of the run.
      volatile: ['dst/real-docs'],
    });
  });

  it('-x does not cross into a tmpfs mounted inside the source (-xx: not even the mount point)', async () => {
    const mounts: string[] = [];
    const setup = (root: string): void => {
      freshSetup(root);
      fs.mkdirSync(path.join(root, 'src/mnt'));
      touchNs([
        [path.join(root, 'src/mnt'), '1700000000.25'],
        [path.join(root, 'src'), '1700000001.75'],
      ]);
    };
    const beforeRun = ({ A, B }: { A: string; B: string }): void => {
      for (const r of [A, B]) {
        const m = path.join(r, 'src/mnt');
        const t = fs.statSync(path.join(r, 'src'), { bigint: true }).mtimeNs;
        const res = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'none', m]);
        if (res.status !== 0) throw new Error(`mount: ${res.stderr.toString()}`);
        mounts.push(m);
        put(m, 'on-tmpfs.txt', 'other fs\n');
        put(m, 'inner/x', 'x\n');
        touchNs([
          [path.join(m, 'on-tmpfs.txt'), '1700000002.5'],
          [path.join(m, 'inner/x'), '1700000003.5'],
          [path.join(m, 'inner'), '1700000004.5'],
          [m, '1700000005.5'],
          [path.join(r, 'src'), `${t / 1_000_000_000n}.${String(t % 1_000_000_000n).padStart(9, '0')}`],
        ]);
      }
    };
    try {
      await differential({ engine, setup, beforeRun, pristine: false, args: ['-ax', 'src/', 'dst/'] });
      mounts.splice(0).forEach(umount);
      await differential({ engine, setup, beforeRun, pristine: false, args: ['-axx', 'src/', 'dst/'] });
      mounts.splice(0).forEach(umount);
      // Control: without -x the mount's contents are copied.
      await differential({ engine, setup, beforeRun, pristine: false, args: ['-a', 'src/', 'dst/'] });
    } finally {
      mounts.splice(0).forEach(umount);
    }
  });
});
