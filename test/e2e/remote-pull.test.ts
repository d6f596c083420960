// Pulling from another machine (`arsync [options] host:src dst`) through a remote shell, against the
// rsync installed on the far side (3.5, and 3.1.3 and 3.2.7 where scripts/build-peers.sh built them).
// Differential: rsync as the client with the same options, remote shell and server must leave the same
// tree (bytes, modes, owners, times to the nanosecond where the engine keeps them, symlinks, hard links),
// exit with the same code and print the same -i lines (compared as sets: rsync's client prints them from
// two processes, in an order that varies between its own runs). A delta
// pull must send little: --stats' "Literal data"/"Matched data" as rsync reports them for the same pull.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { destPairs, itemLines, rsyncClient, type RsyncResult } from '../helpers/remote-pull.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

let root: string;
let src: string;
let rsh: string;

function makeTree(): void {
  fs.rmSync(src, { recursive: true, force: true });
  const w = (rel: string, data: string | Buffer = rel): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
  };
  for (const n of ['a', 'a.o', 'b c', 'd/x', 'd/sub/y', 'e/z', 'weird\nname', 'keep/k.o']) w(n);
  w('big', Buffer.alloc(700_001, 7));
  fs.symlinkSync('a', path.join(src, 'ln'));
  fs.symlinkSync('../nowhere', path.join(src, 'd', 'dangling'));
  fs.linkSync(path.join(src, 'a'), path.join(src, 'd', 'hard-a'));
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  fs.chownSync(path.join(src, 'b c'), 65534, 65534);
  fs.chmodSync(path.join(src, 'e'), 0o2750);
  fs.chmodSync(path.join(src, 'a.o'), 0o600);
  // Times in the past, with nanoseconds (rsync 3.5 as the client leaves a directory made within the
  // same second as its source's change with the time of its making: not what this test is about).
  const all = execFileSync('find', [src, '-depth', '-print0']).toString('latin1').split('\0').filter(Boolean);
  execFileSync('touch', ['-h', '-d', '2021-05-06 07:08:09.123456789', ...all.map((p) => Buffer.from(p, 'latin1').toString())]);
  execFileSync('touch', ['-h', '-d', '2001-02-03 04:05:06.987654321', path.join(src, 'd', 'x')]);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpull-'));
  src = path.join(root, 'src');
  makeTree();
  // The far side: drop the host, run what the client asked for (as ssh would).
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Put the same old destination in both places (times fixed): what a re-sync, a delta and a delete find. */
function seedDest(dst: string): void {
  fs.mkdirSync(path.join(dst, 'd'), { recursive: true });
  fs.writeFileSync(path.join(dst, 'extra'), 'extra');
  fs.mkdirSync(path.join(dst, 'keep'), { recursive: true });
  fs.writeFileSync(path.join(dst, 'keep', 'p.o'), 'x');
  const big = Buffer.alloc(700_001, 7);
  big.write('changed', 350_000);
  fs.writeFileSync(path.join(dst, 'big'), big);
  fs.writeFileSync(path.join(dst, 'a'), 'old a, longer');
  const when = new Date('2020-01-01T00:00:00Z');
  for (const rel of ['extra', 'keep/p.o', 'big', 'a', 'keep', 'd', '.']) fs.utimesSync(path.join(dst, rel), when, when);
}

let sharedN = 0;

/**
 * rsync's client on a case, into a destination of its own (`seed`: the old destination first): what it
 * does depends on the source, the far side and the options, not on the engine under test, so the first
 * engine's run of the test makes it and the same test under the other engines compares with its result
 * (test/helpers/shared-case.ts). `args` gets that destination.
 */
function theirs(args: (dst: string) => string[], seed = false): RsyncResult & { dst: string } {
  return sameForEveryEngine([args('DST'), seed], () => {
    const dst = path.join(root, `theirs-shared-${++sharedN}`);
    if (seed) seedDest(dst);
    return { ...rsyncClient(args(dst)), dst };
  });
}

