// --protocol=20..30 on a local copy, against rsync 3.5 at the same protocol (test/helpers/differential.ts),
// on every engine: before 31 the file list has whole-second mtimes, so rsync compares whole seconds and
// leaves every time it sets with no fraction (symlinks' too); before 30 a plain --delete deletes first,
// --append verifies, the list is not incremental and %C has no sum to print; before 29 rsync's --stats has
// no created-files line, and it refuses the options its old protocol lacks (exit 2). arsync reproduces the
// copy at every protocol from 20; before 29 it refuses the per-file lines it does not reproduce.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { deleteSetup, differential, mtimeOf, put, touchNs, updateSetup } from '../helpers/differential.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

afterAll(() => removeTemps());

/**
 * Entries the setup made or changed just now get old times (with fractions): a time in the second the run
 * happens in would count as the same as a new entry's own (rsync then leaves the entry's time alone).
 */
function aged(dir: string): void {
  const stamps: [string, string][] = [];
  let i = 0;
  const walk = (p: string): void => {
    if (fs.lstatSync(p).isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n));
    if (Number(mtimeOf(p).split('.')[0]) > 1_750_000_000) stamps.push([p, `${1_710_000_000 + 1000 * i++}.${String(500_000_001 + i)}`]);
  };
  walk(dir);
  touchNs(stamps);
}

/**
 * updateSetup, plus a destination file whose mtime differs from its source's only below the second
 * (rsync's list before 31 cannot tell them apart: it is left alone), and hard links in the source.
 */
function olderSetup(root: string): void {
  deleteSetup(root);
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  const sec = mtimeOf(path.join(src, 'empty')).split('.')[0]!;
  touchNs([[path.join(dst, 'empty'), `${sec}.000000001`]]);
  put(src, 'sub/linked.txt', 'one inode, two names\n');
  fs.linkSync(path.join(src, 'sub/linked.txt'), path.join(src, 'sub/deep/also-linked.txt'));
  touchNs([[path.join(src, 'sub/linked.txt'), '1700000500.987654321']]);
  aged(src);
}

/** rsync compares whole seconds at these protocols, as at any: the differential's nanosecond window is lifted for it. */
const seconds = (args: string[]): string[] => ['--modify-window=0', ...args];

/** Every entry's mtime under `dir` has no fraction of a second, or is one `keep` lists. */
function wholeSeconds(dir: string, keep: string[] = []): string[] {
  const bad: string[] = [];
  const walk = (rel: string): void => {
    const p = path.join(dir, rel);
    const t = mtimeOf(p);
    if (!t.endsWith('.000000000') && !keep.includes(rel)) bad.push(`${rel || '.'} ${t}`);
    if (fs.lstatSync(p).isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(rel, n));
  };
  walk('');
  return bad;
}

