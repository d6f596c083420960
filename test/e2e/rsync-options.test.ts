// rsync's options that change nothing in a local copy (docs/options.md, "no effect locally"), against rsync
// itself: on the same starting tree both tools must give the same exit code, the same -i (or -v) lines and
// the same result (test/helpers/differential.ts), on every engine; and a value rsync rejects must be
// rejected with rsync's exit code, a message naming the option, and nothing written.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { clone, differential, freshSetup, put, updateSetup } from '../helpers/differential.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';

/** rsync's result (A) against arsync's (B), whole work roots, with the node engine's µs mtimes. */
function compareTreesFormatted(A: string, B: string, engine: string): string[] {
  for (const r of [A, B]) fs.utimesSync(r, 1_600_000_000, 1_600_000_000);
  return formatDiffs(compareTrees(A, B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 }));
}

afterAll(() => removeTemps());

describeEngines((e) => {
  const engine = e.name;

  it('-avz src/ dst/ (the most common rsync line): rsync\'s -v lines and tree', async () => {
    await differential({ engine, setup: freshSetup, args: ['-avz', 'src/', 'dst/'], noItemize: true });
  });

  it('compression options and their aliases, in an update', async () => {
    await differential({
      engine,
      setup: updateSetup,
      args: ['-a', '-zz', '--compress-choice=zstd', '--compress-level=9', '--zc=ZLIB', '--zl=-1', '--compress-threads=2', '--zt=0',
        '--skip-compress=gz/jpg', '--old-compress', '--new-compress', '--no-compress', '--no-z', '--compress', 'src/', 'dst/'],
    });
  });

  it('--no-whole-file -B --checksum-choice --checksum-seed: the delta knobs change neither the -i lines nor the result', async () => {
    await differential({
      engine,
      setup: updateSetup,
      args: ['-a', '--no-whole-file', '--block-size=1024', '--checksum-choice=xxh128,md5', '--checksum-seed=5', 'src/', 'dst/'],
    });
  });

  it('--no-W -B2K --cc=md5 with -c, and the -v lines of a delta update', async () => {
    await differential({ engine, setup: updateSetup, args: ['-av', '--no-W', '-B', '2K', '--cc=md5', '-c', 'src/', 'dst/'], noItemize: true });
  });

  it('-y/--fuzzy: a new file like one the destination has (and --delete taking that one away) gives rsync\'s lines and tree', async () => {
    const fuzzySetup = (root: string): void => {
      freshSetup(root);
      put(path.join(root, 'src'), 'data-v2.bin', Buffer.alloc(50_000, 7));
      put(path.join(root, 'dst'), 'data-v1.bin', Buffer.alloc(50_000, 7));
    };
    await differential({ engine, setup: fuzzySetup, args: ['-a', '-yy', '--delete', 'src/', 'dst/'] });
    await differential({ engine, setup: fuzzySetup, args: ['-a', '--fuzzy', '--no-fuzzy', '-y', '--no-y', '--fuzzy', 'src/', 'dst/'] });
  });

  it('the remote shell and remote side: -e, --rsync-path, -M with a no-effect option', async () => {
    await differential({
      engine,
      setup: updateSetup,
      args: ['-a', '-e', 'ssh -p 2222', '--rsync-path=/nonexistent/rsync', '-M--no-motd', '--remote-option=--outbuf=L', 'src/', 'dst/'],
    });
  });

  it('--no-whole-file --stats: rsync\'s lines and figures, what its delta algorithm matched included', async () => {
    const base = tempDir(`arsync-nowhole-${engine}-`);
    const O = path.join(base, 'O');
    fs.mkdirSync(O);
    updateSetup(O);
    clone(O, path.join(base, 'A'));
    clone(O, path.join(base, 'B'));
    const args = ['-a', '--stats', '--no-whole-file', 'src/', 'dst/'];
    // rsync compares whole seconds unless told otherwise (see differential.ts); arsync, nanoseconds.
    const rsync = spawnSync('rsync', ['--modify-window=-1', ...args], { cwd: path.join(base, 'A'), encoding: 'utf8' });
    const r = await runCli([...args, `--engine=${engine}`], { cwd: path.join(base, 'B') });
    expect(r.code, show(r)).toBe(rsync.status);
    // Timings and protocol byte counts differ by nature (as in differential.ts's normaliseOutput).
    const volatile = /^(File list (generation|transfer) time|Total bytes (sent|received)|sent |total size is |Literal data|Matched data)/;
    const lines = (out: string): string[] => out.split('\n').filter((l) => l !== '' && !volatile.test(l));
    expect(lines(r.stdout)).toEqual(lines(rsync.stdout));
    // rsync's delta algorithm matched part of the changed files against the old ones; arsync runs the
    // same search for these figures (run/local-delta.ts), while its engines write the files whole.
    const figure = (out: string, name: string): number => Number(new RegExp(`^${name}: ([\\d,]+) bytes`, 'm').exec(out)![1]!.replace(/,/g, ''));
    expect(figure(r.stdout, 'Literal data')).toBe(figure(rsync.stdout, 'Literal data'));
    expect(figure(r.stdout, 'Matched data')).toBe(figure(rsync.stdout, 'Matched data'));
    expect(compareTreesFormatted(path.join(base, 'A'), path.join(base, 'B'), engine)).toEqual([]);
  });

  it('-s, --secluded-args', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '-s', '--secluded-args', 'src/', 'dst/'] });
  });

  it('argument protection: --old-args, --no-old-args, --secluded-args and their --no- forms', async () => {
    await differential({
      engine,
      setup: updateSetup,
      args: ['-a', '--old-args', '--old-args', '--no-old-args', '--secluded-args', '--no-secluded-args', '--protect-args', '--no-protect-args', '--no-s', 'src/', 'dst/'],
    });
  });

  it('--old-args reads an empty destination as the current directory', async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', '--old-args', 'src/', ''] });
  });

  it('sockets, buffers and daemons: --outbuf --max-alloc --blocking-io --motd --address --port --sockopts -4 -6 --contimeout=0 --early-input --trust-sender', async () => {
    await differential({
      engine,
      setup: updateSetup,
      args: ['-a', '--outbuf=N', '--max-alloc=1G', '--blocking-io', '--no-blocking-io', '--motd', '--no-motd', '--address=127.0.0.1',
        '--port=873', '--sockopts=SO_KEEPALIVE', '-4', '-6', '--ipv4', '--contimeout=0', '--no-contimeout',
        '--early-input=/nonexistent/early', '--trust-sender', 'src/', 'dst/'],
    });
  });

  for (const proto of ['31', '32']) {
    it(`--protocol=${proto}: the same -i lines and tree`, async () => {
      await differential({ engine, setup: updateSetup, args: ['-a', `--protocol=${proto}`, 'src/', 'dst/'] });
    });
  }

  // Incremental recursion only shows in -v's first line: "sending incremental file list" or, without it,
  // "building file list ... done"; and neither when no directory is transferred.
  for (const flags of [['--no-inc-recursive'], ['--no-i-r'], ['--inc-recursive'], ['--i-r'], ['--no-i-r', '--i-r'], ['--qsort'], ['--delete-after'], ['--delete-before'], ['-m'], ['--prune-empty-dirs', '--i-r']]) {
    it(`-av ${flags.join(' ')}: rsync's -v lines`, async () => {
      await differential({ engine, setup: updateSetup, args: ['-av', ...flags, 'src/', 'dst/'], noItemize: true });
    });
  }

  it('-tv on a single file: no file-list line at all, as rsync', async () => {
    await differential({
      engine,
      setup: (root) => {
        fs.mkdirSync(path.join(root, 'src'));
        put(path.join(root, 'src'), 'one.txt', 'one\n');
      },
      args: ['-tv', 'src/one.txt', 'copy.txt'],
      noItemize: true,
    });
  });

  it('--files-from -v without -r: "building file list ... done", as rsync', async () => {
    await differential({
      engine,
      setup: (root) => {
        freshSetup(root);
        fs.writeFileSync(path.join(root, 'list'), 'a.txt\nsub/c.txt\n');
      },
      args: ['-av', '--files-from=list', 'src/', 'dst/'],
      noItemize: true,
      // dst is created with no source directory to take its times from.
      volatile: ['dst'],
    });
  });
});

