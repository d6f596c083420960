// --ignore-missing-args and --delete-missing-args between machines, differential against rsync as the
// client with the same options, the same remote shell and the same server (the installed 3.5; 3.1.3 and
// 3.2.7 where they are built): a push (`arsync SRC... host:DST/`: a missing operand left out, or listed
// with mode 0 for the receiving server to delete), a pull (the sending server told the option, its mode-0
// entries deleted by the local half), -R, a remote listing's "*missing" line, an rsync daemon's module
// both ways, and the command line the far side is given. Compared: the trees, exit codes, stderr, the
// -i/-v lines and --stats. rsync's client prints the far side's deletions and its own lines from two
// streams, so lines are compared as sets, and rsync runs with --no-i-r (arsync's client does not offer
// incremental recursion: "sending incremental file list" and the list's size are its only other marks)
// except where incremental recursion decides the result itself.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { startDaemon, writeConf, type Daemon } from '../helpers/rsyncd.js';

let root: string;
let src: string;
let rsh: string;
let daemon: Daemon;
let n = 0;
let theirs: string;
let ours: string;

const T = 1_500_000_000;

function put(at: string, rel: string, data = rel): void {
  fs.mkdirSync(path.dirname(path.join(at, rel)), { recursive: true });
  fs.writeFileSync(path.join(at, rel), data);
}

/** Every entry of `at` gets an old time (a receiver leaves a time in its own second alone). */
function age(at: string, t = T): void {
  const walk = (p: string): void => {
    if (fs.lstatSync(p).isDirectory()) for (const c of fs.readdirSync(p)) walk(path.join(p, c));
    fs.lutimesSync(p, t, t);
  };
  walk(at);
}

/**
 * What the far side (or, for a pull, this side) has before the run: twins of the missing operands (a
 * file, a full directory, an empty one, one below a present directory), and a current copy of `d`.
 */
function destTree(d: string): void {
  put(d, 'gone', 'old\n');
  put(d, 'gonedir/s/y', 'y\n');
  fs.mkdirSync(path.join(d, 'emptygone'), { recursive: true });
  put(d, 'd/gone', 'old\n');
  put(d, 'd/x');
  put(d, 'nodir/gone', 'old\n');
  put(d, 'keep');
  age(d, T + 5000);
  fs.lutimesSync(path.join(d, 'd/x'), T, T);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rmissing-'));
  src = path.join(root, 'src');
  for (const f of ['a', 'd/x', 'd/sub/y']) put(src, f);
  age(src);
  rsh = fakeRsh(root);
  const mod = path.join(root, 'module');
  fs.mkdirSync(mod);
  daemon = await startDaemon(writeConf(path.join(root, 'daemon'), [{ name: 'm', path: mod }]));
});

afterAll(async () => {
  await daemon?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  n++;
  theirs = path.join(root, `theirs-${n}`);
  ours = path.join(root, `ours-${n}`);
});

interface Run {
  code: number;
  out: string;
  err: string;
}

/** rsync as the client; `ir`: with its incremental recursion (its default with -r). */
function rsync(args: string[], ir = false): Run {
  const r = spawnSync('rsync', [...(ir ? [] : ['--no-i-r']), ...args], { encoding: 'latin1' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const asRun = (r: CliResult): Run => ({ code: r.code ?? -1, out: r.stdout, err: r.stderr });

/** A run's lines as a set, with the two destinations' names, the client's name and rsync's source locations made alike. */
function lines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) =>
      l
        .split(theirs)
        .join('DST')
        .split(ours)
        .join('DST')
        .replace(/^arsync([: ])/, 'rsync$1')
        .replace(/ at \S+\(\d+\) \[\w+=[^\]]+\]$/, '')
        .replace(/^sent [\d,]+ bytes\s+received [\d,]+ bytes\s+[\d,.]+ bytes\/sec$/, 'sent …')
        .replace(/^(total size is [\d,]+)\s+speedup is [\d,.]+/, '$1')
        .replace(/^(File list size|File list (?:generation|transfer) time|Total bytes (?:sent|received)):.*$/, '$1: …'),
    )
    .sort();
}