describeEngines((e) => {
  const engine = e.name;

  for (const proto of ['30', '29']) {
    it(`--protocol=${proto} -aH --delete: rsync's -i lines, whole-second times, the entry it cannot tell changed left alone`, async () => {
      const args = ['-aH', '--delete', `--protocol=${proto}`, 'src/', 'dst/'];
      const r = await differential({ engine, setup: olderSetup, args, rsyncArgs: seconds(args) });
      // Whole seconds everywhere it set a time; the file that differed below the second kept its own, and so
      // did the source's unchanged entries which the previous sync left with their fractions.
      expect(r.arsync.stdout).not.toMatch(/ empty\n/);
      expect(mtimeOf(path.join(r.B, 'dst/empty'))).toMatch(/\.000000001$/);
      expect(mtimeOf(path.join(r.B, 'dst/sub/linked.txt'))).toBe('1700000500.000000000');
      expect(mtimeOf(path.join(r.B, 'dst/new.txt'))).toMatch(/\.000000000$/);
      expect(mtimeOf(path.join(r.B, 'dst/lnk'))).toMatch(/\.000000000$/);
      expect(fs.statSync(path.join(r.B, 'dst/sub/deep/also-linked.txt')).ino).toBe(fs.statSync(path.join(r.B, 'dst/sub/linked.txt')).ino);
      // A changed symlink: rsync's sender before 30 is not told that symlink times are set.
      expect(r.arsync.stdout).toContain(`cLc.${proto === '29' ? 'T' : 't'}...... lnk -> sub/c.txt`);
    });
  }

  it('--stats at 30, 29, 28 and 20: the count lines each protocol has (created files from 29, deleted from 31)', async () => {
    for (const proto of ['30', '29', '28', '20']) {
      const args = ['-a', '--delete', '--stats', `--protocol=${proto}`, 'src/', 'dst/'];
      // Times and protocol byte counts are each tool's own.
      const lines = (out: string): string[] => out.split('\n').filter((l) => !/^(File list generation time|Total bytes|sent |total size|Server is very old)/.test(l));
      const inSetup = (): string => {
        const root = tempDir(`arsync-protostats-${engine}-`);
        olderSetup(root);
        return root;
      };
      const want = sameForEveryEngine(proto, () => lines(spawnSync('rsync', args, { cwd: inSetup(), encoding: 'utf8' }).stdout));
      expect(lines((await runCli([...args, `--engine=${engine}`], { cwd: inSetup() })).stdout), proto).toEqual(want);
      expect(want.some((l) => l.startsWith('Number of created files')), proto).toBe(proto !== '28' && proto !== '20');
      expect(want.some((l) => l.startsWith('Number of deleted files')), proto).toBe(false);
    }
  });

  it('--protocol=30 onto an empty destination: every time whole seconds, symlinks included', async () => {
    const args = ['-a', '--protocol=30', 'src/', 'fresh/'];
    const setup = (root: string): void => {
      updateSetup(root);
      aged(path.join(root, 'src'));
    };
    const r = await differential({ engine, setup, args, rsyncArgs: seconds(args), volatile: ['fresh'] });
    // The top directory's time is the differential's own (it evens out the roots).
    expect(wholeSeconds(path.join(r.B, 'fresh'), [''])).toEqual([]);
  });

  it('--protocol=29 -av --delete: a plain --delete deletes before the transfer, and the list is built whole (-v lines in rsync\'s order)', async () => {
    const args = ['-av', '--delete', '--protocol=29', 'src/', 'dst/'];
    const setup = (root: string): void => {
      deleteSetup(root);
      aged(path.join(root, 'src'));
    };
    const r = await differential({ engine, setup, args, rsyncArgs: seconds(args), noItemize: true });
    const out = r.arsync.stdout.split('\n');
    expect(out[0]).toBe('building file list ... done');
    // Every deletion comes before the first transferred name (--delete-before's order).
    const lastDelete = out.map((l) => l.startsWith('deleting ')).lastIndexOf(true);
    expect(lastDelete).toBeGreaterThan(0);
    expect(out.indexOf('a.txt')).toBeGreaterThan(lastDelete);
    // The same lines in the same order (the differential compares them as a set).
    const lines = (s: string): string[] => s.split('\n').filter((l) => !/^(sent|total size) /.test(l));
    expect(lines(r.arsync.stdout)).toEqual(lines(r.rsync.stdout));
  });

  it('--protocol=29 -avv --delete: the delete pass before the transfer names its top directory, then the generator says how files are sent', async () => {
    const args = ['-avv', '--delete', '--protocol=29', 'src/', 'dst/'];
    const setup = (root: string): void => {
      deleteSetup(root);
      aged(path.join(root, 'src'));
    };
    const r = await differential({ engine, setup, args, rsyncArgs: seconds(args), noItemize: true });
    const out = r.arsync.stdout.split('\n');
    expect(out.slice(0, 2)).toEqual(['building file list ... done', 'deleting in .']);
    expect(out.indexOf('delta-transmission disabled for local transfer or --whole-file')).toBeGreaterThan(out.map((l) => l.startsWith('deleting ')).lastIndexOf(true));
  });

  for (const proto of ['28', '24', '20']) {
    it(`--protocol=${proto} -aH --delete: the tree as rsync leaves it`, async () => {
      const args = ['-aH', '--delete', `--protocol=${proto}`, 'src/', 'dst/'];
      const r = await differential({ engine, setup: olderSetup, args, rsyncArgs: seconds(args), noItemize: true });
      expect(mtimeOf(path.join(r.B, 'dst/empty'))).toMatch(/\.000000001$/);
      expect(mtimeOf(path.join(r.B, 'dst/sub/linked.txt'))).toBe('1700000500.000000000');
    });
  }

  it('--protocol=24: rsync\'s notes on a very old protocol (stdout and stderr), none under -q', async () => {
    for (const q of [[], ['-q']]) {
      const root = tempDir(`arsync-proto24-${engine}-`);
      put(root, 'src/f', 'f\n');
      const rsync = sameForEveryEngine(q, () => spawnSync('rsync', ['-a', ...q, '--protocol=24', 'src/', 'r/'], { cwd: root, encoding: 'utf8' }));
      const got = await runCli(['-a', ...q, '--protocol=24', `--engine=${engine}`, 'src/', 'a/'], { cwd: root });
      expect(got.code, show(got)).toBe(0);
      expect(got.stdout).toBe(rsync.stdout);
      expect(got.stderr).toBe(rsync.stderr);
      expect(got.stdout).toBe(q.length ? '' : 'Server is very old version of rsync, upgrade recommended.\n');
    }
  });

  it('--protocol=22 and 23 -r: the receiver\'s "skipping non-regular file" lines on stderr before 23 (not multiplexed), on stdout from 23', async () => {
    for (const proto of ['22', '23']) {
      const root = tempDir(`arsync-proto22-${engine}-`);
      put(root, 'src/f', 'f\n');
      fs.symlinkSync('f', path.join(root, 'src/lnk'));
      spawnSync('mkfifo', [path.join(root, 'src/fifo')]);
      const rsync = sameForEveryEngine(proto, () => spawnSync('rsync', ['-r', `--protocol=${proto}`, 'src/', 'r/'], { cwd: root, encoding: 'utf8' }));
      const got = await runCli(['-r', `--protocol=${proto}`, `--engine=${engine}`, 'src/', 'a/'], { cwd: root });
      expect(got.code, show(got)).toBe(0);
      expect(got.stdout, proto).toBe(rsync.stdout);
      expect(got.stderr, proto).toBe(rsync.stderr);
      expect((proto === '22' ? got.stderr : got.stdout).split('\n')).toContain('skipping non-regular file "lnk"');
    }
  });

  it('--protocol=29: %C has no sum to print (MD4 is not canonical), under -c too; the node engine needs no addon for it', async () => {
    for (const [proto, c] of [['29', []], ['29', ['-c']]] as const) {
      const root = tempDir(`arsync-protoC-${engine}-`);
      put(root, 'src/f', 'data\n');
      const args = ['-a', ...c, '--out-format=[%C] %n', `--protocol=${proto}`, 'src/', 'dst/'];
      const rsync = sameForEveryEngine(c, () => spawnSync('rsync', args, { cwd: root, encoding: 'utf8' }));
      fs.rmSync(path.join(root, 'dst'), { recursive: true, force: true });
      const got = await runCli([...args, `--engine=${engine}`], { cwd: root });
      expect(got.code, show(got)).toBe(0);
      expect(got.stdout, `${proto} ${c.join(' ')}`).toBe(rsync.stdout);
      expect(got.stdout.split('\n')).toContain(`[${' '.repeat(32)}] f`);
    }
  });

  it('--protocol=29 --append: the kept part is verified first (rsync\'s --append-verify before 30), at 30 it is not', async () => {
    for (const proto of ['29', '30']) {
      const args = ['-a', '--append', `--protocol=${proto}`, 'src/', 'dst/'];
      const run = async (tool: 'rsync' | 'arsync'): Promise<{ code: number | null; bytes: string }> => {
        const root = tempDir(`arsync-protoappend-${engine}-`);
        put(root, 'src/f', 'abcdefgh\n');
        put(root, 'dst/f', 'XY');
        const code = tool === 'rsync' ? spawnSync('rsync', args, { cwd: root }).status : (await runCli([...args, `--engine=${engine}`], { cwd: root })).code;
        return { code, bytes: fs.readFileSync(path.join(root, 'dst/f'), 'utf8') };
      };
      const want = await sameForEveryEngine(proto, () => run('rsync'));
      expect(await run('arsync'), proto).toEqual(want);
      expect(want.bytes).toBe(proto === '29' ? 'abcdefgh\n' : 'XYcdefgh\n');
    }
  });

  it('--protocol=29 -B 1M: allowed when --protocol comes first (rsync\'s older limit), refused after', async () => {
    const root = tempDir(`arsync-protoB-${engine}-`);
    put(root, 'src/f', 'f\n');
    for (const args of [['--protocol=29', '-B', '1M'], ['-B', '1M', '--protocol=29']]) {
      const rsync = sameForEveryEngine(args, () => spawnSync('rsync', ['-a', ...args, 'src/', 'r/'], { cwd: root, encoding: 'utf8' }));
      const got = await runCli(['-a', ...args, `--engine=${engine}`, 'src/', 'a/'], { cwd: root });
      expect(got.code, show(got)).toBe(rsync.status);
    }
    expect(fs.existsSync(path.join(root, 'a/f'))).toBe(true);
  });

  it('--protocol=30: a symlink re-pointed within the second of its old one gets the whole second (made again), a file unchanged below the second keeps its own', async () => {
    const setup = (root: string): void => {
      put(root, 'src/a', 'x');
      put(root, 'dst/a', 'x');
      fs.symlinkSync('a', path.join(root, 'src/lnk'));
      fs.symlinkSync('zz', path.join(root, 'dst/lnk'));
      touchNs([
        [path.join(root, 'src/lnk'), '1700000000.5'], [path.join(root, 'src/a'), '1700000000.5'], [path.join(root, 'dst/a'), '1700000000.75'],
        [path.join(root, 'dst/lnk'), '1700000000.25'], [path.join(root, 'src'), '1700000300.5'], [path.join(root, 'dst'), '1700000300.5'],
      ]);
    };
    const args = ['-a', '--protocol=30', 'src/', 'dst/'];
    const r = await differential({ engine, setup, args, rsyncArgs: seconds(args) });
    expect(mtimeOf(path.join(r.B, 'dst/lnk'))).toBe('1700000000.000000000');
    expect(mtimeOf(path.join(r.B, 'dst/a'))).toBe('1700000000.750000000');
  });

  it.skipIf(process.getuid?.() !== 0)('--protocol=30 -a: devices and FIFOs made with whole-second times, one already there left alone', async () => {
    const setup = (root: string): void => {
      put(root, 'src/f', 'f\n');
      fs.mkdirSync(path.join(root, 'dst'));
      for (const d of ['src', 'dst']) spawnSync('mkfifo', [path.join(root, d, 'fifo')]);
      spawnSync('mknod', [path.join(root, 'src/null'), 'c', '1', '3']);
      touchNs([
        [path.join(root, 'src/fifo'), '1700000100.250000000'],
        [path.join(root, 'dst/fifo'), '1700000100.750000000'],
        [path.join(root, 'src/null'), '1700000200.125000000'],
        [path.join(root, 'src'), '1700000300.5'],
        [path.join(root, 'dst'), '1700000300.75'],
      ]);
    };
    const args = ['-a', '--protocol=30', 'src/', 'dst/'];
    const r = await differential({ engine, setup, args, rsyncArgs: seconds(args) });
    expect(mtimeOf(path.join(r.B, 'dst/null'))).toBe('1700000200.000000000');
    expect(mtimeOf(path.join(r.B, 'dst/fifo'))).toBe('1700000100.750000000');
    expect(r.arsync.stdout).toContain('cD+++++++++ null');
  });

  it.skipIf(!fidelity(engine).xattrs)('--protocol=29 -X: a local copy keeps extended attributes at any protocol (rsync\'s local server allows them)', async () => {
    const setup = (root: string): void => {
      put(root, 'src/f', 'f\n');
      spawnSync('setfattr', ['-n', 'user.k', '-v', 'v', path.join(root, 'src/f')]);
    };
    const args = ['-aX', '--protocol=29', 'src/', 'dst/'];
    const r = await differential({ engine, setup, args, rsyncArgs: seconds(args), volatile: ['dst'] });
    expect(spawnSync('getfattr', ['--only-values', '-n', 'user.k', path.join(r.B, 'dst/f')], { encoding: 'utf8' }).stdout).toBe('v');
  });
});

