// The options a push carries beyond the core (`arsync [options] src/ host:dst/`): --append and
// --append-verify (the receiver's prefix is kept, only the rest is sent; a prefix that is not ours is
// sent again whole under -verify), -U/--atimes (access times in the file list),
// -m/--prune-empty-dirs (the receiving server prunes) and --log-file/--log-file-format (the sending
// client's log, compared line by line with rsync's). Differential against rsync 3.5 as the client
// through the same fake remote shell and server: the same tree (bytes, times, access times), exit
// code, -i lines and "Literal data"; and against the older servers, where rsync 3.1.3's own refusal
// of -U is the expected result.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { rsyncClient } from '../helpers/remote-pull.js';

let root: string;
let src: string;
let rsh: string;
let n = 0;
let theirsDir: string;
let oursDir: string;

/** Bytes that no block of another file matches by chance. */
const noise = (len: number, seed: number): Buffer => Buffer.from(Array.from({ length: len }, (_, i) => (i * 7919 + seed * 104_729 + (i >> 9) * 131) & 0xff));
const ATIME = 1_300_000_000;

function makeTree(at: string): void {
  const w = (rel: string, data: string | Buffer): void => {
    fs.mkdirSync(path.dirname(path.join(at, rel)), { recursive: true });
    fs.writeFileSync(path.join(at, rel), data);
  };
  w('big', noise(300_000, 1));
  w('grow.log', 'line 1\nline 2\nline 3\n');
  w('d/f', 'f');
  w('same', 'same');
  fs.mkdirSync(path.join(at, 'empty', 'deeper'), { recursive: true });
  fs.mkdirSync(path.join(at, 'only-excluded'));
  w('only-excluded/x.tmp', 'tmp');
  fs.symlinkSync('big', path.join(at, 'ln'));
  const age = (rel: string, depth: number): void => {
    const p = path.join(at, rel);
    const st = fs.lstatSync(p);
    if (st.isDirectory()) for (const c of fs.readdirSync(p)) age(path.join(rel, c), depth + 1);
    const t = 1_500_000_000 + depth * 1000 + rel.length;
    // Access times apart from the modification times (and from one another), so -U has something to carry.
    // (A symlink too: a receiver leaves alone a time in the same second as its own new entry's.)
    fs.lutimesSync(p, ATIME + rel.length * 17, t);
  };
  age('', 0);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpushopt-'));
  src = path.join(root, 'src');
  makeTree(src);
  rsh = path.join(root, 'rsh');
  fs.writeFileSync(rsh, '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeEach(() => {
  n++;
  theirsDir = path.join(root, `theirs-${n}`);
  oursDir = path.join(root, `ours-${n}`);
});

const steady = (s: string): string =>
  s
    // The server's own note races with the entries' lines (rsync's client prints it either side of "./").
    .replace(/^skipping non-regular file .*\n/gm, '')
    .replace(/^sent [\d,.]+ bytes {2}received [\d,.]+ bytes {2}[\d,.]+ bytes\/sec$/m, 'sent … received …')
    .replace(/^total size is ([\d,.]+) {2}speedup is [\d,.]+/m, 'total size is $1  speedup is …')
    .replace(/^(File list size|File list (generation|transfer) time|Total bytes (sent|received)):.*$/gm, '$1: …')
    .replace(new RegExp(`${theirsDir}|${oursDir}`, 'g'), 'DST');

/** rsync's closing lines name its source file and version; arsync's do not. */
const errs = (x: string): string =>
  x
    .replace(/^a?rsync/gm, 'X')
    .replace(/ at \S+\(\d+\)/g, '')
    .replace(/ *\[(sender|server|Receiver)=[^\]]*\]$/gm, '')
    .replace(/ +$/gm, '')
    .replace(new RegExp(`${theirsDir}|${oursDir}`, 'g'), 'DST');

/**
 * arsync first: it reads the sources with O_NOATIME, so rsync's client (which does not) lists the same
 * access times after it.
 */
async function both(opts: string[], engine: string, peer?: string): Promise<{ theirs: ReturnType<typeof rsyncClient>; ours: Awaited<ReturnType<typeof runCli>> }> {
  const pathOpt = peer ? [`--rsync-path=${peer}`] : [];
  const ours = await runCli([`--engine=${engine}`, ...opts, ...pathOpt, '-e', rsh, `${src}/`, `host:${oursDir}/`]);
  const theirs = rsyncClient([...opts, ...pathOpt, '-e', rsh, `${src}/`, `host:${theirsDir}/`]);
  return { theirs, ours };
}

