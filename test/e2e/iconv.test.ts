// --iconv on a local copy, against rsync 3.5 (built with iconv) on every engine: names (and symlink
// targets) converted from the sender's charset to the receiver's, lines printed in the sender's,
// deletions printed as rsync prints them, names that cannot be converted skipped with rsync's message
// (exit 23), --delete/-u/-H/-b/--backup-dir/--files-from/-R and filters with converted names, the
// charset checks before any I/O, RSYNC_ICONV and --no-iconv.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { differential, put, type DiffResult } from '../helpers/differential.js';
import { describeEngines } from '../helpers/e2e.js';
import { BIN, runCli, show } from '../helpers/cli.js';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

afterAll(() => removeTemps());

const L = (s: string): Buffer => Buffer.from(s, 'latin1');
const U = (s: string): Buffer => Buffer.from(s, 'utf8');
/** A file under root whose name is the given bytes (a relative path). */
function putB(root: string, rel: Buffer, content: string): void {
  const p = Buffer.concat([Buffer.from(root + '/'), rel]);
  fs.mkdirSync(Buffer.from(p.subarray(0, p.lastIndexOf(0x2f))), { recursive: true });
  fs.writeFileSync(p, content);
}
function mkdirB(root: string, rel: Buffer): void {
  fs.mkdirSync(Buffer.concat([Buffer.from(root + '/'), rel]), { recursive: true });
}
const exists = (root: string, rel: Buffer): boolean => fs.existsSync(Buffer.concat([Buffer.from(root + '/'), rel]));

/** Every entry under dir (names as bytes) given one past mtime, so that runs compare alike. */
function stampTree(dir: string, t = 1_700_000_000): void {
  const visit = (d: Buffer): void => {
    for (const n of fs.readdirSync(d, { encoding: 'buffer' })) {
      const p = Buffer.concat([d, Buffer.from('/'), n]);
      if (fs.lstatSync(p).isDirectory()) visit(p);
      fs.lutimesSync(p, t, t);
    }
  };
  visit(Buffer.from(dir));
  fs.utimesSync(dir, t, t);
}

/** A source tree of latin1 names: nested, a symlink whose target is latin1, ASCII names beside them. */
function latin1Tree(src: string): void {
  put(src, 'ascii.txt', 'plain\n');
  putB(src, L('café'), 'latin1 name\n');
  putB(src, L('dossier é/fichier ü'), 'nested\n');
  putB(src, L('dossier é/plain'), 'ascii in a latin1 dir\n');
  fs.symlinkSync(L('dossier é/fichier ü'), Buffer.from(src + '/lien'));
  stampTree(src);
}

/** The stderr lines of a run that name a name it could not convert. */
const convertLines = (s: string): string[] =>
  s
    .split('\n')
    .filter((l) => l.includes('cannot convert'))
    .map((l) => l.replace(/^arsync: /, ''))
    .sort();

function sameConvertErrors(r: DiffResult): void {
  expect(convertLines(r.arsync.stderr)).toEqual(convertLines(r.rsync.stderr));
  expect(convertLines(r.arsync.stderr).length).toBeGreaterThan(0);
}