/** What rsync refuses before protocol 29: [arguments, its message]; exit 2, nothing written. */
const REFUSED: [string[], string][] = [
  [['--fuzzy'], '--fuzzy requires protocol 29 or higher (negotiated 28).'],
  [['-m'], '--prune-empty-dirs requires protocol 29 or higher (negotiated 28).'],
  [['--link-dest=../x', '--inplace'], '--link-dest with --inplace requires protocol 29 or higher (negotiated 28).'],
  [['--copy-dest=../x', '--copy-dest=../y'], 'Using more than one --copy-dest option requires protocol 29 or higher (negotiated 28).'],
];

describe('--protocol=28: what rsync refuses at that protocol, refused alike (exit 2, nothing written)', () => {
  for (const [args, message] of REFUSED) {
    it(args.join(' '), async () => {
      const root = tempDir('arsync-proto28-');
      put(root, 'src/f', 'f\n');
      const rsync = spawnSync('rsync', ['-a', ...args, '--protocol=28', 'src/', 'r/'], { cwd: root, encoding: 'utf8' });
      const got = await runCli(['-a', ...args, '--protocol=28', 'src/', 'a/'], { cwd: root });
      expect(rsync.status).toBe(2);
      expect(rsync.stderr).toContain(message);
      expect(got.code, show(got)).toBe(2);
      expect(got.stderr).toContain(message);
      expect(fs.existsSync(path.join(root, 'a'))).toBe(false);
    });
  }

  it('-v, -i, --out-format, --progress, --log-file, --list-only: the lines rsync prints before 29 are not reproduced, so refused (exit 1)', async () => {
    for (const o of [['-v'], ['-i'], ['--out-format=%n'], ['--progress'], ['--log-file=log'], ['--list-only']]) {
      const root = tempDir('arsync-proto28-');
      put(root, 'src/f', 'f\n');
      const got = await runCli(['-a', ...o, '--protocol=28', 'src/', 'a/'], { cwd: root });
      expect(got.code, show(got)).toBe(1);
      expect(got.stderr).toContain('--protocol=28 with -v, -i, --out-format, --progress, --log-file or --list-only');
      expect(fs.existsSync(path.join(root, 'a'))).toBe(false);
    }
  });

  // rsync spells every rule for its old wire on both ends: the sender's refusal is exit 2, the
  // receiver's (and -C's ":C", which it adds itself) exit 12.
  const RULES: [string[], number][] = [
    [['--filter=-! x'], 2], [['--filter=-! x', '--delete-excluded'], 12], [['--filter=P x'], 0], [['--filter=P x', '--delete-excluded'], 2],
    [['--filter=-s x'], 0], [['--filter=-p x'], 2], [['--filter=-p x', '--delete-excluded'], 0], [['-C'], 12], [['--filter=:- .ign'], 2],
    [['--filter=-/ x'], 2], [['--exclude=/x'], 0], [['--filter=+ a'], 0], [['--filter=-C'], 2], [['--filter=:C'], 2], [['--include=- x'], 0],
  ];
  for (const [args, code] of RULES) {
    it(`${args.join(' ')}: exit ${code} as rsync ("filter rules are too modern for remote rsync.")`, async () => {
      const root = tempDir('arsync-proto28-');
      put(root, 'src/f', 'f\n');
      put(root, 'src/x', 'x\n');
      const rsync = spawnSync('rsync', ['-a', '--delete', ...args, '--protocol=28', 'src/', 'r/'], { cwd: root, encoding: 'utf8' });
      const got = await runCli(['-a', '--delete', ...args, '--protocol=28', 'src/', 'a/'], { cwd: root });
      expect(rsync.status, rsync.stderr).toBe(code);
      expect(got.code, show(got)).toBe(code);
      // The same rules after --protocol: only -C's list differs (rsync made it perishable at 32).
      const later = spawnSync('rsync', ['-a', '--delete', '--protocol=28', ...args, 'src/', 'r2/'], { cwd: root, encoding: 'utf8' });
      const got2 = await runCli(['-a', '--delete', '--protocol=28', ...args, 'src/', 'a2/'], { cwd: root });
      expect(got2.code, show(got2)).toBe(later.status);
      if (code) {
        expect(got.stderr).toContain('filter rules are too modern for remote rsync.');
        expect(fs.existsSync(path.join(root, 'a'))).toBe(false);
      } else {
        expect(fs.readdirSync(path.join(root, 'a')).sort()).toEqual(fs.readdirSync(path.join(root, 'r')).sort());
      }
    });
  }

  it('-R --no-implied-dirs before 30: an operand whose parent is not in the list stops the run as rsync\'s generator does; at 30 it is copied', async () => {
    for (const [proto, ops, message] of [
      ['29', ['a/b/f'], 'a/b/f'], ['29', ['a/b/'], 'a/b'], ['29', ['a/./b/f'], 'b/f'], ['29', ['a', 'a/b/f'], undefined], ['29', ['.'], undefined], ['30', ['a/b/f'], undefined],
    ] as const) {
      const root = tempDir('arsync-protoR-');
      put(root, 'src/a/b/f', 'f\n');
      const args = ['-a', '-R', '--no-implied-dirs', `--protocol=${proto}`, ...ops];
      const rsync = spawnSync('rsync', [...args, '../r/'], { cwd: path.join(root, 'src'), encoding: 'utf8' });
      const got = await runCli([...args, '../a/'], { cwd: path.join(root, 'src') });
      const what = `${proto} ${ops.join(' ')}`;
      if (message) {
        // rsync's own exit is its sender's view of the generator's end: 12, or 13 when its message came first.
        expect([12, 13], what).toContain(rsync.status);
        expect(rsync.stderr).toContain(`ABORTING due to invalid path from sender: ${message}\n`);
        expect(got.code, show(got)).toBe(12);
        expect(got.stderr).toContain(`ABORTING due to invalid path from sender: ${message}\n`);
        expect(fs.existsSync(path.join(root, 'a')), what).toBe(false);
      } else {
        expect(rsync.status, what).toBe(0);
        expect(got.code, show(got)).toBe(0);
        expect(fs.existsSync(path.join(root, 'a', 'a/b/f')), what).toBe(true);
      }
    }
  });

  it('a remote transfer: only 30 to 32 (exit 1; 30 is test/e2e/remote-protocol30.test.ts)', async () => {
    const got = await runCli(['-a', '--protocol=29', 'src/', 'host:dst/']);
    expect(got.code, show(got)).toBe(1);
    expect(got.stderr).toContain('--protocol=29: arsync speaks older protocols on a local copy only (to another machine: 30 to 32)');
  });
});