const same = (a: string, b: string, o: Parameters<typeof compareTrees>[2] = {}): void => {
  expect(compareTrees(a, b, { xattrs: false, acls: false, rootMeta: false, ...o })).toEqual([]);
};

/** Gives every regular file under `dir` a fixed access time of its own; returns them as atimes() would. */
function setAtimes(dir: string): Record<string, number> {
  const want: Record<string, number> = {};
  for (const rel of Object.keys(atimes(dir))) {
    const p = path.join(dir, rel);
    want[rel] = ATIME + rel.length * 17;
    fs.utimesSync(p, want[rel], fs.statSync(p).mtime);
  }
  return want;
}

/** A log's lines without the time and process prefix, with what differs between two runs made alike. */
function logLines(file: string): string[] {
  return fs
    .readFileSync(file, 'latin1')
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      l
        .replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[\d+\] /, '')
        .replace(new RegExp(`${theirsDir}|${oursDir}`, 'g'), 'DST')
        .replace(/^a?rsync(?= error|:)/, 'X')
        .replace(/ at \S+\(\d+\) \[sender=[^\]]*\]$/, '')
        .replace(/^sent [\d,]+ bytes {2}received [\d,]+ bytes(.*?)[\d,.]+ bytes\/sec$/, 'sent … received …$1…/sec')
        .replace(/^sent \d+ bytes {2}received \d+ bytes {2}total size (\d+)$/, 'sent … received … total size $1')
        .replace(/speedup is [\d,.]+/, 'speedup is …')
        .replace(/^(File list size|File list (generation|transfer) time|Total bytes (sent|received)):.*$/, '$1: …'),
    );
}

/** name → whole-second access time of every regular file under `dir`. */
function atimes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (rel: string): void => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, d.name);
      if (d.isDirectory()) walk(r);
      else if (d.isFile()) out[r] = Math.floor(fs.lstatSync(path.join(dir, r)).atimeMs / 1000);
    }
  };
  walk('');
  return out;
}

/** The far side already has shorter copies: a log that grew, a big file cut short, one with a wrong prefix. */
function partialDest(d: string): void {
  execFileSync('cp', ['-a', `${src}/.`, d]);
  fs.writeFileSync(path.join(d, 'grow.log'), 'line 1\n');
  fs.writeFileSync(path.join(d, 'big'), noise(300_000, 1).subarray(0, 120_000));
  fs.writeFileSync(path.join(d, 'd/f'), '');
  // A prefix that is not the source's: --append keeps it, --append-verify sends the file again.
  const wrong = Buffer.from(noise(300_000, 1).subarray(0, 50_000));
  wrong.write('NOT THE SOURCE', 1000);
  fs.writeFileSync(path.join(d, 'big'), wrong);
  fs.writeFileSync(path.join(d, 'same'), 'same, and longer than the source');
  // Left alone by both clients: the same times on both sides.
  for (const f of ['grow.log', 'big', 'd/f', 'same']) fs.utimesSync(path.join(d, f), 1_400_000_000, 1_400_000_000);
}