describeEngines((e) => {
  const engine = e.name;

  it('latin1 -> utf8: names, a nested directory and a symlink target converted; lines in the sender charset', async () => {
    const r = await differential({ engine, setup: (O) => latin1Tree(path.join(O, 'src')), args: ['-a', '--iconv=latin1,utf8', 'src/', 'dst/'] });
    expect(r.arsync.code).toBe(0);
    expect(exists(path.join(r.B, 'dst'), U('dossier é/fichier ü'))).toBe(true);
    expect(fs.readlinkSync(path.join(r.B, 'dst', 'lien'), { encoding: 'buffer' })).toEqual(U('dossier é/fichier ü'));
    expect(r.arsync.stdout).toContain('>f+++++++++ caf\\#351');
  });

  it('utf8 -> latin1, -v, and --iconv=CHARSET (the same for both sides) leaves names alone', async () => {
    const setup = (O: string): void => {
      const src = path.join(O, 'src');
      putB(src, U('naïve/résumé'), 'x\n');
      put(src, 'ascii', 'y\n');
      stampTree(src);
    };
    const r = await differential({ engine, setup, args: ['-av', '--iconv=utf8,latin1', 'src/', 'dst/'] });
    expect(exists(path.join(r.B, 'dst'), L('naïve/résumé'))).toBe(true);
    const same = await differential({ engine, setup, args: ['-a', '--iconv=utf8', 'src/', 'dst/'] });
    expect(exists(path.join(same.B, 'dst'), U('naïve/résumé'))).toBe(true);
  });

  it('--iconv=. is the locale charset (UTF-8 here): nothing changes', async () => {
    const r = await differential({
      engine,
      setup: (O) => {
        putB(path.join(O, 'src'), U('日本/ü'), 'x');
        stampTree(path.join(O, 'src'));
      },
      args: ['-a', '--iconv=.', 'src/', 'dst/'],
    });
    expect(exists(path.join(r.B, 'dst'), U('日本/ü'))).toBe(true);
  });

  it("a name the sender cannot convert is skipped with rsync's message, exit 23, and --delete deletes nothing", async () => {
    const r = await differential({
      engine,
      setup: (O) => {
        const src = path.join(O, 'src');
        putB(src, L('sub/bad\xe9x'), 'x');
        putB(src, L('tail\xe9'), 'x');
        put(src, 'sub/ok', 'ok');
        put(path.join(O, 'dst'), 'extra', 'kept: an I/O error stops deletions');
        stampTree(src);
      },
      args: ['-a', '--delete', '--iconv=utf8,latin1', 'src/', 'dst/'],
    });
    expect(r.arsync.code).toBe(23);
    sameConvertErrors(r);
    expect(r.arsync.stderr).toContain('[sender] cannot convert filename: sub/bad\\#351x (Invalid or incomplete multibyte or wide character)');
    expect(r.arsync.stderr).toContain('[sender] cannot convert filename: tail\\#351 (Invalid argument)');
    expect(fs.existsSync(path.join(r.B, 'dst', 'extra'))).toBe(true);
  });

  it("a symlink whose target the sender cannot convert is skipped with rsync's message, exit 23", async () => {
    const r = await differential({
      engine,
      setup: (O) => {
        const src = path.join(O, 'src');
        put(src, 'a', 'a');
        fs.mkdirSync(path.join(src, 'd'));
        fs.symlinkSync(L('x\xe9'), path.join(src, 'd', 'lnk'));
        fs.symlinkSync('ascii', path.join(src, 'd', 'ok'));
        stampTree(src);
      },
      args: ['-a', '--iconv=utf8,latin1', 'src/', 'dst/'],
    });
    expect(r.arsync.code).toBe(23);
    // rsync names the link by its absolute path: the same tree in another root.
    const abs = (s: string, root: string): string[] => convertLines(s).map((l) => l.replace(root, 'ROOT'));
    expect(abs(r.arsync.stderr, r.B)).toEqual(abs(r.rsync.stderr, r.A));
    expect(abs(r.arsync.stderr, r.B)).toEqual(['[sender] cannot convert symlink data for: "ROOT/src/d/lnk" (Invalid argument)']);
    expect(fs.readlinkSync(path.join(r.B, 'dst', 'd', 'ok'))).toBe('ascii');
  });

  it('--delete: an extra file goes, a converted twin stays; deleted names printed as rsync prints them', async () => {
    const r = await differential({
      engine,
      setup: (O) => {
        const src = path.join(O, 'src');
        latin1Tree(src);
        const dst = path.join(O, 'dst');
        spawnSync('rsync', ['-a', '--iconv=latin1,utf8', `${src}/`, `${dst}/`]);
        putB(dst, U('zzé'), 'extra, utf8 name');
        putB(dst, L('yy\xe9'), 'extra, a byte utf8 lacks');
        putB(dst, U('dossier é/old'), 'extra in a converted dir');
      },
      args: ['-a', '--delete', '--iconv=latin1,utf8', 'src/', 'dst/'],
    });
    expect(r.arsync.code).toBe(0);
    expect(r.arsync.stdout).toContain('*deleting   zzÃ©');
    expect(r.arsync.stdout).toContain('*deleting   yyé');
    expect(exists(path.join(r.B, 'dst'), U('café'))).toBe(true);
    expect(exists(path.join(r.B, 'dst'), U('zzé'))).toBe(false);
  });

  it('a second run copies nothing (quick check and -u on converted names)', async () => {
    for (const extra of [[], ['-u']]) {
      const r = await differential({
        engine,
        setup: (O) => {
          const src = path.join(O, 'src');
          latin1Tree(src);
          spawnSync('rsync', ['-a', '--iconv=latin1,utf8', `${src}/`, `${path.join(O, 'dst')}/`]);
        },
        args: ['-a', ...extra, '--iconv=latin1,utf8', 'src/', 'dst/'],
      });
      expect(r.arsync.code).toBe(0);
      expect(r.arsync.stdout.trim()).toBe('');
    }
  });

  it('-H: hard links between converted names', async () => {
    const r = await differential({
      engine,
      setup: (O) => {
        const src = path.join(O, 'src');
        putB(src, L('a\xe9'), 'linked');
        fs.linkSync(Buffer.from(`${src}/a\xe9`, 'latin1'), Buffer.from(`${src}/b\xe9`, 'latin1'));
        mkdirB(src, L('d\xe9'));
        fs.linkSync(Buffer.from(`${src}/a\xe9`, 'latin1'), Buffer.from(`${src}/d\xe9/c\xe9`, 'latin1'));
        stampTree(src);
      },
      args: ['-aH', '--iconv=latin1,utf8', 'src/', 'dst/'],
    });
    const a = fs.statSync(Buffer.concat([Buffer.from(path.join(r.B, 'dst') + '/'), U('aé')]));
    const c = fs.statSync(Buffer.concat([Buffer.from(path.join(r.B, 'dst') + '/'), U('dé/cé')]));
    expect(c.ino).toBe(a.ino);
  });

  it('-b and --backup-dir: the converted twin is backed up under its own name', async () => {
    const setup = (O: string): void => {
      const src = path.join(O, 'src');
      putB(src, L('caf\xe9'), 'new content\n');
      stampTree(src);
      putB(path.join(O, 'dst'), U('café'), 'old\n');
    };
    // -b without --backup-dir implies --omit-dir-times: dst's time is the run's.
    // --info=backup: rsync's receiver names them, in raw sender bytes (stdout decoded: \xe9 is U+FFFD).
    const b = await differential({ engine, setup, args: ['-a', '-b', '--info=backup', '--iconv=latin1,utf8', 'src/', 'dst/'], volatile: ['dst'] });
    expect(b.arsync.stdout).toContain('backed up caf\ufffd to caf\ufffd~');
    expect(fs.readFileSync(Buffer.concat([Buffer.from(path.join(b.B, 'dst') + '/'), U('café~')]), 'utf8')).toBe('old\n');
    const d = await differential({ engine, setup, args: ['-a', '--backup-dir=../bak', '--iconv=latin1,utf8', 'src/', 'dst/'], volatileDirsUnder: ['bak'] });
    expect(fs.readFileSync(Buffer.concat([Buffer.from(path.join(d.B, 'bak') + '/'), U('café')]), 'utf8')).toBe('old\n');
  });

  it('--files-from (and so -R) with latin1 paths', async () => {
    const r = await differential({
      engine,
      setup: (O) => {
        latin1Tree(path.join(O, 'src'));
        fs.writeFileSync(path.join(O, 'list'), Buffer.concat([L('dossier é/fichier ü\ncafé\n')]));
      },
      args: ['-a', '--files-from=list', '--iconv=latin1,utf8', 'src/', 'dst/'],
      // The list does not name ".": dst's time is the run's.
      volatile: ['dst'],
    });
    expect(r.arsync.code).toBe(0);
    expect(exists(path.join(r.B, 'dst'), U('dossier é/fichier ü'))).toBe(true);
  });

  it('-R with a non-ASCII operand path, and --link-dest onto a snapshot under converted names', async () => {
    const setup = (O: string): void => {
      const src = path.join(O, 'src');
      putB(src, U('naïve/résumé'), 'same\n');
      putB(src, U('naïve/neu'), 'new\n');
      stampTree(src);
      spawnSync('rsync', ['-a', '--iconv=utf8,latin1', `${src}/`, `${path.join(O, 'prev')}/`]);
    };
    const r = await differential({ engine, setup, args: ['-aR', '--iconv=utf8,latin1', 'src/./naïve', 'dst/'], volatile: ['dst'] });
    expect(exists(path.join(r.B, 'dst'), L('naïve/résumé'))).toBe(true);
    const l = await differential({ engine, setup, args: ['-a', '--link-dest=../prev', '--iconv=utf8,latin1', 'src/', 'dst/'] });
    const name = (root: string): Buffer => Buffer.concat([Buffer.from(root + '/'), L('naïve/résumé')]);
    expect(fs.statSync(name(path.join(l.B, 'dst'))).ino).toBe(fs.statSync(name(path.join(l.B, 'prev'))).ino);
  });

  it("filters match the sender's names: a latin1 rule excludes, its utf8 spelling does not", async () => {
    for (const rule of [L('- café\n'), U('- café\n')]) {
      const r = await differential({
        engine,
        setup: (O) => {
          latin1Tree(path.join(O, 'src'));
          fs.writeFileSync(path.join(O, 'rules'), rule);
        },
        args: ['-a', '--exclude-from=rules', '--iconv=latin1,utf8', 'src/', 'dst/'],
      });
      expect(exists(path.join(r.B, 'dst'), U('café'))).toBe(rule.includes(0xc3));
    }
  });

  it('several sources merged on converted names (a directory both have, a file the first wins), --delete', async () => {
    const r = await differential({
      engine,
      setup: (O) => {
        for (const [m, f] of [['m1', 'a'], ['m2', 'b']] as const) {
          putB(path.join(O, m), L(`d\xe9/${f}`), `${m} ${f}\n`);
          putB(path.join(O, m), L('f\xe9'), `${m}'s\n`);
          stampTree(path.join(O, m));
        }
        putB(path.join(O, 'dst'), U('fé'), 'old\n');
        put(path.join(O, 'dst'), 'extra', 'x');
      },
      args: ['-a', '--delete', '--iconv=latin1,utf8', 'm1/', 'm2/', 'dst/'],
      unchanged: ['m1', 'm2'],
      pristine: false,
    });
    expect(fs.readFileSync(Buffer.concat([Buffer.from(path.join(r.B, 'dst') + '/'), U('fé')]), 'utf8')).toBe("m1's\n");
    expect(fs.existsSync(path.join(r.B, 'dst', 'extra'))).toBe(false);
  });

  it('--no-iconv after --iconv copies names as they are', async () => {
    const r = await differential({ engine, setup: (O) => latin1Tree(path.join(O, 'src')), args: ['-a', '--iconv=latin1,utf8', '--no-iconv', 'src/', 'dst/'] });
    expect(exists(path.join(r.B, 'dst'), L('café'))).toBe(true);
  });

  it('RSYNC_ICONV is read, and the command line overrides it', async () => {
    const root = tempDir('arsync-iconv-env-');
    latin1Tree(path.join(root, 'src'));
    const r = await runCli(['-a', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root, env: { RSYNC_ICONV: 'latin1,utf8' } });
    expect(r.code, show(r)).toBe(0);
    expect(exists(path.join(root, 'dst'), U('café'))).toBe(true);
    const w = spawnSync('rsync', ['-a', 'src/', 'rdst/'], { cwd: root, env: { ...process.env, RSYNC_ICONV: 'latin1,utf8' } });
    expect(w.status).toBe(0);
    expect(exists(path.join(root, 'rdst'), U('café'))).toBe(true);
    const n = await runCli(['-a', `--engine=${engine}`, '--no-iconv', 'src/', 'dst2/'], { cwd: root, env: { RSYNC_ICONV: 'latin1,utf8' } });
    expect(n.code, show(n)).toBe(0);
    expect(exists(path.join(root, 'dst2'), L('café'))).toBe(true);
  });

  it("-vv and --info=skip: the receiver's lines name entries in raw sender bytes, --debug=ICONV's charset lines", () => {
    const root = tempDir('arsync-iconv-vv-');
    latin1Tree(path.join(root, 'src'));
    putB(path.join(root, 'src'), L('neu\xe9'), 'new\n');
    spawnSync('rsync', ['-a', '--iconv=latin1,utf8', '--exclude=neu*', 'src/', 'base/'], { cwd: root });
    // A destination file newer than its source (-u's "is newer"), one missing (--existing's line).
    fs.utimesSync(Buffer.from(`${root}/base/dossier \xc3\xa9/fichier \xc3\xbc`, 'latin1'), 1_900_000_000, 1_900_000_000);
    const bytesOf = (cmd: string, args: string[], dst: string): { out: string; err: string; code: number | null } => {
      spawnSync('cp', ['-a', 'base', dst], { cwd: root });
      const r = spawnSync(cmd, [...args, 'src/', `${dst}/`], { cwd: root, env: { ...process.env, LC_ALL: 'C.UTF-8' } });
      // Bytes kept one character each; the lines that count protocol bytes dropped.
      const keep = (b: Buffer): string => b.toString('latin1').split('\n').filter((l) => !/^(sent|total size|total:) /.test(l)).join('\n');
      return { out: keep(r.stdout), err: keep(r.stderr), code: r.status };
    };
    let n = 0;
    for (const opts of [['-avv'], ['-a', '-u', '--existing', '--info=skip2'], ['-a', '--ignore-existing', '--info=skip2']]) {
      const args = [...opts, '--iconv=latin1,utf8'];
      // rsync compares times to the nanosecond, as arsync does (see test/helpers/differential.ts).
      const want = bytesOf('rsync', ['--modify-window=-1', ...args], `r${n}`);
      const got = bytesOf(process.execPath, [BIN, `--engine=${engine}`, ...args], `a${n++}`);
      expect(got.code).toBe(want.code);
      expect(got.out.split('\n').sort()).toEqual(want.out.split('\n').sort());
      if (opts[0] === '-avv') {
        expect(got.out).toContain('caf\xe9 is uptodate');
        expect(got.err).toContain('[Receiver] charset: utf8');
        expect(want.err).toContain('[Receiver] charset: utf8');
      }
    }
  });

  it('--list-only: names checked both ways, printed as raw sender bytes, link targets too', () => {
    const root = tempDir('arsync-iconv-list-');
    const src = path.join(root, 'src');
    latin1Tree(src);
    putB(src, U('sub/eur€'), 'x');
    fs.symlinkSync(U('t€'), Buffer.from(`${src}/sub/l`));
    let n = 0;
    for (const args of [['--list-only', '--iconv=latin1,utf8'], ['-rl', '--list-only', '--iconv=utf8,latin1'], ['-r', '--iconv=utf8,latin1']]) {
      // rsync's receiver aborts (exit 4) on a name it cannot convert under incremental recursion.
      const want = spawnSync('rsync', ['--no-i-r', ...args, 'src/'], { cwd: root });
      const got = spawnSync(process.execPath, [BIN, `--engine=${engine}`, ...args, 'src/'], { cwd: root });
      expect(got.status, `${args.join(' ')} ${got.stderr.toString()}`).toBe(want.status);
      expect(got.stdout.toString('latin1')).toBe(want.stdout.toString('latin1'));
      expect(convertLines(got.stderr.toString('latin1'))).toEqual(convertLines(want.stderr.toString('latin1')));
      n += convertLines(got.stderr.toString('latin1')).length;
    }
    expect(n).toBeGreaterThan(2);
  });

  it("an unknown charset: rsync's message, exit 4, nothing written; one that does not keep ASCII: exit 1", async () => {
    const root = tempDir('arsync-iconv-bad-');
    latin1Tree(path.join(root, 'src'));
    for (const spec of ['bogus', 'bogus,utf8', 'latin1,bogus']) {
      const r = await runCli(['-a', `--engine=${engine}`, `--iconv=${spec}`, 'src/', 'dst/'], { cwd: root });
      expect(r.code, show(r)).toBe(4);
      expect(r.stderr).toContain(spec.startsWith('bogus') ? 'iconv_open("UTF-8", "bogus") failed' : 'iconv_open("UTF-8", "bogus") failed');
      expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
    }
    // A charset that does not keep ASCII (rsync 3.5 writes names that begin with UTF-16's byte-order mark).
    for (const spec of ['latin1,UTF-16', 'UTF-32']) {
      const r = await runCli(['-a', `--engine=${engine}`, `--iconv=${spec}`, 'src/', 'dst/'], { cwd: root });
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr).toContain('does not keep ASCII names as they are');
      expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
    }
    // rsync agrees where its two processes fail alike (its "latin1,bogus" ends 12: the receiver dies first).
    for (const spec of ['bogus', 'bogus,utf8']) {
      const w = sameForEveryEngine(spec, () => spawnSync('rsync', ['-a', `--iconv=${spec}`, 'src/', 'rdst/'], { cwd: root, encoding: 'utf8' }));
      expect(w.status).toBe(4);
      expect(w.stderr).toContain('iconv_open("UTF-8", "bogus") failed');
    }
  });

  it("a name the receiver's charset lacks: rsync's message, skipped, exit 23 (as rsync --no-i-r)", async () => {
    const root = tempDir('arsync-iconv-recv-');
    const src = path.join(root, 'src');
    putB(src, U('eur€'), 'x');
    putB(src, U('sub/eur€'), 'x');
    put(src, 'sub/a', 'a');
    const r = await runCli(['-a', `--engine=${engine}`, '--iconv=utf8,latin1', 'src/', 'dst/'], { cwd: root });
    const w = sameForEveryEngine('', () => spawnSync('rsync', ['-a', '--no-i-r', '--iconv=utf8,latin1', 'src/', 'rdst/'], { cwd: root, encoding: 'utf8' }));
    expect(r.code, show(r)).toBe(23);
    expect(w.status).toBe(23);
    expect(convertLines(r.stderr)).toEqual(convertLines(w.stderr));
    expect(convertLines(r.stderr)).toEqual([
      '[Receiver] cannot convert filename: eur\\#342\\#202\\#254 (Invalid or incomplete multibyte or wide character)',
      '[Receiver] cannot convert filename: sub/eur\\#342\\#202\\#254 (Invalid or incomplete multibyte or wide character)',
    ]);
    expect(fs.readdirSync(path.join(root, 'dst', 'sub'))).toEqual(['a']);
  });
});