/** Values rsync rejects for a local copy: [arguments, rsync's exit code, what the message must name]. */
const BAD: [string[], number, RegExp][] = [
  [['--compress-choice=bogus'], 4, /unknown compress name: bogus.*--compress-choice/],
  [['--zc=zlib,zstd'], 4, /unknown compress name: zlib,zstd/],
  [['--compress-level=x'], 1, /--compress-level=x: invalid numeric value/],
  [['--zl=1x'], 1, /--zl=1x: invalid numeric value/],
  [['--compress-level=2147483648'], 1, /--compress-level=2147483648: number too large or too small/],
  [['--checksum-choice=bogus'], 4, /^unknown checksum name: bogus$/m],
  [['--cc=md5,bogus'], 4, /unknown checksum name: bogus/],
  [['-c', '--cc=none'], 4, /Invalid checksum-choice for --checksum: none/],
  [['--checksum-seed=x'], 1, /--checksum-seed=x: invalid numeric value/],
  [['--block-size=131073'], 1, /--block-size=131073 is too large \(max: 128\.00K\)/],
  [['--block-size=1G'], 1, /--block-size=1G is too large/],
  [['--block-size=1x'], 1, /--block-size=1x is invalid/],
  [['-B-1'], 1, /--block-size=-1 is too large/],
  [['--max-alloc=1x'], 1, /--max-alloc=1x is invalid/],
  [['--max-alloc=100K'], 1, /--max-alloc=100K is too small \(min: 1\.00M or 0 for unlimited\)/],
  [['--outbuf=Q'], 1, /Invalid --outbuf setting/],
  [['--outbuf='], 1, /Invalid --outbuf setting/],
  [['--port=x'], 1, /--port=x: invalid numeric value/],
  [['--protocol=5'], 2, /protocol version mismatch/],
  [['--protocol=33'], 2, /--protocol must be no more than 32/],
  [['--protocol=029'], 1, /--protocol=029: invalid numeric value/],
  [['-M--no-motd', '-s'], 12, /--secluded-args conflicts with --old-args/],
  [['--contimeout=x'], 1, /--contimeout=x: invalid numeric value/],
  [['--contimeout=5'], 1, /--contimeout option may only be used when connecting to an rsync daemon/],
  [['--password-file=pw'], 1, /--password-file option may only be used when accessing an rsync daemon/],
  [['--old-args', '-s'], 1, /--secluded-args conflicts with --old-args/],
  [['-s', '--old-args'], 1, /--secluded-args conflicts with --old-args/],
  [['-M--bogus-option'], 12, /--bogus-option: unknown option/],
  [['-M--block-size=1x'], 12, /--block-size=1x is invalid/],
  [['-M', 'nodash'], 1, /Remote option must start with a dash: nodash/],
  [['-i-r'], 1, /unknown option/],
];

describe('values rsync rejects: the same exit code, a message naming the option, nothing written', () => {
  const hasRsync = spawnSync('rsync', ['--version']).status === 0;
  for (const [args, code, message] of BAD) {
    it.skipIf(!hasRsync)(`${args.join(' ')}: exit ${code}`, async () => {
      const root = tempDir('arsync-badopt-');
      put(path.join(root, 'src'), 'f', 'x\n');
      const rsync = spawnSync('rsync', ['-a', ...args, 'src/', 'rdst/'], { cwd: root, encoding: 'utf8' });
      expect(rsync.status, `rsync ${args.join(' ')}: ${rsync.stderr}`).toBe(code);
      const r = await runCli(['-a', ...args, 'src/', 'dst/'], { cwd: root });
      expect(r.code, show(r)).toBe(code);
      expect(r.stderr, show(r)).toMatch(message);
      expect(r.stderr, show(r)).toMatch(new RegExp(`\\(code ${code}\\)`));
      expect(fs.existsSync(path.join(root, 'dst')), 'dst created').toBe(false);
    });
  }
});