describeEngines((e) => {
  it.each([[['-a', '-i', '--append', '--stats']], [['-a', '-i', '--append-verify', '--stats']], [['-r', '-i', '--append']]])(
    'appends like rsync: %j',
    async (opts) => {
      for (const d of [theirsDir, oursDir]) partialDest(d);
      const { theirs, ours } = await both(opts, e.name);
      expect(ours.code, show(ours)).toBe(theirs.code);
      expect(theirs.code).toBe(0);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
      expect(errs(ours.stderr)).toBe(errs(theirs.err));
      same(theirsDir, oursDir, { times: opts.includes('-a') });
      const big = fs.readFileSync(path.join(oursDir, 'big'));
      const whole = noise(300_000, 1);
      if (opts.includes('--append-verify')) {
        // The prefix did not verify: the redo phase sent the file whole.
        expect(big.equals(whole)).toBe(true);
        expect(ours.stderr).toMatch(/WARNING: big failed verification -- update retained \(will try again\)\./);
      } else {
        // The receiver's 50,000 bytes stay as they were; only the rest came.
        expect(big.length).toBe(300_000);
        expect(big.subarray(1000, 1014).toString()).toBe('NOT THE SOURCE');
        expect(big.subarray(50_000).equals(whole.subarray(50_000))).toBe(true);
      }
      expect(fs.readFileSync(path.join(oursDir, 'grow.log'), 'latin1')).toBe('line 1\nline 2\nline 3\n');
      // A destination longer than the source is left alone.
      expect(fs.readFileSync(path.join(oursDir, 'same'), 'latin1')).toBe('same, and longer than the source');
      if (opts.includes('--stats')) {
        const literal = (s: string): string | undefined => /^Literal data: .*$/m.exec(s)?.[0];
        expect(literal(ours.stdout)).toBe(literal(theirs.out));
      }
    },
  );

  it.each([[['-aU', '-i']], [['-rtU', '-i']], [['-aU', '-i', '-H']]])('carries access times like rsync: %j', async (opts) => {
    // Reading a file (rsync's client, the tree comparison) moves its access time: each run starts from
    // the same ones, and the destinations' are taken before anything reads them.
    const expected = setAtimes(src);
    const ours = await runCli([`--engine=${e.name}`, ...opts, '-e', rsh, `${src}/`, `host:${oursDir}/`]);
    const oursAt = atimes(oursDir);
    setAtimes(src);
    const theirs = rsyncClient([...opts, '-e', rsh, `${src}/`, `host:${theirsDir}/`]);
    const theirsAt = atimes(theirsDir);
    expect(ours.code, show(ours)).toBe(theirs.code);
    expect(theirs.code).toBe(0);
    expect(steady(ours.stdout)).toBe(steady(theirs.out));
    expect(oursAt).toEqual(expected);
    expect(theirsAt).toEqual(expected);
    same(theirsDir, oursDir, { owners: opts[0] === '-aU' });
    // A second run: only the access time that differs is itemized ("u") and set again.
    for (const d of [oursDir, theirsDir]) fs.utimesSync(path.join(d, 'same'), ATIME - 5, fs.statSync(path.join(d, 'same')).mtime);
    setAtimes(src);
    const again = await runCli([`--engine=${e.name}`, ...opts, '-e', rsh, `${src}/`, `host:${oursDir}/`]);
    const againAt = atimes(oursDir);
    setAtimes(src);
    const rsyncAgain = rsyncClient([...opts, '-e', rsh, `${src}/`, `host:${theirsDir}/`]);
    expect(again.code, show(again)).toBe(0);
    expect(steady(again.stdout)).toBe(steady(rsyncAgain.out));
    expect(again.stdout).toMatch(/^\.f\.\.\.\.\.\.u\.\. same$/m);
    expect(againAt).toEqual(expected);
  });

  it.each([[['-am', '-i']], [['-am', '-i', '--exclude=*.tmp']], [['-am', '-i', '--delete', '--exclude=*.tmp']]])('prunes empty directories like rsync: %j', async (opts) => {
    for (const d of [theirsDir, oursDir]) {
      fs.mkdirSync(path.join(d, 'gone'), { recursive: true });
      fs.writeFileSync(path.join(d, 'gone', 'old'), 'old');
      for (const f of ['gone/old', 'gone']) fs.utimesSync(path.join(d, f), 1_400_000_000, 1_400_000_000);
    }
    const { theirs, ours } = await both(opts, e.name);
    expect(ours.code, show(ours)).toBe(theirs.code);
    expect(theirs.code).toBe(0);
    expect(steady(ours.stdout)).toBe(steady(theirs.out));
    same(theirsDir, oursDir);
    expect(fs.existsSync(path.join(oursDir, 'empty'))).toBe(false);
    expect(fs.existsSync(path.join(oursDir, 'only-excluded'))).toBe(!opts.includes('--exclude=*.tmp'));
    expect(fs.existsSync(path.join(oursDir, 'd', 'f'))).toBe(true);
  });

  it.each([
    [['-a']],
    [['-ai', '--delete']],
    [['-av', '--stats']],
    [['-an', '--delete']],
    [['-a', '--delete', '--log-file-format=%o %n %l']],
    [['-ai', '--log-file-format=']],
    [['-a', '--log-file-format=%n']],
  ])('logs a push as rsync logs it: %j', async (opts) => {
    for (const d of [theirsDir, oursDir]) partialDest(d);
    for (const d of [theirsDir, oursDir]) {
      fs.writeFileSync(path.join(d, 'gone'), 'gone');
      fs.utimesSync(path.join(d, 'gone'), 1_400_000_000, 1_400_000_000);
    }
    const logs = { ours: path.join(root, `ours-${n}.log`), theirs: path.join(root, `theirs-${n}.log`) };
    const ours = await runCli([`--engine=${e.name}`, ...opts, `--log-file=${logs.ours}`, '-e', rsh, `${src}/`, `host:${oursDir}/`]);
    const theirs = rsyncClient([...opts, `--log-file=${logs.theirs}`, '-e', rsh, `${src}/`, `host:${theirsDir}/`]);
    expect(ours.code, show(ours)).toBe(theirs.code);
    expect(theirs.code).toBe(0);
    const ourLog = logLines(logs.ours);
    expect(ourLog).toEqual(logLines(logs.theirs));
    expect(ourLog[0]).toBe('building file list');
    if (!opts.includes('-an') && !opts.includes('--log-file-format=')) expect(ourLog.some((l) => /(^| )big\b/.test(l) && !/^deleting/.test(l))).toBe(true);
    // Every line carries rsync's prefix, with our own process id.
    for (const l of fs.readFileSync(logs.ours, 'latin1').split('\n').filter(Boolean)) expect(l).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[\d+\] /);
  });

  it('logs a push that fails as rsync does: the error, the totals, the exit line', async () => {
    const logs = { ours: path.join(root, `ours-${n}.log`), theirs: path.join(root, `theirs-${n}.log`) };
    const missing = path.join(src, 'missing');
    const ours = await runCli([`--engine=${e.name}`, '-a', `--log-file=${logs.ours}`, '-e', rsh, `${src}/`, missing, `host:${oursDir}/`]);
    const theirs = rsyncClient(['-a', `--log-file=${logs.theirs}`, '-e', rsh, `${src}/`, missing, `host:${theirsDir}/`]);
    expect(ours.code, show(ours)).toBe(23);
    expect(theirs.code).toBe(23);
    expect(logLines(logs.ours)).toEqual(logLines(logs.theirs));
    expect(logLines(logs.ours).at(-1)).toMatch(/^X error: some files\/attrs were not transferred/);
  });

  it.skipIf(!peersAvailable).each(['3.1.3', '3.2.7'])('carries these options to an rsync %s server as rsync does', async (version) => {
    const peer = peerRsync(version);
    for (const opts of [['-ai', '--append'], ['-aim'], ['-aiU']]) {
      n++;
      theirsDir = path.join(root, `theirs-${n}`);
      oursDir = path.join(root, `ours-${n}`);
      if (opts.includes('--append')) for (const d of [theirsDir, oursDir]) partialDest(d);
      const { theirs, ours } = await both(opts, e.name, peer);
      expect(ours.code, show(ours)).toBe(theirs.code);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
      if (version === '3.1.3' && opts.includes('-aiU')) {
        // rsync 3.1 has no -U: its refusal ends both runs with the broken stream's exit 12.
        expect(ours.code).toBe(12);
        expect(ours.stderr).toMatch(/unknown option/);
        expect(ours.stderr).toMatch(/connection unexpectedly closed \(0 bytes received so far\) \[sender\]/);
        expect(fs.existsSync(oursDir)).toBe(false);
        continue;
      }
      expect(theirs.code).toBe(0);
      same(theirsDir, oursDir);
    }
  });
});

describeEngines((e) => {
  it('--out-format=%b in a push: each sent file named after its data with the stream bytes rsync counts (fresh, delta, --append, -n)', async () => {
    const fmt = '--out-format=%i %n %b';
    const lines = (out: string): string[] => out.split('\n').filter((l) => /^[<>ch.*][fdLDS]/.test(l)).sort();
    for (const opts of [['-a', fmt], ['-a', fmt, '--append'], ['-a', '--no-whole-file', fmt], ['-an', fmt]]) {
      n++;
      theirsDir = path.join(root, `theirs-${n}`);
      oursDir = path.join(root, `ours-${n}`);
      if (opts.length > 2) for (const d of [theirsDir, oursDir]) partialDest(d);
      const { theirs, ours } = await both(opts, e.name);
      expect(ours.code, show(ours)).toBe(theirs.code);
      expect(lines(ours.stdout)).toEqual(lines(theirs.out));
      if (!opts.includes('-an')) expect(lines(ours.stdout).some((l) => / big [1-9]\d*$/.test(l))).toBe(true);
    }
  });
});