it('with no addon (the node engine alone) --iconv is refused before any I/O, exit 1', async () => {
  const root = tempDir('arsync-iconv-none-');
  put(path.join(root, 'src'), 'f', 'x');
  const r = await runCli(['-a', '--iconv=latin1,utf8', 'src/', 'dst/'], { cwd: root, env: { ARSYNC_ADDON: 'none' } });
  expect(r.code, show(r)).toBe(1);
  expect(r.stderr).toContain('--iconv needs the native addon');
  expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
});

// Between machines --iconv is remote-iconv.test.ts's; here the one check made before connecting: this
// side's charset must open (rsync says the same, exit 4, after starting its remote shell).
it('with a remote operand, an unknown local charset ends the run before the remote shell starts, exit 4', async () => {
  const root = tempDir('arsync-iconv-remote-');
  put(path.join(root, 'src'), 'f', 'x');
  fs.writeFileSync(path.join(root, 'rsh'), `#!/bin/sh\ntouch '${root}/shell-ran'\nexit 1\n`, { mode: 0o755 });
  const r = await runCli(['-a', '--iconv=nonesuch,utf8', '-e', path.join(root, 'rsh'), 'src/', 'host:dst/'], { cwd: root });
  expect(r.code, show(r)).toBe(4);
  expect(r.stderr).toContain('iconv_open("UTF-8", "nonesuch") failed');
  expect(fs.existsSync(path.join(root, 'shell-ran'))).toBe(false);
});
