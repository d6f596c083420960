// Differential tests against rsync 3.5 for the rsync-parity defects of issue 7: rules where arsync used to
// do something else quietly (unsafe-symlink detection, -u across a type change, --out-format without %i,
// --chmod without a who-letter, and the rest listed per case).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { clone, differential, freshSetup, mtimeOf, put, shIn, stampTree, syncedSetup, touchNs } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** Links rsync calls unsafe although they never leave the tree, and ones it calls safe. */
function dotdotSetup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'x/f', 'x\n');
  fs.mkdirSync(path.join(src, 'a/a/a'), { recursive: true });
  fs.symlinkSync('a/a/a/../../../x', path.join(src, 'climb')); // ".." after a name: unsafe
  fs.symlinkSync('x/..', path.join(src, 'tail')); // ends in "/..": unsafe
  fs.symlinkSync('../x', path.join(src, 'a/up')); // leading "..", stays inside: safe
  fs.symlinkSync('../../x/f', path.join(src, 'a/a/up2')); // safe
  fs.symlinkSync('./x//f', path.join(src, 'dotted')); // safe
  fs.symlinkSync('../../../x', path.join(src, 'a/a/out')); // climbs above the root: unsafe
  stampTree(src);
}

describeEngines((e) => {
  const engine = e.name;

  it('--safe-links: any ".." after a named component is unsafe (rsync does not resolve it)', async () => {
    await differential({ engine, setup: dotdotSetup, args: ['-a', '--safe-links', 'src/', 'dst/'] });
    await differential({ engine, setup: dotdotSetup, args: ['-a', '--safe-links', 'src', 'dst/'], volatile: ['dst'] });
    await differential({
      engine,
      // Without "tail" (x/.. is the root itself: following it recurses until ELOOP in both tools).
      setup: (root) => {
        dotdotSetup(root);
        fs.rmSync(path.join(root, 'src/tail'));
        touchNs([[path.join(root, 'src'), '1700000000.5']]);
      },
      args: ['-a', '--copy-unsafe-links', 'src/', 'dst/'],
      after: ({ B }) => expect(fs.lstatSync(path.join(B, 'dst/climb')).isDirectory()).toBe(true),
    });
  });

  it('-u replaces a newer destination entry of another type (a type change always updates)', async () => {
    await differential({
      engine,
      setup: (root) => {
        const src = path.join(root, 'src');
        const dst = path.join(root, 'dst');
        put(src, 'was-link', 'now a file\n');
        put(src, 'was-file/inner', 'now a dir\n');
        put(src, 'same-type', 'older file\n');
        put(dst, 'same-type', 'newer file stays\n');
        put(dst, 'was-file', 'a newer file\n');
        fs.mkdirSync(dst, { recursive: true });
        fs.symlinkSync('somewhere', path.join(dst, 'was-link'));
        stampTree(src, 1_600_000_000);
        stampTree(dst, 1_800_000_000);
      },
      args: ['-au', 'src/', 'dst/'],
      after: ({ B }) => {
        expect(fs.readFileSync(path.join(B, 'dst/was-link'), 'utf8')).toBe('now a file\n');
        expect(fs.readFileSync(path.join(B, 'dst/same-type'), 'utf8')).toBe('newer file stays\n');
      },
    });
  });

  it("--out-format='%%i %n' is a literal %i, so it prints like -v, not like -i", async () => {
    const setup = (root: string): void => {
      const src = syncedSetup(root);
      fs.chmodSync(path.join(src, 'a.txt'), 0o600); // an attribute-only change: -i shows it, -v does not
      put(src, 'new.txt', 'new\n');
      touchNs([[path.join(src, 'new.txt'), '1700000000.5']]);
    };
    for (const fmt of ['%%i %n', '%n%L', '%i|%n', "%'-12i%n"]) {
      await differential({ engine, setup, args: ['-a', `--out-format=${fmt}`, 'src/', 'dst/'], noItemize: true, volatile: ['dst'] });
    }
  });

  it('--chmod without a who-letter filters the bits through the umask (D+w, F-w, F=rw, a+w)', async () => {
    const setup = (root: string): void => {
      const src = path.join(root, 'src');
      put(src, 'd/f', 'f\n', 0o444);
      put(src, 'g', 'g\n', 0o777);
      fs.chmodSync(path.join(src, 'd'), 0o555);
      stampTree(src);
    };
    for (const rule of ['D+w', 'F-w,D-x', 'F=rw,Dg=rx', 'a+w', 'u+w,F+x']) {
      await differential({ engine, setup, args: ['-a', `--chmod=${rule}`, 'src/', 'dst/'] });
    }
  });

  it("--chmod copies one class's bits to others as rsync 3.5 does (g=o, o=, a+u, go-u, =g, Fo=u)", async () => {
    const setup = (root: string): void => {
      const src = path.join(root, 'src');
      put(src, 'd/f', 'f\n', 0o754);
      put(src, 'g', 'g\n', 0o4751);
      put(src, 'h', 'h\n', 0o2640);
      fs.chmodSync(path.join(src, 'd'), 0o751);
      stampTree(src);
    };
    for (const rule of ['g=o,o=', 'a+u', 'go-u', '=g', 'Fo=u,Dg+o', 'u=g']) {
      await differential({ engine, setup, args: ['-a', `--chmod=${rule}`, 'src/', 'dst/'] });
    }
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('--safe-links --backup: an unsafe destination symlink is replaced or deleted, never backed up', async () => {
    const setup = (root: string): void => {
      const src = path.join(root, 'src');
      const dst = path.join(root, 'dst');
      put(src, 'abs', 'now a file\n');
      put(src, 'dotdot', 'now a file\n');
      put(src, 'sub/gone/.keep', '');
      fs.symlinkSync('new-target', path.join(src, 'safe'));
      fs.mkdirSync(path.join(dst, 'sub/gone'), { recursive: true });
      fs.symlinkSync('/etc/hostname', path.join(dst, 'abs'));
      fs.symlinkSync('a/../b', path.join(dst, 'dotdot'));
      fs.symlinkSync('old-target', path.join(dst, 'safe'));
      fs.symlinkSync('../../../escape', path.join(dst, 'sub/gone/extra-unsafe'));
      fs.symlinkSync('.keep', path.join(dst, 'sub/gone/extra-safe'));
      stampTree(src);
      stampTree(dst, 1_650_000_000);
    };
    await differential({
      engine,
      setup,
      args: ['-a', '--safe-links', '--backup', '--delete', 'src/', 'dst/'],
      // --backup without --backup-dir implies -O in rsync: directories keep the time of the run.
      volatileDirsUnder: ['dst'],
      after: ({ B }) => {
        expect(fs.existsSync(path.join(B, 'dst/abs~'))).toBe(false);
        expect(fs.readlinkSync(path.join(B, 'dst/safe~'))).toBe('old-target');
      },
    });
    await differential({ engine, setup, args: ['-a', '--safe-links', '--backup-dir=../bak', '--delete', 'src/', 'dst/'], volatileDirsUnder: ['bak'] });
  });
});

/** Three source trees that share names: files, a dir in one and a file in another, nested dirs. */
function overlapSetup(root: string): void {
  put(root, 'd1/f', 'f from d1\n');
  put(root, 'd1/sub/a', 'a from d1\n');
  put(root, 'd1/sub/deep/x', 'x from d1\n');
  put(root, 'd1/clash/in', 'clash dir from d1\n');
  put(root, 'd1/same', 'same from d1\n');
  put(root, 'd2/f', 'f from d2\n');
  put(root, 'd2/sub/a', 'a from d2\n');
  put(root, 'd2/sub/b', 'b from d2\n');
  put(root, 'd2/sub/deep/y', 'y from d2\n');
  put(root, 'd2/clash', 'clash file from d2\n');
  put(root, 'd2/same', 'same from d2\n');
  put(root, 'd3/f/in', 'f is a dir in d3\n');
  put(root, 'd3/only3', 'only in d3\n');
  fs.symlinkSync('elsewhere', path.join(root, 'd3/same'));
  put(root, 'dst/extra', 'extraneous\n');
  put(root, 'dst/sub/extra', 'extraneous\n');
  put(root, 'dst/sub/deep/extra', 'extraneous\n');
  put(root, 'dst/d2/old', 'kept: d2 lands here\n');
  put(root, 'dst/f', 'old f\n');
  fs.mkdirSync(path.join(root, 'src'));
  for (const d of ['d1', 'd2', 'd3', 'dst']) stampTree(path.join(root, d), d === 'dst' ? 1_600_000_000 : 1_700_000_000);
}

describeEngines((e) => {
  const engine = e.name;
  const unchanged = ['d1', 'd2', 'd3'];

  it('several sources merge: the first occurrence wins, a directory beats a file, dirs merge', async () => {
    await differential({ engine, setup: overlapSetup, args: ['-a', 'd1/', 'd2/', 'd3/', 'dst/'], unchanged });
    await differential({ engine, setup: overlapSetup, args: ['-a', 'd2/', 'd1/', 'dst/'], unchanged });
    await differential({ engine, setup: overlapSetup, args: ['-a', 'd1/f', 'd2/f', 'd3/f', 'd2/same', 'd1/same', 'dst/'], unchanged, volatile: ['dst'] });
    await differential({ engine, setup: overlapSetup, args: ['-an', 'd1/', 'd2/', 'd3/', 'dst/'], unchanged });
  });

  it('the same source given twice is copied once', async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', 'src/a.txt', 'src/a.txt', 'src/sub', 'src/sub', 'src/sub/', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup: freshSetup, args: ['-aR', 'src/./sub', 'src/./sub/deep', 'src/./sub/c.txt', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup: freshSetup, args: ['-aR', 'src/./sub/deep', 'src/./sub', 'src/./sub/deep/e.txt', 'dst/'], volatile: ['dst'] });
  });

  it('--delete with several sources deletes only what none of them has', async () => {
    for (const del of ['--delete', '--delete-before', '--delete-after']) {
      await differential({ engine, setup: overlapSetup, args: ['-a', del, 'd1/', 'd2/', 'd3/', 'dst/'], unchanged });
      await differential({ engine, setup: overlapSetup, args: ['-a', del, 'd1/', 'd2', 'dst/'], unchanged });
    }
  });
});

/** A tree for -R and --files-from path cases: nested dirs, a symlinked directory, a file at the top. */
function relSetup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a/b/c/f', 'f\n');
  put(src, 'a/b/g', 'g\n');
  put(src, 'top', 'top\n');
  put(src, 'real/deep/h', 'h\n');
  fs.symlinkSync('real', path.join(src, 'link'));
  fs.chmodSync(path.join(src, 'a/b'), 0o750);
  stampTree(src);
  fs.chmodSync(src, 0o750);
}