/**
 * The same run, the same result: exit code, every line of stdout and stderr, and the tree. `times`:
 * false where a deletion the run made stamped a directory with its own moment.
 */
function alike(mine: Run, rs: Run, o: { a?: string; b?: string; times?: boolean } = {}): void {
  expect(mine.code, `${mine.out}\n${mine.err}`).toBe(rs.code);
  expect(lines(mine.out)).toEqual(lines(rs.out));
  expect(lines(mine.err)).toEqual(lines(rs.err));
  const diffs = compareTrees(o.b ?? theirs, o.a ?? ours, { xattrs: false, acls: false, rootMeta: false, times: o.times ?? true });
  expect(diffs, formatDiffs(diffs).join('\n')).toEqual([]);
}

const S = (...names: string[]): string[] => names.map((x) => path.join(src, x));

describeEngines((e) => {
  /** A push of `sources` (under src) with `opts` by rsync and by arsync, each into its own copy of destTree. */
  async function push(opts: string[], sources: string[], o: { ir?: boolean; rsyncPath?: string } = {}): Promise<{ mine: Run; rs: Run }> {
    for (const d of [theirs, ours]) destTree(d);
    const extra = o.rsyncPath ? [`--rsync-path=${o.rsyncPath}`] : [];
    const rs = rsync([...opts, ...extra, '-e', rsh, ...sources, `host:${theirs}/`], o.ir);
    const mine = asRun(await runCli([`--engine=${e.name}`, ...opts, ...extra, '-e', rsh, ...sources, `host:${ours}/`]));
    return { mine, rs };
  }

  it.each([
    [['-ai', '--delete-missing-args']],
    [['-ai', '--delete-missing-args', '--delete']],
    [['-ai', '--delete-missing-args', '--force']],
    [['-av', '--stats', '--delete-missing-args']],
    [['-ai', '--ignore-missing-args']],
    [['-av', '--stats', '--ignore-missing-args']],
    [['-ai', '--ignore-missing-args', '--delete-missing-args']],
  ])('pushes missing operands as rsync does: %j', async (opts) => {
    const { mine, rs } = await push(opts, S('a', 'gone', 'd', 'gonedir', 'emptygone'));
    alike(mine, rs);
    expect(rs.code).toBe(0);
    const deleting = opts.includes('--delete-missing-args');
    expect(fs.existsSync(path.join(ours, 'gone'))).toBe(!deleting);
    expect(fs.existsSync(path.join(ours, 'emptygone'))).toBe(!deleting);
    expect(fs.readFileSync(path.join(ours, 'a'), 'utf8')).toBe('a');
  });

  it('a missing operand\'s entry with the options that add to each entry (-H -c -U --chmod; -A -X where the engine reads them)', async () => {
    const attrs = e.name === 'node' ? [] : ['-AX'];
    // -c reads the sources, which moves their access times: not with -U in one case (rsync runs first).
    const cases = [
      ['push', ['-aiHU', '--chmod=u+x', '--delete-missing-args', ...attrs]],
      ['push', ['-aic', '--delete-missing-args']],
      // (-U in a pull is left out: a pull with -U fails on its own, missing operands or not.)
      ['pull', ['-aiHc', '--chmod=u+x', '--delete-missing-args', ...attrs]],
    ] as const;
    for (const [how, opts] of cases) {
      const { mine, rs } = await (how === 'push' ? push : pull)([...opts], ['a', 'gone', 'd', 'emptygone'].map((x) => (how === 'push' ? path.join(src, x) : x)));
      alike(mine, rs);
      expect(rs.code).toBe(0);
      expect(fs.existsSync(path.join(ours, 'gone'))).toBe(false);
      n++;
      theirs = path.join(root, `theirs-${n}`);
      ours = path.join(root, `ours-${n}`);
    }
  });

  it('pushes only missing operands: nothing sent, the twins deleted or left', async () => {
    for (const opt of ['--ignore-missing-args', '--delete-missing-args']) {
      const { mine, rs } = await push(['-ai', opt], S('gone', 'gonedir'));
      alike(mine, rs);
      expect(fs.existsSync(path.join(ours, 'gone'))).toBe(opt === '--ignore-missing-args');
      n++;
      theirs = path.join(root, `theirs-${n}`);
      ours = path.join(root, `ours-${n}`);
    }
  });

  it('a missing operand among present ones whose directory is missing: the sender\'s change_dir error, exit 23, --delete held back', async () => {
    for (const opts of [['-ai'], ['-ai', '--ignore-missing-args'], ['-ai', '--delete-missing-args', '--delete'], ['-ai', '--delete-missing-args']]) {
      const { mine, rs } = await push(opts, [...S('a', 'nodir/gone', 'gone', 'd'), `${src}/gone/`]);
      alike(mine, rs);
      expect(rs.code).toBe(23);
      // A general I/O error: the receiver's --delete deletes nothing; a missing operand's twin goes all
      // the same (rsync's generator deletes it as it meets it).
      expect(fs.existsSync(path.join(ours, 'gone'))).toBe(!opts.includes('--delete-missing-args'));
      expect(fs.existsSync(path.join(ours, 'd/gone'))).toBe(true);
      n++;
      theirs = path.join(root, `theirs-${n}`);
      ours = path.join(root, `ours-${n}`);
    }
  });

  it.each([[['-aiR', '--delete-missing-args']], [['-aiR', '--delete-missing-args', '--delete']], [['-aiR', '--ignore-missing-args']], [['-avR', '--stats', '--delete-missing-args']]])(
    'pushes missing operands with -R as rsync does: %j',
    async (opts) => {
      const { mine, rs } = await push(opts, [`${src}/./a`, `${src}/./gone`, `${src}/./d/gone`, `${src}/./gonedir/`, `${src}/./d/x`]);
      alike(mine, rs);
      expect(rs.code).toBe(0);
      expect(fs.existsSync(path.join(ours, 'd/gone'))).toBe(!opts.includes('--delete-missing-args'));
    },
  );

  it('-R: a missing name whose directory is missing too is "file has vanished" (24); rsync\'s incremental recursion then leaves it out, without it the receiver warns and deletes', async () => {
    const sources = [`${src}/./a`, `${src}/./nodir/gone`];
    let { mine, rs } = await push(['-aiR', '--delete-missing-args'], sources, { ir: true });
    alike(mine, rs);
    expect(rs.code).toBe(24);
    expect(fs.existsSync(path.join(ours, 'nodir/gone'))).toBe(true);
    n++;
    theirs = path.join(root, `theirs-${n}`);
    ours = path.join(root, `ours-${n}`);
    ({ mine, rs } = await push(['-aiR', '--no-i-r', '--delete-missing-args'], sources));
    alike(mine, rs, { times: false });
    expect(rs.err).toMatch(/WARNING: parent dir is absent in the file list: nodir/);
    expect(fs.existsSync(path.join(ours, 'nodir/gone'))).toBe(false);
  });

  it('--delete-missing-args: the receiver\'s filters protect a name (rules go with --delete)', async () => {
    const { mine, rs } = await push(['-ai', '--delete', '--exclude=gone', '--delete-missing-args'], S('a', 'gone', 'emptygone'));
    alike(mine, rs);
    expect(fs.existsSync(path.join(ours, 'gone'))).toBe(true);
    expect(fs.existsSync(path.join(ours, 'emptygone'))).toBe(false);
  });

  it.skipIf(!peersAvailable).each(['3.1.3', '3.2.7'])('pushes missing operands to an rsync %s server as rsync does', async (version) => {
    for (const opts of [['-ai', '--delete-missing-args'], ['-ai', '--ignore-missing-args'], ['-aiR', '--delete-missing-args', '--delete']]) {
      const { mine, rs } = await push(opts, [`${src}/./a`, `${src}/./gone`, `${src}/./d/gone`, `${src}/./gonedir`], { rsyncPath: peerRsync(version) });
      alike(mine, rs);
      n++;
      theirs = path.join(root, `theirs-${n}`);
      ours = path.join(root, `ours-${n}`);
    }
  });

  /** A pull of `sources` (under src, on "host") with `opts` by rsync and by arsync, each into its own copy of destTree. */
  async function pull(opts: string[], sources: string[], o: { ir?: boolean } = {}): Promise<{ mine: Run; rs: Run }> {
    for (const d of [theirs, ours]) destTree(d);
    const remote = sources.map((s, i) => `${i === 0 ? 'host' : ''}:${src}/${s}`);
    const rs = rsync([...opts, '-e', rsh, ...remote, `${theirs}/`], o.ir);
    const mine = asRun(await runCli([`--engine=${e.name}`, ...opts, '-e', rsh, ...remote, `${ours}/`]));
    return { mine, rs };
  }

  it.each([
    [['-ai', '--delete-missing-args']],
    [['-ai', '--delete-missing-args', '--delete']],
    [['-av', '--stats', '--delete-missing-args']],
    [['-ai', '--ignore-missing-args']],
    [['-ai', '--delete-missing-args', '--dry-run']],
  ])('pulls missing operands as rsync does: %j', async (opts) => {
    const { mine, rs } = await pull(opts, ['a', 'gone', 'd', 'gonedir', 'emptygone']);
    alike(mine, rs);
    expect(rs.code).toBe(0);
    const deleting = opts.includes('--delete-missing-args') && !opts.includes('--dry-run');
    expect(fs.existsSync(path.join(ours, 'gone'))).toBe(!deleting);
  });

  it('pulls only missing operands; one whose directory is missing is the server\'s change_dir error', async () => {
    for (const [opts, sources] of [
      [['-ai', '--delete-missing-args'], ['gone', 'emptygone']],
      [['-ai', '--ignore-missing-args'], ['gone']],
      [['-ai', '--ignore-missing-args'], ['a', 'nodir/gone']],
      [['-ai', '--delete-missing-args', '--delete'], ['a', 'gone', 'nodir/gone']],
    ] as const) {
      const { mine, rs } = await pull([...opts], [...sources]);
      alike(mine, rs);
      n++;
      theirs = path.join(root, `theirs-${n}`);
      ours = path.join(root, `ours-${n}`);
    }
  });

  it.each([[['-aiR', '--delete-missing-args']], [['-avR', '--stats', '--delete-missing-args', '--delete']], [['-aiR', '--ignore-missing-args']]])(
    'pulls missing operands with -R as rsync does: %j',
    async (opts) => {
      const { mine, rs } = await pull(opts, ['./a', './gone', './d/gone', './gonedir/', './d/x']);
      alike(mine, rs);
      expect(fs.existsSync(path.join(ours, 'd/gone'))).toBe(!opts.includes('--delete-missing-args'));
    },
  );

  it('-R pull: a missing name below a missing directory, with and without incremental recursion', async () => {
    let { mine, rs } = await pull(['-aiR', '--delete-missing-args'], ['./a', './nodir/gone'], { ir: true });
    alike(mine, rs);
    expect(rs.code).toBe(24);
    expect(fs.existsSync(path.join(ours, 'nodir/gone'))).toBe(true);
    n++;
    theirs = path.join(root, `theirs-${n}`);
    ours = path.join(root, `ours-${n}`);
    ({ mine, rs } = await pull(['-aiR', '--no-i-r', '--delete-missing-args'], ['./a', './nodir/gone']));
    alike(mine, rs, { times: false });
    expect(fs.existsSync(path.join(ours, 'nodir/gone'))).toBe(false);
  });

  it('lists a missing operand as rsync does ("*missing"), and leaves it out under --ignore-missing-args', async () => {
    for (const opts of [['--delete-missing-args'], ['--delete-missing-args', '--no-h'], ['-r', '--delete-missing-args', '--stats'], ['--ignore-missing-args'], ['-r', '--ignore-missing-args', '--stats']]) {
      const at = [`host:${src}/gone`];
      const rs = rsync([...opts, '-e', rsh, ...at]);
      const mine = asRun(await runCli([`--engine=${e.name}`, ...opts, '-e', rsh, ...at]));
      expect(mine.code, `${mine.out}\n${mine.err}`).toBe(rs.code);
      expect(lines(mine.out)).toEqual(lines(rs.out));
      expect(lines(mine.err)).toEqual(lines(rs.err));
    }
  });

  it('tells the far side what rsync\'s client tells it: --delete-missing-args both ways, --ignore-missing-args only to a sender', async () => {
    const log = (who: string): string => path.join(root, `argv-${who}-${n}`);
    const shell = (who: string): string => fakeRsh(root, { log: log(who), name: `rsh-${who}-${n}` });
    for (const opt of ['--ignore-missing-args', '--delete-missing-args']) {
      for (const d of [theirs, ours]) destTree(d);
      rsync(['-a', opt, '-e', shell('rsync'), ...S('a', 'gone'), `host:${theirs}/`]);
      await runCli([`--engine=${e.name}`, '-a', opt, '-e', shell('arsync'), ...S('a', 'gone'), `host:${ours}/`]);
      rsync(['-a', opt, '-e', shell('rsync'), `host:${src}/gone`, `${theirs}/`]);
      await runCli([`--engine=${e.name}`, '-a', opt, '-e', shell('arsync'), `host:${src}/gone`, `${ours}/`]);
    }
    // The long options (the letters' capability string differs: arsync offers no incremental recursion).
    const longs = (f: string): string[] => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').filter((w) => w.startsWith('--')).join(' '));
    expect(longs(log('arsync'))).toEqual(longs(log('rsync')));
    expect(longs(log('rsync'))).toEqual(['--server', '--server --sender --ignore-missing-args', '--server --delete-missing-args', '--server --sender --delete-missing-args']);
  });

  it('pushes to and pulls from an rsync daemon\'s module with missing operands as rsync does', async () => {
    const mod = path.join(root, 'module');
    const url = (who: string): string => `rsync://127.0.0.1:${daemon.port}/m/${who}-${n}/`;
    for (const opt of ['--delete-missing-args', '--ignore-missing-args']) {
      for (const who of ['theirs', 'ours']) destTree(path.join(mod, `${who}-${n}`));
      const rs = rsync(['-ai', opt, ...S('a', 'gone', 'd', 'emptygone'), url('theirs')]);
      const mine = asRun(await runCli([`--engine=${e.name}`, '-ai', opt, ...S('a', 'gone', 'd', 'emptygone'), url('ours')]));
      alike(mine, rs, { a: path.join(mod, `ours-${n}`), b: path.join(mod, `theirs-${n}`) });
      expect(fs.existsSync(path.join(mod, `ours-${n}`, 'gone'))).toBe(opt === '--ignore-missing-args');
      // Back again: the module's missing name, into a destination that has it.
      fs.mkdirSync(path.join(mod, `src-${n}`), { recursive: true });
      put(path.join(mod, `src-${n}`), 'a');
      for (const d of [theirs, ours]) destTree(d);
      const from = `rsync://127.0.0.1:${daemon.port}/m/src-${n}/gone`;
      const rs2 = rsync(['-ai', opt, from, `${theirs}/`]);
      const mine2 = asRun(await runCli([`--engine=${e.name}`, '-ai', opt, from, `${ours}/`]));
      alike(mine2, rs2);
      expect(fs.existsSync(path.join(ours, 'gone'))).toBe(opt === '--ignore-missing-args');
      n++;
      theirs = path.join(root, `theirs-${n}`);
      ours = path.join(root, `ours-${n}`);
    }
  });
});