const CASES: string[][] = [
  ['-a'],
  ['-aH', '-i'],
  ['-ai', '--delete'],
  ['-ai', '--delete', '--exclude=*.o'],
  // Deletions after the transfer look at the staged tree again: every staged name must still be there.
  ['-ai', '--delete-after'],
  ['-ai', '--delete-delay'],
  ['-rlpti', '--numeric-ids'],
  ['-ai', '-c'],
  ['-ai', '-W'],
  ['-ai', '--existing'],
  ['-ai', '--ignore-existing'],
  ['-ai', '-u'],
  ['-ai', '-n', '--delete'],
  ['-ai', '--inplace'],
  ['-ai', '--backup', '--suffix=.bak'],
];

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const pair = destPairs(() => root, e.name);

  /** Under --backup both clients leave directory times alone (rsync's -O then): each tree has its own. */
  const same = (opts: string[] = [], theirDst = pair.theirs): void => {
    const diffs = compareTrees(theirDst, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, times: !opts.includes('--backup') });
    expect(formatDiffs(diffs)).toEqual([]);
  };

  // --existing into a new destination: rsync gives the new root its source's time, arsync's local run
  // does not (a difference of the local run's, not of the pull): left out here.
  it.each(CASES.filter((o) => !o.includes('--existing')))('pulls like rsync into a new destination: %j', async (...opts) => {
    const r = theirs((dst) => [...opts, '-e', rsh, `host:${src}/`, `${dst}/`]);
    const ours = await runCli([eng, ...opts, '-e', rsh, `host:${src}/`, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(r.code).toBe(0);
    if (!opts.includes('-n')) same(opts, r.dst);
    else expect(fs.existsSync(pair.mine)).toBe(fs.existsSync(r.dst));
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
  });

  // The far side's sender removes a source once the client says it is in place (MSG_SUCCESS, before the
  // last goodbye): every transferred entry, and under --remove-source-files the ones already there too.
  // arsync removed nothing there and printed "sender removed" for its own staging names (exit 0).
  it.each([['--remove-source-files'], ['--remove-sent-files']])('%s: the far side\'s sender removes what was placed, as rsync does', async (opt) => {
    const trees = ['theirs', 'ours'].map((who) => ({ src: path.join(root, `rsf-${who}-src-${e.name}-${opt}`), dst: path.join(root, `rsf-${who}-dst-${e.name}-${opt}`) }));
    for (const t of trees) {
      execFileSync('cp', ['-a', `${src}/.`, t.src]);
      seedDest(t.dst);
      // Already there and the same: removed under --remove-source-files only.
      execFileSync('cp', ['-a', path.join(src, 'e'), t.dst]);
    }
    const opts = ['-a', opt, '-vv'];
    const theirs = rsyncClient([...opts, '-e', rsh, `host:${trees[0]!.src}/`, `${trees[0]!.dst}/`]);
    const ours = await runCli([eng, ...opts, '-e', rsh, `host:${trees[1]!.src}/`, `${trees[1]!.dst}/`]);
    expect(ours.code, show(ours)).toBe(theirs.code);
    const removed = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('sender removed')).sort();
    expect(removed(ours.stdout), show(ours)).toEqual(removed(theirs.out));
    expect(removed(ours.stdout).length).toBeGreaterThan(5);
    const left = (d: string): string[] => execFileSync('find', ['.'], { cwd: d, encoding: 'latin1' }).split('\n').sort();
    expect(left(trees[1]!.src)).toEqual(left(trees[0]!.src));
    expect(fs.existsSync(path.join(trees[1]!.src, 'a'))).toBe(false);
    expect(fs.existsSync(path.join(trees[1]!.src, 'e', 'z'))).toBe(opt === '--remove-sent-files');
    expect(formatDiffs(compareTrees(trees[0]!.dst, trees[1]!.dst, { mtimeToleranceNs: tolerance, xattrs: false, acls: false }))).toEqual([]);
  });

  // A source the far sender cannot open never comes; where the destination already had a file of that name
  // it stood in for it, and arsync confirmed it, so the far sender removed the only copy (session 51).
  it('--remove-source-files: a source the far sender cannot open is kept, also where the destination has that name', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), `arsync-rsf-unread-${e.name}-`));
    try {
      fs.chmodSync(base, 0o755);
      fs.writeFileSync(path.join(base, 'rsh'), '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
      const trees = ['theirs', 'ours'].map((who) => {
        const t = { src: path.join(base, `${who}-src`), dst: path.join(base, `${who}-dst`) };
        fs.mkdirSync(t.src);
        fs.mkdirSync(t.dst);
        fs.writeFileSync(path.join(t.src, 'unread'), 'the only copy');
        fs.writeFileSync(path.join(t.src, 'ok'), 'ok');
        fs.writeFileSync(path.join(t.dst, 'unread'), 'old');
        fs.chmodSync(path.join(t.src, 'unread'), 0o000);
        execFileSync('chown', ['-R', '65534:65534', t.src, t.dst]);
        return t;
      });
      const args = (t: { src: string; dst: string }): string[] => ['-rt', '--remove-source-files', '-e', path.join(base, 'rsh'), `host:${t.src}/`, `${t.dst}/`];
      const r = rsyncAs(NOBODY, args(trees[0]!));
      const ours = await runCli([eng, ...args(trees[1]!)], { user: NOBODY });
      expect(r.code, r.stderr).toBe(23);
      expect(ours.code, show(ours)).toBe(23);
      expect(ours.stderr).toContain(`[sender] send_files failed to open "${trees[1]!.src}/unread": Permission denied (13)`);
      for (const t of trees) {
        expect(fs.readdirSync(t.src), t.src).toEqual(['unread']);
        fs.chmodSync(path.join(t.src, 'unread'), 0o600);
        expect(fs.readFileSync(path.join(t.src, 'unread'), 'utf8')).toBe('the only copy');
        expect(fs.readFileSync(path.join(t.dst, 'unread'), 'utf8')).toBe('old');
        expect(fs.readFileSync(path.join(t.dst, 'ok'), 'utf8')).toBe('ok');
      }
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  // -R's implied directories come without their contents (XMIT_NO_CONTENT_DIR): nothing in them is deleted.
  // The local half took such a directory for an operand and deleted what its twin held (session 51).
  it('-R --delete: nothing is deleted in an implied directory, as rsync (/./ and absolute operands, -n, --delete-after, --no-implied-dirs)', async () => {
    const base = path.join(root, `implied-${e.name}`);
    fs.mkdirSync(path.join(base, 'src/a/b'), { recursive: true });
    fs.writeFileSync(path.join(base, 'src/a/b/f'), 'f');
    fs.writeFileSync(path.join(base, 'src/a/not-sent'), 'not sent');
    execFileSync('touch', ['-d', '2020-01-01', path.join(base, 'src/a'), path.join(base, 'src/a/b')]);
    // (A retry starts from nothing; the times are fixed so that the two destinations compare.)
    const seed = (dst: string, under: string): void => {
      fs.rmSync(dst, { recursive: true, force: true });
      fs.mkdirSync(path.join(dst, under, 'a/b'), { recursive: true });
      fs.writeFileSync(path.join(dst, under, 'a/precious'), 'keep me');
      fs.writeFileSync(path.join(dst, under, 'a/b/old'), 'old');
      const all = execFileSync('find', [dst, '-print0']).toString('latin1').split('\0').filter(Boolean);
      execFileSync('touch', ['-h', '-d', '2019-02-03 04:05:06', ...all]);
    };
    const abs = path.join(base, 'src').slice(1);
    const cases: [string[], string, string][] = [
      [[], `${base}/src/./a/b`, ''],
      [['-n'], `${base}/src/./a/b`, ''],
      [['--delete-after'], `${base}/src/./a/b`, ''],
      [['--no-implied-dirs'], `${base}/src/./a/b`, ''],
      [[], `${base}/src/a/b`, abs],
    ];
    for (const [i, [opts, from, under]] of cases.entries()) {
      const [theirsDst, mine] = [path.join(base, `theirs-${i}`), path.join(base, `mine-${i}`)];
      seed(theirsDst, under);
      seed(mine, under);
      const args = ['-ai', '-R', '--delete', ...opts, '-e', rsh, `host:${from}`];
      const r = rsyncClient([...args, `${theirsDst}/`]);
      const ours = await runCli([eng, ...args, `${mine}/`]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(r.code, r.err).toBe(0);
      // (rsync's receiver prints a/b's deletion before a/'s line; the local half after it.)
      expect(itemLines(ours.stdout).sort(), opts.join(' ')).toEqual(itemLines(r.out).sort());
      expect(ours.stdout).not.toMatch(/precious/);
      expect(fs.readFileSync(path.join(mine, under, 'a/precious'), 'utf8')).toBe('keep me');
      // (Below the implied directories of an absolute operand, whose source times move: /tmp's.)
      expect(formatDiffs(compareTrees(path.join(theirsDst, under, 'a'), path.join(mine, under, 'a'), { mtimeToleranceNs: tolerance, xattrs: false, acls: false }))).toEqual([]);
    }
  });

  it.each(CASES)('pulls like rsync onto an old destination: %j', async (...opts) => {
    seedDest(pair.mine);
    const r = theirs((dst) => [...opts, '-e', rsh, `host:${src}/`, `${dst}/`], true);
    const ours = await runCli([eng, ...opts, '-e', rsh, `host:${src}/`, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    same(opts, r.dst);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
  });

  it("announces the file list as rsync's client does (-v: done; --progress: the count, every hundredth entry; no -r: nothing)", async () => {
    const wide = path.join(root, `wide-${e.name}`);
    for (let i = 0; i < 250; i++) {
      fs.mkdirSync(wide, { recursive: true });
      fs.writeFileSync(path.join(wide, `f${i}`), `${i}`);
    }
    // What comes before the first line about a file: the list's announcement.
    const head = (out: string): string => out.slice(0, out.search(/created directory|\n[^\n]*f\d/));
    for (const opts of [['-av'], ['-a', '--progress'], ['-t', '-v']]) {
      const src1 = opts.includes('-t') ? `${wide}/f7` : `${wide}/`;
      const r = rsyncClient([...opts, '-e', rsh, `host:${src1}`, `${pair.theirs}-${opts.join('')}/`]);
      const ours = await runCli([eng, ...opts, '-e', rsh, `host:${src1}`, `${pair.mine}-${opts.join('')}/`]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(head(ours.stdout), opts.join(' ')).toBe(head(r.out));
    }
  });

  // A directory named without -r or -d: rsync's sender says "skipping directory", sends an empty list and
  // leaves; its client asks for nothing, prints its own figures and exits 0. arsync ran the transfer
  // phases on the empty list, met the closed connection and exited 12.
  it('an empty list (a directory without -r): nothing made, rsync\'s lines and figures, exit 0', async () => {
    const rate = (out: string): string => out.replace(/ [\d,.]+ bytes\/sec$/m, ' … bytes/sec');
    for (const opts of [[], ['-v'], ['--stats'], ['-i', '--stats']]) {
      for (const operand of [`${src}/`, src]) {
        const theirDst = `${pair.theirs}-empty`;
        const myDst = `${pair.mine}-empty`;
        const r = rsyncClient([...opts, '-e', rsh, `host:${operand}`, `${theirDst}/`]);
        const ours = await runCli([eng, ...opts, '-e', rsh, `host:${operand}`, `${myDst}/`]);
        expect(r.code).toBe(0);
        expect(ours.code, show(ours)).toBe(0);
        expect(rate(ours.stdout), `${opts.join(' ')} ${operand}`).toBe(rate(r.out));
        expect(fs.existsSync(myDst)).toBe(fs.existsSync(theirDst));
      }
    }
  });

  // --max-size/--min-size: rsync's generator asks nothing for a file outside the bounds, whatever the
  // destination holds and under -I too. arsync fetched such a file whole when the destination lacked it
  // (or under -I), then left it unplaced: the tree was right, "Literal data" was not.
  it.each([[['-a', '--max-size=1k']], [['-a', '--min-size=1k']], [['-a', '-I', '--max-size=1k']]])('%j asks nothing for a file outside the bounds, as rsync', async (opts) => {
    const figures = (out: string): string[] => out.split('\n').filter((l) => /^(Literal data|Number of regular files transferred|Total transferred file size):/.test(l));
    for (const seed of [false, true]) {
      if (seed) seedDest(pair.mine);
      const r = theirs((dst) => [...opts, '--stats', '-e', rsh, `host:${src}/`, `${dst}/`], seed);
      const ours = await runCli([eng, ...opts, '--stats', '-e', rsh, `host:${src}/`, `${pair.mine}/`]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(figures(ours.stdout), `seeded: ${seed}`).toEqual(figures(r.out));
      expect(figures(r.out)).toHaveLength(3);
      same(opts, r.dst);
      fs.rmSync(pair.mine, { recursive: true, force: true });
    }
  });

  // --modify-window: a file whose time is within the window is up to date for rsync's generator, which
  // asks nothing for it; arsync's pull compared the times exactly and fetched it as a delta (all of it
  // matched data), which the local run then judged up to date and did not place.
  it('--modify-window: a file within the window is not fetched, as rsync', async () => {
    const figures = (out: string): string[] => out.split('\n').filter((l) => /^(Literal data|Matched data|Number of regular files transferred):/.test(l));
    const seeded = (dst: string): void => {
      seedDest(dst);
      fs.copyFileSync(path.join(src, 'big'), path.join(dst, 'big'));
      // Ten seconds after the source's time, with nanoseconds of its own.
      const t = fs.statSync(path.join(src, 'big')).mtimeMs / 1000 + 10.25;
      fs.utimesSync(path.join(dst, 'big'), t, t);
    };
    const opts = ['-a', '--modify-window=60', '--stats'];
    const theirDst = `${pair.theirs}-mw`;
    seeded(theirDst);
    seeded(pair.mine);
    const r = rsyncClient([...opts, '-e', rsh, `host:${src}/`, `${theirDst}/`]);
    const ours = await runCli([eng, ...opts, '-e', rsh, `host:${src}/`, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(figures(r.out)).toContain('Matched data: 0 bytes');
    expect(figures(ours.stdout)).toEqual(figures(r.out));
  });

  // -R --no-implied-dirs: rsync's sender still sends the directories on the way to the operand, flagged
  // implied (XMIT_TOP_DIR with XMIT_NO_CONTENT_DIR), and its receiver skips them: no line, not listed,
  // made with default permissions as the way to the file. arsync copied them as operands, with the far
  // side's modes and their own -i lines. Relative operands through a shell that starts elsewhere, so the
  // far side's directories are not this side's.
  it('-R --no-implied-dirs: the implied directories skipped as rsync\'s receiver skips them; without it, made as sent', async () => {
    const far = path.join(root, `far-${e.name}`);
    fs.mkdirSync(path.join(far, 'a1', 'b1'), { recursive: true });
    fs.writeFileSync(path.join(far, 'a1', 'b1', 'f'), 'f');
    fs.chmodSync(path.join(far, 'a1'), 0o711);
    fs.chmodSync(path.join(far, 'a1', 'b1'), 0o750);
    const cdRsh = path.join(root, `cd-rsh-${e.name}`);
    fs.writeFileSync(cdRsh, `#!/bin/sh\nshift\ncd '${far}' && exec sh -c "$*"\n`, { mode: 0o755 });
    const modes = (d: string): string[] => ['a1', 'a1/b1'].map((rel) => (fs.statSync(path.join(d, rel)).mode & 0o7777).toString(8));
    for (const opts of [['-ai', '-R', '--no-implied-dirs'], ['-ai', '-R'], ['-a', '-R', '--no-implied-dirs', '--list-only']]) {
      const theirDst = `${pair.theirs}-${opts.length}`;
      const myDst = `${pair.mine}-${opts.length}`;
      const listing = opts.includes('--list-only');
      const r = rsyncClient([...opts, '-e', cdRsh, 'host:a1/b1/f', ...(listing ? [] : [`${theirDst}/`])]);
      const ours = await runCli([eng, ...opts, '-e', cdRsh, 'host:a1/b1/f', ...(listing ? [] : [`${myDst}/`])]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(r.code).toBe(0);
      expect(ours.stdout.replaceAll(myDst, 'DST'), opts.join(' ')).toBe(r.out.replaceAll(theirDst, 'DST'));
      if (!listing) expect(modes(myDst), opts.join(' ')).toEqual(modes(theirDst));
    }
  });

  // -R with an absolute operand beside a /./ one: rsync's sender sends the absolute one's names with
  // their leading slash, and its receiver sorts them so (before every other name) and strips the slash
  // after the sort. arsync stripped it first, sorted "a" before "tmp", asked for the wrong indices and
  // ended in exit 12 ("received request to transfer non-regular file" from the sender).
  it('-R with a /./ operand and an absolute one: the same tree as rsync, exit 0', async () => {
    const far = path.join(root, `rooted-${e.name}`);
    fs.mkdirSync(path.join(far, 'src', 'a', 'b'), { recursive: true });
    fs.mkdirSync(path.join(far, 'abs'), { recursive: true });
    fs.writeFileSync(path.join(far, 'src', 'a', 'b', 'f'), 'f');
    fs.writeFileSync(path.join(far, 'abs', 'g'), 'g');
    const operands = [`host:${far}/src/./a`, `host:${far}/abs`];
    const theirs = `${pair.theirs}-rooted`;
    const mine = `${pair.mine}-rooted`;
    const r = rsyncClient(['-aiR', '-e', rsh, ...operands, `${theirs}/`]);
    const ours = await runCli([eng, '-aiR', '-e', rsh, ...operands, `${mine}/`]);
    expect(r.code, r.out).toBe(0);
    expect(ours.code, show(ours)).toBe(0);
    // Names, kinds, modes and bytes (the directories on the way to `far` are this test's own, whose
    // times move while it runs).
    const listing = (d: string): string[] =>
      execFileSync('find', ['.', '-printf', '%y %m %p\n'], { cwd: d, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(listing(mine)).toEqual(listing(theirs));
    expect(fs.readFileSync(path.join(mine, far, 'abs', 'g'), 'utf8')).toBe('g');
    expect(fs.readFileSync(path.join(mine, 'a', 'b', 'f'), 'utf8')).toBe('f');
    // The same lines; rsync prints the rooted names first (its list's order), arsync in name order.
    expect(itemLines(ours.stdout).sort()).toEqual(itemLines(r.out).sort());
  });

  // -U in a pull: the server was told to send access times but the list was decoded without them, and
  // every pull with -U ended in "ABORTING due to unsafe pathname from sender" (exit 4). A remote listing
  // with -U did not ask for them, and no listing printed rsync's column of access times.
  it('-U: access times come in the list and are given, and a listing shows them, as rsync', async () => {
    const tree = path.join(root, `atimes-${e.name}`);
    fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
    for (const f of ['a', 'sub/b']) fs.writeFileSync(path.join(tree, f), f);
    // Access times after the modification times and within a day, so that reading the files (relatime)
    // leaves them as they are from one run to the next.
    const now = Math.floor(Date.now() / 1000);
    const stamp = (): void => {
      for (const [f, back] of [['a', 3000], ['sub/b', 2000], ['sub', 1000]] as const) fs.utimesSync(path.join(tree, f), now - back, now - 7200 - back);
    };
    const atimes = (d: string): number[] => ['a', 'sub/b'].map((f) => Math.floor(fs.statSync(path.join(d, f)).atimeMs / 1000));
    stamp();
    const r = rsyncClient(['-aiU', '-e', rsh, `host:${tree}/`, `${pair.theirs}/`]);
    stamp();
    const ours = await runCli([eng, '-aiU', '-e', rsh, `host:${tree}/`, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(r.code).toBe(0);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(atimes(pair.mine)).toEqual([now - 3000, now - 2000]);
    expect(atimes(pair.mine)).toEqual(atimes(pair.theirs));
    for (const operand of [`host:${tree}/`, `${tree}/`]) {
      stamp();
      const theirs = rsyncClient(['-aU', '--list-only', ...(operand.startsWith('host:') ? ['-e', rsh] : []), operand]);
      stamp();
      const mine = await runCli([eng, '-aU', '--list-only', ...(operand.startsWith('host:') ? ['-e', rsh] : []), operand]);
      expect(mine.code, show(mine)).toBe(0);
      expect(mine.stdout, operand).toBe(theirs.out);
      expect(theirs.out).toMatch(/ \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d a$/m);
    }
  });

  it('pulls more files than the process may hold open (ulimit -n 64), fresh and as deltas', async () => {
    const many = path.join(root, `many-${e.name}`);
    for (let i = 0; i < 400; i++) {
      fs.mkdirSync(path.join(many, `d${i % 4}`), { recursive: true });
      fs.writeFileSync(path.join(many, `d${i % 4}`, `f${i}`), Buffer.alloc(2000 + i, i & 0xff));
    }
    const dst = path.join(root, `many-dst-${e.name}`);
    const pull = () => runCli([`--engine=${e.name}`, '-a', '-e', rsh, `localhost:${many}/`, `${dst}/`], { ulimitN: 64 });
    const first = await pull();
    expect(first.code, show(first)).toBe(0);
    // Every file changes a little: each is fetched as a delta against the old one.
    for (let i = 0; i < 400; i++) fs.appendFileSync(path.join(many, `d${i % 4}`, `f${i}`), 'more');
    const second = await pull();
    expect(second.code, show(second)).toBe(0);
    expect(formatDiffs(compareTrees(many, dst, { xattrs: false, acls: false, rootMeta: false, mtimeToleranceNs: e.name === 'node' ? 1000 : 0 }))).toEqual([]);
  });

  // The files a re-sync does not fetch are not staged: the destination's own stand for them
  // (run/staged-source.ts). Chunks of two entries put them on every chunk boundary of the local run.
  it('re-pulls onto a complete copy as rsync: unchanged files kept under --delete, metadata changes applied, no data sent', async () => {
    for (const dst of [pair.theirs, pair.mine]) {
      expect(rsyncClient(['-a', '-e', rsh, `host:${src}/`, `${dst}/`]).code).toBe(0);
      fs.chmodSync(path.join(dst, 'd', 'x'), 0o600);
      fs.chownSync(path.join(dst, 'a.o'), 65534, 65534);
      fs.writeFileSync(path.join(dst, 'd', 'sub', 'extra'), 'x');
      fs.rmSync(path.join(dst, 'e', 'z'));
    }
    const opts = ['-ai', '--delete', '--stats'];
    const r = rsyncClient([...opts, '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
    const ours = await runCli([eng, ...opts, '-e', rsh, `host:${src}/`, `${pair.mine}/`], { env: { ARSYNC_TEST_PAIR_CHUNK: '2' } });
    expect(ours.code, show(ours)).toBe(r.code);
    same();
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(itemLines(ours.stdout).length).toBeGreaterThan(3);
    // Only e/z's 3 bytes come over the wire, as with rsync.
    const data = (out: string): string[] => out.split('\n').filter((l) => /^(Literal|Matched) data:/.test(l));
    expect(data(ours.stdout)).toEqual(['Literal data: 3 bytes', 'Matched data: 0 bytes']);
    expect(data(ours.stdout)).toEqual(data(r.out));
  });

  it('pulls a directory without its trailing slash, and a single file, as rsync', async () => {
    for (const [from, to] of [[`host:${src}/d`, '/'], [`host:${src}/big`, '/'], [`host:${src}/big`, '']]) {
      const t = `${pair.theirs}-${path.basename(from!)}${to ? '-dir' : ''}${to}`;
      const m = `${pair.mine}-${path.basename(from!)}${to ? '-dir' : ''}${to}`;
      const r = rsyncClient(['-a', '-e', rsh, from!, t]);
      const ours = await runCli([eng, '-a', '-e', rsh, from!, m]);
      expect(ours.code, show(ours)).toBe(r.code);
      // The roots were made by each client at its own time.
      expect(formatDiffs(compareTrees(t, m, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, rootMeta: to === '/' ? false : true }))).toEqual([]);
    }
  });

  it.each([[], ['-B', '1024'], ['--no-W', '--block-size=8k']])('sends a small change as a delta: Literal/Matched data as rsync reports them (%j)', async (...blocks) => {
    seedDest(pair.mine);
    const r = theirs((dst) => ['-a', '--stats', ...blocks, '-e', rsh, `host:${src}/big`, `${dst}/big`], true);
    const ours = await runCli([eng, '-a', '--stats', ...blocks, '-e', rsh, `host:${src}/big`, `${pair.mine}/big`]);
    expect(ours.code, show(ours)).toBe(0);
    const figure = (out: string, what: string): number => Number(new RegExp(`^${what}: ([\\d,]+) bytes`, 'm').exec(out)![1]!.replace(/,/g, ''));
    expect(figure(ours.stdout, 'Literal data')).toBe(figure(r.out, 'Literal data'));
    expect(figure(ours.stdout, 'Matched data')).toBe(figure(r.out, 'Matched data'));
    expect(figure(ours.stdout, 'Matched data')).toBeGreaterThan(100 * figure(ours.stdout, 'Literal data'));
    expect(fs.readFileSync(path.join(pair.mine, 'big')).equals(fs.readFileSync(path.join(src, 'big')))).toBe(true);
  });

  it("reports a missing remote source with the server's message and rsync's exit code 23", async () => {
    const r = theirs((dst) => ['-a', '-e', rsh, `host:${root}/nope/`, `${dst}/`]);
    const ours = await runCli([eng, '-a', '-e', rsh, `host:${root}/nope/`, `${pair.mine}/`]);
    expect(r.code).toBe(23);
    expect(ours.code, show(ours)).toBe(23);
    expect(ours.stderr).toMatch(/change_dir .*nope" failed: No such file or directory/);
  });

  it("--json keeps the sending server's error lines (its remote shell's stderr) as the document's errors", async () => {
    const ours = await runCli([eng, '-a', '--json', '-e', rsh, `host:${src}/a`, `:${root}/nope`, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(23);
    const doc = JSON.parse(ours.stdout) as { exitCode: number; errors: { message: string }[]; files: { transferred: number } };
    expect(doc.exitCode).toBe(23);
    expect(doc.files.transferred).toBe(1);
    expect(doc.errors).toEqual([{ message: `rsync: [sender] link_stat "${root}/nope" failed: No such file or directory (2)` }]);
    // Still on stderr, as without --json.
    expect(ours.stderr).toMatch(/link_stat .*nope" failed/);
  });

  it("exits with the remote shell's code when it cannot reach the host (255), writing nothing", async () => {
    const failing = path.join(root, 'fail-rsh');
    fs.writeFileSync(failing, '#!/bin/sh\necho "ssh: connect to host nohost port 22: Connection refused" >&2\nexit 255\n', { mode: 0o755 });
    const ours = await runCli([eng, '-a', '-e', failing, `nohost:${src}/`, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(255);
    expect(fs.existsSync(pair.mine)).toBe(false);
  });

  it.skipIf(!peersAvailable).each(['3.1.3', '3.2.7'])('pulls like rsync from an rsync %s server', async (version) => {
    const peer = peerRsync(version);
    for (const opts of [['-aHi'], ['-ai', '--delete', '--stats']]) {
      seedDest(pair.theirs);
      seedDest(pair.mine);
      const r = rsyncClient([...opts, '-e', rsh, `--rsync-path=${peer}`, `host:${src}/`, `${pair.theirs}/`]);
      const ours = await runCli([eng, ...opts, '-e', rsh, `--rsync-path=${peer}`, `host:${src}/`, `${pair.mine}/`]);
      expect(ours.code, show(ours)).toBe(r.code);
      same();
      expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
      // The node engine keeps times to the microsecond: a re-sync finds the nanoseconds different and
      // fetches again what rsync leaves alone (more matched data, the same tree).
      if (opts.includes('--stats') && fidelity(e.name).nsTimes) expect(/^Matched data: (.*)$/m.exec(ours.stdout)![1]).toBe(/^Matched data: (.*)$/m.exec(r.out)![1]);
    }
  });
});
