// --iconv between machines, differential against rsync 3.5 as the client through the same fake remote
// shell and the same far side: pushes, pulls and listings of trees whose names are Latin-1 bytes on one
// side and UTF-8 on the other (--iconv=ISO-8859-1,UTF-8 and the reverse), compared by the trees' bytes
// (names and symlink targets), the exit codes, the -i lines and the error lines; and the failures: a
// name the sender cannot convert (left out, exit 23), one the receiving client cannot (exit 4), a
// symlink target either side cannot, an unknown charset on either side, and protocol 30. Names are
// Buffers throughout: the trees are made and compared byte for byte.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show, type CliResult } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { destPairs, itemLines, rsyncClient, stagingDirs, type RsyncResult } from '../helpers/remote-pull.js';
import { startDaemon, writeConf, type Daemon } from '../helpers/rsyncd.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';

const L1 = 'latin1';
let root: string;
let rsh: string;
let rshLog: string;
/** An rsync 3.5 daemon whose modules keep UTF-8 names (its `charset`): `utf` to pull from, `up` to push to. */
let daemon: Daemon;

/** A path under `dir` whose name is given as Latin-1 code points (one byte each) or as UTF-8 text. */
const bytesOf = (s: string, enc: 'latin1' | 'utf8'): Buffer => Buffer.from(s, enc);
const at = (dir: string, rel: Buffer): Buffer => Buffer.concat([Buffer.from(`${dir}/`), rel]);

/**
 * The tree of names, each spelled in `enc`: several files in one directory (the order the sender sends
 * them is its readdir order, not the sorted one, so the indexes the wire uses are tested), a directory
 * with a converted name and contents, a symlink whose target is a converted name, and plain ASCII.
 */
function makeTree(dir: string, enc: 'latin1' | 'utf8', extra: { name: Buffer; content?: string; link?: Buffer; dir?: boolean }[] = []): void {
  fs.mkdirSync(dir, { recursive: true });
  const entries: { name: Buffer; content?: string; link?: Buffer; dir?: boolean }[] = [
    { name: bytesOf('caf\u00e9', enc), content: 'coffee\n' },
    { name: bytesOf('na\u00efve', enc), content: 'naive\n'.repeat(300) },
    { name: bytesOf('\u00e9t\u00e9', enc), dir: true },
    { name: bytesOf('\u00e9t\u00e9/d\u00e9j\u00e0', enc), content: 'already\n' },
    { name: bytesOf('\u00e9t\u00e9/plain', enc), content: 'plain\n' },
    { name: bytesOf('\u00fcber', enc), content: 'over\n' },
    { name: bytesOf('zz', enc), content: 'last\n' },
    { name: bytesOf('a\u00ff', enc), content: 'y\n' },
    { name: bytesOf('lien', enc), link: bytesOf('caf\u00e9', enc) },
    ...extra,
  ];
  for (const e of entries) {
    const p = at(dir, e.name);
    if (e.dir) fs.mkdirSync(p, { recursive: true });
    else if (e.link) fs.symlinkSync(e.link, p);
    else fs.writeFileSync(p, e.content ?? '');
  }
  // Fixed times (the far side's and both destinations' quick checks agree), deepest first.
  const t = new Date(1_700_000_000_000);
  for (const e of entries.slice().reverse()) (e.link ? fs.lutimesSync : fs.utimesSync)(at(dir, e.name), t, t);
  fs.utimesSync(dir, t, t);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-riconv-'));
  rshLog = path.join(root, 'rsh.log');
  rsh = fakeRsh(root, { log: rshLog });
  makeTree(path.join(root, 'lat'), 'latin1');
  makeTree(path.join(root, 'utf'), 'utf8');
  // Names a side cannot convert: on a UTF-8 side a byte that is no UTF-8 ("f\xff", a directory
  // "d\xe9" with a file in it), a symlink whose target is such bytes; for a Latin-1 receiver a
  // character Latin-1 lacks.
  makeTree(path.join(root, 'badutf'), 'utf8', [
    { name: Buffer.from('f\xff', L1), content: 'bad\n' },
    { name: Buffer.from('d\xe9', L1), dir: true },
    { name: Buffer.from('d\xe9/inside', L1), content: 'inside\n' },
  ]);
  makeTree(path.join(root, 'badlink'), 'utf8', [{ name: Buffer.from('blink'), link: Buffer.from('t\xe9', L1) }]);
  makeTree(path.join(root, 'cyrillic'), 'utf8', [{ name: bytesOf('\u0436', 'utf8'), content: 'zhe\n' }]);
  makeTree(path.join(root, 'cyrlink'), 'utf8', [{ name: Buffer.from('clink'), link: bytesOf('\u0436', 'utf8') }]);
  // Hard links whose group's first name (in the list's order) is a converted one.
  for (const [tree, enc] of [['hl-utf', 'utf8'], ['hl-lat', 'latin1']] as const) {
    const d = path.join(root, tree);
    makeTree(d, enc);
    fs.linkSync(at(d, bytesOf('caf\u00e9', enc)), at(d, bytesOf('\u00e9t\u00e9/l\u00e9', enc)));
    fs.linkSync(at(d, bytesOf('caf\u00e9', enc)), path.join(d, 'zlink'));
  }
  // A FIFO whose name converts (the pull stages it through mkfifo(1), whose argument is a string).
  for (const [tree, enc] of [['fifo-utf', 'utf8'], ['fifo-lat', 'latin1']] as const) {
    const d = path.join(root, tree);
    fs.mkdirSync(path.join(d, 'sub'), { recursive: true });
    // The name's bytes through sh's printf (an argument Node would pass as UTF-8).
    const octal = [...at(d, bytesOf('sub/tuyau-\u00e9', enc))].map((c) => `\\${c.toString(8).padStart(3, '0')}`).join('');
    execFileSync('sh', ['-c', `mkfifo "$(printf '${octal}')"`]);
    const t = new Date(1_700_000_000_000);
    for (const p of [at(d, bytesOf('sub/tuyau-\u00e9', enc)), Buffer.from(`${d}/sub`), Buffer.from(d)]) fs.utimesSync(p, t, t);
  }
  fs.mkdirSync(path.join(root, 'up'));
  const conf = writeConf(path.join(root, 'conf'), [
    { name: 'utf', path: path.join(root, 'utf'), readOnly: true, extra: ['charset = UTF-8'] },
    { name: 'up', path: path.join(root, 'up'), readOnly: false, extra: ['charset = UTF-8'] },
  ]);
  daemon = await startDaemon(conf);
});