describeEngines((e) => {
  const engine = e.name;

  it('--files-from lines are sanitized like rsync: ".." never climbs, "/./" and "dir/./" markers count', async () => {
    const lists: Record<string, string> = {
      dotdot: '../top\na/../top\na/b/../../a/b/g\n/a/b/c/f\n',
      trailing: 'a/b/..\n',
      marker: 'a/./b/c/f\na/b/./c\n',
      dotdir: 'a/./\n',
      leading: './a/b/./c/\n',
      // The same entries reached twice: through "..", a listed dir and its own entries, implied dirs.
      overlap: '..\ntop\na/\na/b/\na/b/g\n',
      implied: 'a/b/g\na\na/b\n',
    };
    for (const text of Object.values(lists)) {
      for (const r of [[], ['-r']]) {
        await differential({
          engine,
          setup: (root) => {
            relSetup(root);
            fs.writeFileSync(path.join(root, 'list'), text);
          },
          args: ['-a', ...r, '--files-from=list', 'src/', 'dst/'],
          // Made by the run (its time is the run's) unless the list gives it the source's attributes.
          volatile: ['dst'],
        });
      }
    }
  });

  // rsync takes every escape: %c is what its sender read for a transferred file (the checksum header, and
  // a searched basis's block sums), %m the daemon's module (empty here), and one it has no value for
  // here (%a %h %P %u, its daemon's) or does not know stays as written.
  it("--out-format's %c, %m and the escapes rsync leaves as written", async () => {
    const setup = (root: string): void => {
      relSetup(root);
      fs.mkdirSync(path.join(root, 'dst'));
      fs.writeFileSync(path.join(root, 'dst/top'), 'x'.repeat(3000));
      fs.utimesSync(path.join(root, 'dst/top'), 1_600_000_000, 1_600_000_000);
      fs.writeFileSync(path.join(root, 'src/top'), 'x'.repeat(2000) + 'y'.repeat(2000));
    };
    for (const extra of [[], ['--no-whole-file'], ['--append']]) {
      await differential({ engine, setup, args: ['-a', ...extra, '--out-format=%n|%c|%-6c|%m|%a|%h|%P|%u|%z', 'src/', 'dst/'] });
    }
  });

  // The source directory "." (or "./"): the listed names are read from the working directory. arsync once
  // made them "/NAME", reading from the root instead (exit 23 where nothing there had the name).
  it('--files-from with "." and "./" as the source directory reads from the working directory', async () => {
    for (const dot of ['.', './']) {
      await differential({
        engine,
        setup: (root) => {
          relSetup(root);
          fs.writeFileSync(path.join(root, 'list'), 'src/a/b/c/f\nsrc/top\n');
        },
        args: ['-a', '--stats', '--files-from=list', dot, 'dst/'],
        volatile: ['dst'],
      });
    }
  });

  it('-R with ".." in the kept part of a path is a usage error (exit 1) before anything is made', async () => {
    await differential({
      engine,
      setup: relSetup,
      args: ['-aR', 'src/a/../top', 'src/a/b/g', 'dst/'],
      after: ({ A, B, arsync }) => {
        expect(arsync.stderr).toContain('found ".." dir in relative path: src/a/../top');
        expect(fs.existsSync(path.join(A, 'dst'))).toBe(false);
        expect(fs.existsSync(path.join(B, 'dst'))).toBe(false);
      },
    });
    // Before a /./ marker ".." is the user's business.
    await differential({ engine, setup: relSetup, args: ['-aR', 'src/a/.././top', 'dst/'], volatile: ['dst'] });
  });

  it('-R "./name" gives the destination the attributes of "." (rsync sends the implied dot dir)', async () => {
    await differential({
      engine,
      setup: relSetup,
      // After the marker, "./top" names src's own "." .
      args: ['-aR', 'src/././top', 'src/./a/b', 'dst/'],
    });
    await differential({
      engine,
      setup: (root) => {
        relSetup(root);
        fs.writeFileSync(path.join(root, 'list'), './top\na/b/g\n');
      },
      args: ['-a', '--files-from=list', 'src/', 'dst/'],
    });
  });

  it('-R through a symlinked directory in the source path makes it a real directory', async () => {
    await differential({ engine, setup: relSetup, args: ['-aR', 'src/link/deep/h', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup: relSetup, args: ['-aR', 'src/./link/deep', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup: relSetup, args: ['-aR', 'src/link/deep', 'src/./link/deep/h', 'dst/'], volatile: ['dst'] });
  });
});

/** Hard-linked groups of every type: devices, FIFOs, symlinks and regular files. */
function hardlinkSetup(root: string): void {
  const src = path.join(root, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  shIn(src, [
    'mknod d1 c 1 3 && ln d1 d2 && ln d1 sub/d3',
    'mkfifo p1 && ln p1 p2',
    'mkfifo q1 && ln q1 q2 && ln q1 sub/q3',
    'ln -s tgt s1 && ln s1 s2',
    'echo x > f1 && ln f1 f2',
  ].join('\n'));
  stampTree(src);
}

describeEngines((e) => {
  const engine = e.name;

  it('-H links devices, FIFOs and symlinks as rsync does (the first member is made, the others linked)', async () => {
    await differential({ engine, setup: hardlinkSetup, args: ['-aH', 'src/', 'dst/'] });
    // A re-sync where the destination lost a member and has an unlinked copy of another.
    await differential({
      engine,
      setup: (root) => {
        hardlinkSetup(root);
        clone(path.join(root, 'src'), path.join(root, 'dst'));
        shIn(path.join(root, 'dst'), 'rm p2 sub/q3 && rm q2 && mkfifo q2 && touch -r q1 q2 && rm s2 && ln -s tgt s2 && touch -h -r s1 s2');
        touchNs([[path.join(root, 'dst'), mtimeOf(path.join(root, 'src'))], [path.join(root, 'dst/sub'), mtimeOf(path.join(root, 'src/sub'))]]);
      },
      args: ['-aH', 'src/', 'dst/'],
    });
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('-H: when the member that would be sent vanishes mid-run, a survivor is sent and linked (exit 24)', async () => {
    const root = tempDir(`arsync-hvanish-${engine}-`);
    const src = path.join(root, 'src');
    put(src, 'a/f1', 'linked data\n');
    fs.mkdirSync(path.join(src, 'z'));
    fs.linkSync(path.join(src, 'a/f1'), path.join(src, 'z/f2')); // the last member: rsync's and arsync's leader
    fs.linkSync(path.join(src, 'a/f1'), path.join(src, 'a/f0'));
    fs.mkdirSync(path.join(src, 'zz/y'), { recursive: true });
    // zz/y/.rules is a FIFO: the walk reads it when it lists zz/, after z/, and blocks there until the
    // writer below has removed z/f2, so the leader vanishes between the walk and its transfer, every time.
    spawnSync('mkfifo', [path.join(src, 'zz/y/.rules')]);
    const attacker = spawn('timeout', ['60', 'sh', '-c', 'exec 3>"$1/zz/y/.rules"; rm "$1/z/f2"; exec 3>&-', 'sh', src], { stdio: 'ignore' });
    const r = await runCli(['-aH', '--filter=: .rules', '--exclude=.rules', `--engine=${engine}`, `${src}/`, `${root}/dst/`], { timeoutMs: 60_000 });
    attacker.kill();
    expect(r.code, show(r)).toBe(24);
    expect(r.stderr).toContain(`file has vanished: "${src}/z/f2"`);
    expect(fs.readFileSync(path.join(root, 'dst/a/f1'), 'utf8')).toBe('linked data\n');
    const f0 = fs.statSync(path.join(root, 'dst/a/f0'));
    expect(f0.ino).toBe(fs.statSync(path.join(root, 'dst/a/f1')).ino);
    expect(f0.nlink).toBe(2);
    expect(fs.existsSync(path.join(root, 'dst/z/f2'))).toBe(false);
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('--mkpath where mkdir answers ENOENT under an existing parent (/proc) fails at once with rsync\'s exit 11', async () => {
    const root = tempDir(`arsync-mkpath-${engine}-`);
    put(root, 'src/f', 'f\n');
    for (const [from, to] of [['src/', '/proc/arsync-no-such/x/'], ['src/f', '/proc/arsync-no-such/x/y']] as const) {
      const rs = spawnSync('rsync', ['-a', '--mkpath', from, to], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      // A hang is killed after 30 s and fails here (code null): no timing is asserted.
      const r = await runCli(['-a', '--mkpath', `--engine=${engine}`, from, to], { cwd: root, timeoutMs: 30_000 });
      expect(rs.status).toBe(11);
      expect(r.code, show(r)).toBe(11);
      expect(r.stderr).toContain(`[Receiver] mkdir "${to}" failed: No such file or directory (2)`);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    }
    // And --mkpath still makes every missing level elsewhere.
    const r = await runCli(['-a', '--mkpath', `--engine=${engine}`, 'src/', 'new/a/b/'], { cwd: root, timeoutMs: 30_000 });
    expect(r.code, show(r)).toBe(0);
    expect(fs.readFileSync(path.join(root, 'new/a/b/f'), 'utf8')).toBe('f\n');
  });
});

/** A source with one entry of each linkable type and a previous snapshot identical to it. */
function linkDestSetup(root: string): void {
  const src = path.join(root, 'src');
  fs.mkdirSync(src);
  shIn(src, 'echo data > f && ln -s tgt l && mkfifo p && mknod d c 1 3');
  put(src, 'changed', 'new\n');
  stampTree(src);
}

const fillPrev = (prev: string, src: string): void => {
  spawnSync('cp', ['-a', `${src}/.`, prev]);
  fs.writeFileSync(path.join(prev, 'changed'), 'old!\n');
  touchNs([[path.join(prev, 'changed'), '1650000000.5']]);
};

describeEngines((e) => {
  const engine = e.name;

  it('--link-dest links symlinks, FIFOs and devices too (same filesystem)', async () => {
    for (const i of [[], ['-i']]) {
      await differential({
        engine,
        setup: (root) => {
          linkDestSetup(root);
          fs.mkdirSync(path.join(root, 'prev'));
          fillPrev(path.join(root, 'prev'), path.join(root, 'src'));
        },
        args: ['-a', ...i, '--link-dest=../prev', 'src/', 'dst/'],
        noItemize: true,
      });
    }
  });

  it('--link-dest with --size-only, -I or -c: a twin of the same size at another time is a match, never one, or one by its data (rsync quick_check_ok)', async () => {
    for (const opt of ['--size-only', '-I', '-c']) {
      await differential({
        engine,
        setup: (root) => {
          linkDestSetup(root);
          fs.mkdirSync(path.join(root, 'prev'));
          fillPrev(path.join(root, 'prev'), path.join(root, 'src'));
          // Same size and data as the source's `f`, another time.
          touchNs([[path.join(root, 'prev', 'f'), '1650000000.25']]);
        },
        args: ['-ai', opt, '--link-dest=../prev', 'src/', 'dst/'],
      });
    }
  });

  it('two --link-dest directories: a directory takes the twin whose attributes all match, not the first there is (rsync try_dests_non)', async () => {
    await differential({
      engine,
      setup: (root) => {
        linkDestSetup(root);
        fs.mkdirSync(path.join(root, 'prev'));
        fillPrev(path.join(root, 'prev'), path.join(root, 'src'));
        // The first directory has the root (and no file) with another mode and time: a twin, not an exact one.
        fs.mkdirSync(path.join(root, 'other'), 0o700);
        touchNs([[path.join(root, 'other'), '1500000000.5']]);
      },
      args: ['-ai', '--link-dest=../other', '--link-dest=../prev', 'src/', 'dst/'],
    });
  });

  it('--link-dest on another filesystem: what cannot be hard-linked is copied, silently (exit 0)', async () => {
    const mounts: string[] = [];
    try {
      for (const i of [[], ['-i']]) {
        await differential({
          engine,
          setup: (root) => {
            linkDestSetup(root);
            fs.mkdirSync(path.join(root, 'prev'));
          },
          // prev is a tmpfs of its own in each clone: every link(2) into dst fails with EXDEV.
          beforeRun: ({ A, B }) => {
            for (const r of [A, B]) {
              const m = path.join(r, 'prev');
              const t = fs.statSync(r, { bigint: true }).mtimeNs;
              const res = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'none', m]);
              if (res.status !== 0) throw new Error(`mount: ${res.stderr.toString()}`);
              mounts.push(m);
              fillPrev(m, path.join(r, 'src'));
              touchNs([[r, `${t / 1_000_000_000n}.${String(t % 1_000_000_000n).padStart(9, '0')}`]]);
            }
          },
          args: ['-a', ...i, '--link-dest=../prev', 'src/', 'dst/'],
          noItemize: true,
          volatile: ['prev'],
          after: ({ B }) => {
            expect(fs.readFileSync(path.join(B, 'dst/f'), 'utf8')).toBe('data\n');
            expect(fs.readlinkSync(path.join(B, 'dst/l'))).toBe('tgt');
            expect(fs.lstatSync(path.join(B, 'dst/p')).isFIFO()).toBe(true);
            expect(fs.lstatSync(path.join(B, 'dst/d')).isCharacterDevice()).toBe(true);
          },
        });
        for (const m of mounts.splice(0)) spawnSync('umount', ['-l', m]);
      }
    } finally {
      for (const m of mounts) spawnSync('umount', ['-l', m]);
    }
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('without -p, new entries take their bits from the destination directory\'s default ACL (not the umask)', async () => {
    for (const acl of ['u::rwx,g::rwx,o::r-x', 'u::rwx,g::r-x,o::---,u:1234:rwx', 'u::rw-,g::r--,o::r--']) {
      await differential({
        engine,
        setup: (root) => {
          const src = path.join(root, 'src');
          put(src, 'f', 'f\n', 0o664);
          put(src, 'd/g', 'g\n', 0o666);
          put(src, 'x', 'x\n', 0o775);
          shIn(src, 'mkfifo -m 666 p');
          fs.chmodSync(path.join(src, 'd'), 0o775);
          stampTree(src);
          fs.mkdirSync(path.join(root, 'dst'));
          put(root, 'dst/old', 'an existing file keeps its mode\n', 0o600);
          shIn(root, `setfacl -d -m ${acl} dst`);
          touchNs([[path.join(root, 'dst/old'), '1600000000.5'], [path.join(root, 'dst'), '1600000000.5']]);
        },
        // -rtD: no -p (the umask is 022 in both runs).
        args: ['-rtD', 'src/', 'dst/'],
        volatile: ['dst'],
      });
    }
  });
});