afterAll(async () => {
  await daemon.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** rsync's output as arsync's is read (the CLI helper decodes UTF-8): the same bytes, the same string. */
const asRead = (s: string): string => Buffer.from(s, L1).toString('utf8');
/** Error lines without the exit line, which names the program (and rsync's its source line), as a set. */
const errLines = (err: string): string[] =>
  err
    .split('\n')
    .filter((l) => l && !/^(rsync|arsync) error: /.test(l))
    .map((l) => l.replace(/^arsync: /, 'rsync: '))
    .sort();

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const pair = destPairs(() => root, e.name);
  const staging = stagingDirs(() => root, e.name, pair);

  const sameTrees = (): void => {
    expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance }))).toEqual([]);
  };
  /** The trees, but for the root's time (not in a --files-from list: each run gives it its own). */
  const sameBeneathRoot = (): void => {
    expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance })).filter((d) => !d.startsWith('.: mtime'))).toEqual([]);
  };
  const sameRun = (r: RsyncResult, ours: CliResult, code = 0): void => {
    expect(r.code, r.out + r.err).toBe(code);
    expect(ours.code, show(ours)).toBe(code);
    expect(itemLines(ours.stdout)).toEqual(itemLines(asRead(r.out)));
    expect(errLines(ours.stderr)).toEqual(errLines(asRead(r.err)));
  };
  const pull = async (tree: string, opts: string[]): Promise<{ r: RsyncResult; ours: CliResult }> => {
    const from = `host:${path.join(root, tree)}/`;
    const r = rsyncClient([...opts, '-e', rsh, from, `${pair.theirs}/`]);
    const ours = await runCli([eng, ...opts, '-e', rsh, from, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
    return { r, ours };
  };
  const push = async (tree: string, opts: string[]): Promise<{ r: RsyncResult; ours: CliResult }> => {
    const from = `${path.join(root, tree)}/`;
    const r = rsyncClient([...opts, '-e', rsh, from, `host:${pair.theirs}/`]);
    const ours = await runCli([eng, ...opts, '-e', rsh, from, `host:${pair.mine}/`]);
    return { r, ours };
  };
  const names = (dir: string): string[] => fs.readdirSync(dir, { encoding: 'buffer' }).map((b) => b.toString('hex')).sort();

  it('push Latin-1 names to a UTF-8 far side: the far side has them in UTF-8, the -i lines are rsync\'s', async () => {
    const { r, ours } = await push('lat', ['-ai', '--iconv=ISO-8859-1,UTF-8']);
    sameRun(r, ours);
    expect(names(pair.mine)).toEqual(names(path.join(root, 'utf')));
    expect(fs.readlinkSync(path.join(pair.mine, 'lien'), { encoding: 'buffer' })).toEqual(Buffer.from('caf\u00e9'));
    sameTrees();
    // The server was told its own charset.
    expect(fs.readFileSync(rshLog, 'utf8')).toMatch(/ --iconv=UTF-8 /);
  });

  it('push again, with a changed file, --delete of a UTF-8 name the far side has extra, -v', async () => {
    for (const d of [pair.theirs, pair.mine]) {
      const { r } = { r: rsyncClient(['-a', '--iconv=ISO-8859-1,UTF-8', '-e', rsh, `${root}/lat/`, `host:${d}/`]) };
      expect(r.code, r.err).toBe(0);
      fs.writeFileSync(path.join(d, 'extra-\u00e9'), 'gone\n');
      fs.writeFileSync(path.join(d, 'na\u00efve'), 'changed, and of another size\n');
    }
    const { r, ours } = await push('lat', ['-ai', '--delete', '--iconv=ISO-8859-1,UTF-8']);
    sameRun(r, ours);
    expect(ours.stdout).toContain('*deleting   extra-');
    const v = await push('lat', ['-av', '--delete', '--iconv=ISO-8859-1,UTF-8']);
    expect(v.ours.stdout.split('\n').filter((l) => !/^(sent|total) /.test(l))).toEqual(asRead(v.r.out).split('\n').filter((l) => !/^(sent|total) /.test(l)));
    sameTrees();
  });

  it('pull UTF-8 names into Latin-1: the files asked for by the list as sent, the -i lines are rsync\'s', async () => {
    const { r, ours } = await pull('utf', ['-ai', '--iconv=ISO-8859-1,UTF-8']);
    sameRun(r, ours);
    expect(names(pair.mine)).toEqual(names(path.join(root, 'lat')));
    expect(fs.readFileSync(at(pair.mine, Buffer.from('na\xefve', L1)), 'utf8')).toBe('naive\n'.repeat(300));
    expect(fs.readlinkSync(path.join(pair.mine, 'lien'), { encoding: 'buffer' })).toEqual(Buffer.from('caf\xe9', L1));
    sameTrees();
  });

  it('pull onto an older copy: the delta of each changed file against its Latin-1 twin', async () => {
    for (const d of [pair.theirs, pair.mine]) {
      expect(rsyncClient(['-a', '--iconv=ISO-8859-1,UTF-8', '-e', rsh, `host:${root}/utf/`, `${d}/`]).code).toBe(0);
      fs.writeFileSync(at(d, Buffer.from('na\xefve', L1)), 'naive\n'.repeat(299) + 'old\n');
      fs.writeFileSync(at(d, Buffer.from('\xe9t\xe9/d\xe9j\xe0', L1)), 'stale\n');
    }
    const { r, ours } = await pull('utf', ['-ai', '--no-W', '--iconv=ISO-8859-1,UTF-8']);
    sameRun(r, ours);
    sameTrees();
  });

  it('the reverse: push UTF-8 names to a Latin-1 far side, pull Latin-1 names into UTF-8', async () => {
    const p = await push('utf', ['-ai', '--iconv=UTF-8,ISO-8859-1']);
    sameRun(p.r, p.ours);
    expect(names(pair.mine)).toEqual(names(path.join(root, 'lat')));
    sameTrees();
    fs.rmSync(pair.mine, { recursive: true });
    fs.rmSync(pair.theirs, { recursive: true });
    const q = await pull('lat', ['-ai', '--iconv=UTF-8,ISO-8859-1']);
    sameRun(q.r, q.ours);
    expect(names(pair.mine)).toEqual(names(path.join(root, 'utf')));
    sameTrees();
  });

  it('a listing of the far side: names converted (printed as rsync prints them), with -r and -l', async () => {
    for (const opts of [[], ['-rl'], ['-rlv']]) {
      const from = `host:${root}/utf/`;
      const r = rsyncClient([...opts, '--iconv=ISO-8859-1,UTF-8', '-e', rsh, from]);
      const ours = await runCli([eng, ...opts, '--iconv=ISO-8859-1,UTF-8', '-e', rsh, from]);
      expect(ours.code, show(ours)).toBe(r.code);
      const body = (s: string): string[] => s.split('\n').filter((l) => !/^(sent|total size) /.test(l));
      expect(body(ours.stdout)).toEqual(body(asRead(r.out)));
      expect(ours.stdout).toContain('caf\\#351');
    }
  });

  it('a name the sending client cannot convert is left out (a directory with its contents): exit 23, rsync\'s lines', async () => {
    const { r, ours } = await push('badutf', ['-ai', '--iconv=UTF-8,ISO-8859-1']);
    sameRun(r, ours, 23);
    expect(ours.stderr).toContain('[sender] cannot convert filename: f\\#377 (Invalid or incomplete multibyte or wide character)\n');
    expect(fs.existsSync(at(pair.mine, Buffer.from('d\xe9', L1)))).toBe(false);
    sameTrees();
  });

  it('a symlink target the sending client cannot convert: the link is left out, exit 23', async () => {
    const { r, ours } = await push('badlink', ['-ai', '--iconv=UTF-8,ISO-8859-1']);
    sameRun(r, ours, 23);
    expect(ours.stderr).toContain(`[sender] cannot convert symlink data for: "${root}/badlink/blink" (Invalid argument)\n`);
    sameTrees();
  });

  it('a name the sending server cannot convert: its line, the rest pulled, exit 23', async () => {
    const { r, ours } = await pull('badutf', ['-ai', '--iconv=UTF-8,UTF-8']);
    sameRun(r, ours, 23);
    expect(ours.stderr).toContain('[sender] cannot convert filename: f\\#377');
    sameTrees();
  });

  it('a name the receiving client cannot convert ends the pull as rsync 3.5 ends it (exit 4), and the listing too', async () => {
    const { r, ours } = await pull('cyrillic', ['-ai', '--iconv=ISO-8859-1,UTF-8']);
    expect(r.code).toBe(4);
    expect(ours.code, show(ours)).toBe(4);
    expect(ours.stderr).toContain('[Receiver] cannot convert filename: \u0436 (Invalid or incomplete multibyte or wide character)\n');
    expect(ours.stderr).toContain('ERROR: rejecting unrequested file-list name: \n');
    expect(fs.existsSync(pair.mine)).toBe(fs.existsSync(pair.theirs));
    const from = `host:${root}/cyrillic/`;
    const lr = rsyncClient(['--iconv=ISO-8859-1,UTF-8', '-e', rsh, from]);
    const lo = await runCli([eng, '--iconv=ISO-8859-1,UTF-8', '-e', rsh, from]);
    expect([lo.code, lr.code]).toEqual([4, 4]);
    expect(lo.stderr).toContain('[Receiver] cannot convert filename: \u0436');
  });

  it('a symlink target the receiving client cannot convert: the link is not made, exit 23', async () => {
    const { r, ours } = await pull('cyrlink', ['-a', '--iconv=ISO-8859-1,UTF-8']);
    // (rsync's receiver empties such an entry, which can change its line for "./": only the tree and the errors are compared.)
    expect([ours.code, r.code], show(ours)).toEqual([23, 23]);
    expect(errLines(ours.stderr)).toEqual(errLines(asRead(r.err)));
    expect(ours.stderr).toMatch(/^\[Receiver\] cannot convert symlink data for: ".*\/clink" \(Invalid or incomplete multibyte or wide character\)$/m);
    sameTrees();
  });

  it('an unknown charset: LOCAL is refused before connecting (exit 4), REMOTE by the server (exit 12)', async () => {
    fs.rmSync(rshLog, { force: true });
    const local = await runCli([eng, '-a', '--iconv=BOGUS,UTF-8', '-e', rsh, `${root}/lat/`, `host:${pair.mine}/`]);
    // (rsync's client starts the remote shell first, then fails alike; arsync starts nothing.)
    expect(fs.existsSync(rshLog) ? fs.readFileSync(rshLog, 'utf8') : '').toBe('');
    const rl = rsyncClient(['-a', '--iconv=BOGUS,UTF-8', '-e', rsh, `${root}/lat/`, `host:${pair.theirs}/`]);
    expect([local.code, rl.code]).toEqual([4, 4]);
    expect(local.stderr).toContain('iconv_open("UTF-8", "BOGUS") failed\n');
    expect(rl.err).toContain('iconv_open("UTF-8", "BOGUS") failed\n');
    const remote = await pull('lat', ['-a', '--iconv=UTF-8,BOGUS']);
    expect([remote.ours.code, remote.r.code]).toEqual([12, 12]);
    expect(remote.ours.stderr).toContain('iconv_open("UTF-8", "BOGUS") failed\n');
    expect(fs.existsSync(pair.mine)).toBe(false);
  });

  it('protocol 30: the same trees both ways', async () => {
    const p = await push('lat', ['-ai', '--protocol=30', '--iconv=ISO-8859-1,UTF-8']);
    sameRun(p.r, p.ours);
    sameTrees();
    fs.rmSync(pair.mine, { recursive: true });
    fs.rmSync(pair.theirs, { recursive: true });
    const q = await pull('utf', ['-ai', '--protocol=30', '--iconv=ISO-8859-1,UTF-8']);
    sameRun(q.r, q.ours);
    sameTrees();
  });

  it('an rsync daemon: a pull from and a push to modules with UTF-8 names, Latin-1 here', async () => {
    const url = `rsync://127.0.0.1:${daemon.port}`;
    const r = rsyncClient(['-ai', '--iconv=ISO-8859-1,UTF-8', `${url}/utf/`, `${pair.theirs}/`]);
    const ours = await runCli([eng, '-ai', '--iconv=ISO-8859-1,UTF-8', `${url}/utf/`, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
    sameRun(r, ours);
    expect(names(pair.mine)).toEqual(names(path.join(root, 'lat')));
    sameTrees();
    // Pushed back under another name each: the module's tree then holds the names in UTF-8 again.
    const theirsUp = rsyncClient(['-ai', '--iconv=ISO-8859-1,UTF-8', `${pair.theirs}/`, `${url}/up/theirs-${e.name}/`]);
    const oursUp = await runCli([eng, '-ai', '--iconv=ISO-8859-1,UTF-8', `${pair.mine}/`, `${url}/up/mine-${e.name}/`]);
    sameRun(theirsUp, oursUp);
    expect(names(path.join(root, 'up', `mine-${e.name}`))).toEqual(names(path.join(root, 'utf')));
    expect(formatDiffs(compareTrees(path.join(root, 'up', `theirs-${e.name}`), path.join(root, 'up', `mine-${e.name}`), { mtimeToleranceNs: tolerance }))).toEqual([]);
  });

  it('-s with --files-from: the names of a list here converted as forwarded, of a list there as read', async () => {
    // A pull with the list here (Latin-1 names), a push with the list on the far side (UTF-8 names).
    const here = path.join(root, `list-here-${e.name}`);
    fs.writeFileSync(here, Buffer.from('caf\xe9\n\xe9t\xe9/d\xe9j\xe0\nzz\n', L1));
    const p = await pull('utf', ['-ai', '-s', `--files-from=${here}`, '--iconv=ISO-8859-1,UTF-8']);
    sameRun(p.r, p.ours);
    expect(names(pair.mine)).toHaveLength(3);
    sameBeneathRoot();
    fs.rmSync(pair.mine, { recursive: true });
    fs.rmSync(pair.theirs, { recursive: true });
    const there = path.join(root, `list-there-${e.name}`);
    fs.writeFileSync(there, Buffer.from('caf\u00e9\n\u00e9t\u00e9/d\u00e9j\u00e0\n'));
    const q = await push('lat', ['-ai', '-s', `--files-from=host:${there}`, '--iconv=ISO-8859-1,UTF-8']);
    sameRun(q.r, q.ours);
    expect(names(pair.mine)).toHaveLength(2);
    sameBeneathRoot();
  });

  it.runIf(peersAvailable)('older far sides built without iconv (3.1.3, 3.2.7) refuse the option as they do rsync\'s: exit 12, their words', async () => {
    for (const [v, says] of [
      ['3.1.3', '--iconv=UTF-8: unknown option'],
      ['3.2.7', 'The server does not support --iconv'],
    ] as const) {
      for (const run of [() => pull('utf', ['-a', '--iconv=ISO-8859-1,UTF-8', `--rsync-path=${peerRsync(v)}`]), () => push('lat', ['-a', '--iconv=ISO-8859-1,UTF-8', `--rsync-path=${peerRsync(v)}`])]) {
        const { r, ours } = await run();
        expect([ours.code, r.code], show(ours)).toEqual([12, 12]);
        expect(ours.stderr).toContain(says);
        expect(errLines(ours.stderr)).toEqual(errLines(asRead(r.err)));
      }
    }
  });

  it('pull --remove-source-files: the sender is told each file placed by its index as sent', async () => {
    const copies = [`srcm-${e.name}`, `srct-${e.name}`].map((n) => path.join(root, n));
    for (const c of copies) execFileSync('cp', ['-a', path.join(root, 'utf'), c]);
    const from = (i: number): string => `host:${copies[i]}/`;
    const r = rsyncClient(['-ai', '--remove-source-files', '--iconv=ISO-8859-1,UTF-8', '-e', rsh, from(1), `${pair.theirs}/`]);
    const ours = await runCli([eng, '-ai', '--remove-source-files', '--iconv=ISO-8859-1,UTF-8', '-e', rsh, from(0), `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
    sameRun(r, ours);
    sameTrees();
    // What is left of each source: the directories (and nothing else but what rsync left too).
    expect(formatDiffs(compareTrees(copies[1]!, copies[0]!, { mtimeToleranceNs: tolerance }).filter((d) => !d.what.includes('mtime')))).toEqual([]);
    expect(fs.existsSync(path.join(copies[0]!, 'caf\u00e9'))).toBe(false);
  });

  it('-H: a hard-link group named in Latin-1 here, in UTF-8 there, pulled and pushed', async () => {
    const p = await pull('hl-utf', ['-aiH', '--iconv=ISO-8859-1,UTF-8']);
    sameRun(p.r, p.ours);
    expect(fs.statSync(path.join(pair.mine, 'zlink')).nlink).toBe(3);
    sameTrees();
    fs.rmSync(pair.mine, { recursive: true });
    fs.rmSync(pair.theirs, { recursive: true });
    const q = await push('hl-lat', ['-aiH', '--iconv=ISO-8859-1,UTF-8']);
    sameRun(q.r, q.ours);
    expect(fs.statSync(path.join(pair.mine, 'zlink')).nlink).toBe(3);
    sameTrees();
  });

  it('-D: a FIFO named in Latin-1 here, in UTF-8 there, pulled and pushed', async () => {
    const p = await pull('fifo-utf', ['-aiD', '--iconv=ISO-8859-1,UTF-8']);
    sameRun(p.r, p.ours);
    expect(fs.lstatSync(at(pair.mine, Buffer.from('sub/tuyau-\xe9', L1))).isFIFO()).toBe(true);
    sameTrees();
    fs.rmSync(pair.mine, { recursive: true });
    fs.rmSync(pair.theirs, { recursive: true });
    const q = await push('fifo-lat', ['-aiD', '--iconv=ISO-8859-1,UTF-8']);
    sameRun(q.r, q.ours);
    expect(fs.lstatSync(at(pair.mine, Buffer.from('sub/tuyau-\u00e9'))).isFIFO()).toBe(true);
    sameTrees();
  });
});
