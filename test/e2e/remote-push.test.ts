// A push to another machine (`arsync [options] src/ host:dst/`), through a remote shell that runs the
// server command locally (as ssh would on the far side), against the installed rsync 3.5 and, where
// they are built, rsync 3.1.3 and 3.2.7 as the receiving server. Differential: rsync as the client
// with the same options, the same remote shell and the same server must leave the same tree (bytes,
// modes, ns times, symlinks, hard links), exit with the same code and print the same -i/-v lines; a
// delta transfer reports the same "Literal data" and "Matched data" as rsync's client. The sender reads
// through its own walk, whichever engine is named; the tests run under every engine's name.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { rsyncClient } from '../helpers/remote-pull.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

let root: string;
let src: string;
let rsh: string;
let n = 0;

function makeTree(at: string): void {
  const w = (rel: string, data: string | Buffer = rel): void => {
    fs.mkdirSync(path.dirname(path.join(at, rel)), { recursive: true });
    fs.writeFileSync(path.join(at, rel), data);
  };
  for (const f of ['a', 'a.b', 'b c', 'd/x', 'd/sub/y', 'e/z', 'weird\nname', 'empty']) w(f, f === 'empty' ? '' : f);
  // Big enough for several blocks, random so no block matches by chance.
  w('big', Buffer.from(Array.from({ length: 400_000 }, (_, i) => (i * 7919 + (i >> 9) * 131) & 0xff)));
  fs.symlinkSync('a', path.join(at, 'ln'));
  fs.symlinkSync('../../etc/passwd', path.join(at, 'd', 'outside'));
  fs.linkSync(path.join(at, 'a'), path.join(at, 'd', 'hard-a'));
  execFileSync('mkfifo', [path.join(at, 'fifo')]);
  fs.chownSync(path.join(at, 'a.b'), 65534, 65534);
  fs.chmodSync(path.join(at, 'e'), 0o2750);
  fs.chmodSync(path.join(at, 'a'), 0o640);
  // Times in the past: a receiver leaves alone a time in the same second as its own new entry's.
  const age = (rel: string, depth: number): void => {
    const p = path.join(at, rel);
    const st = fs.lstatSync(p);
    if (st.isDirectory()) for (const c of fs.readdirSync(p)) age(path.join(rel, c), depth + 1);
    const t = 1_500_000_000.25 + depth * 1000 + rel.length;
    fs.lutimesSync(p, t, t);
  };
  age('', 0);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpush-'));
  src = path.join(root, 'src');
  makeTree(src);
  // The far side: drop the host, run what the client asked for (ssh gives the words to a shell too).
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let theirsDir: string;
let oursDir: string;
beforeEach(() => {
  n++;
  theirsDir = path.join(root, `theirs-${n}`);
  oursDir = path.join(root, `ours-${n}`);
});

/** Byte counts depend on framing and timing: the rest of each line must match. */
const steady = (s: string): string =>
  s
    // The server's own note races with the entries' lines (rsync's client prints it either side of "./").
    .replace(/^skipping non-regular file .*\n/gm, '')
    .replace(/^sent [\d,.]+ bytes {2}received [\d,.]+ bytes {2}[\d,.]+ bytes\/sec$/m, 'sent … received …')
    .replace(/^total size is ([\d,.]+) {2}speedup is [\d,.]+/m, 'total size is $1  speedup is …')
    .replace(/^(File list size|File list (generation|transfer) time|Total bytes (sent|received)):.*$/gm, '$1: …')
    .replace(new RegExp(`${theirsDir}|${oursDir}`, 'g'), 'DST');

let sharedN = 0;

/**
 * rsync's push and arsync's with the same options. With `shared`, a function that makes the starting
 * destination (given the directory), rsync's run does not depend on the engine under test: the first
 * engine's run of the test makes it, in a destination of its own that `theirsDir` then names, and the
 * same test under the other engines compares with it (test/helpers/shared-case.ts).
 */
async function both(opts: string[], extra: { peer?: string; engine: string; shared?: (dir: string) => void }): Promise<{ theirs: ReturnType<typeof rsyncClient>; ours: Awaited<ReturnType<typeof runCli>> }> {
  const pathOpt = extra.peer ? [`--rsync-path=${extra.peer}`] : [];
  const push = (dir: string): ReturnType<typeof rsyncClient> => rsyncClient([...opts, ...pathOpt, '-e', rsh, `${src}/`, `host:${dir}/`]);
  let theirs: ReturnType<typeof rsyncClient>;
  if (extra.shared) {
    const prepare = extra.shared;
    prepare(oursDir);
    const run = sameForEveryEngine([opts, pathOpt], () => {
      const dir = path.join(root, `theirs-shared-${++sharedN}`);
      prepare(dir);
      return { r: push(dir), dir };
    });
    theirsDir = run.dir;
    theirs = run.r;
  } else {
    theirs = push(theirsDir);
  }
  const ours = await runCli([`--engine=${extra.engine}`, ...opts, ...pathOpt, '-e', rsh, `${src}/`, `host:${oursDir}/`]);
  return { theirs, ours };
}

const same = (a: string, b: string, o: Parameters<typeof compareTrees>[2] = {}): void => {
  expect(compareTrees(a, b, { xattrs: false, acls: false, ...o })).toEqual([]);
};

describeEngines((e) => {
  it.each([[['-a']], [['-av']], [['-ai']], [['-aHv', '--stats']], [['-rlptv', '--numeric-ids']], [['-ani']], [['-aiv', '-W']], [['-ac', '-i']]])(
    'pushes like rsync: %j',
    async (opts) => {
      const { theirs, ours } = await both(opts, { engine: e.name, shared: () => {} });
      expect(ours.code, show(ours)).toBe(theirs.code);
      expect(theirs.code).toBe(0);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
      if (opts.includes('-ani')) {
        expect(fs.existsSync(oursDir)).toBe(false);
        return;
      }
      same(theirsDir, oursDir, { hardlinks: opts.some((o) => o.includes('H')), owners: opts.some((o) => o.includes('a')) });
      if (opts.some((o) => /^-a/.test(o))) same(src, oursDir, { hardlinks: opts.some((o) => o.includes('H')), times: opts.some((o) => /[at]/.test(o)), owners: opts.some((o) => o.includes('a')), rootMeta: false });
    },
  );

  // rsync counts the bytes of its multiplexed stream up to its handle_stats, after the files went: not
  // the versions and checksum names exchanged before it, nor the goodbye after. arsync counted all of
  // its pipe's bytes: 23 sent and 51 received more than rsync for this one-file push. What is left is
  // framing (each sender closes its frames at its own times), a frame header or two.
  it('-v: the summary counts the stream as rsync does, the handshake and the goodbye left out', async () => {
    const one = path.join(root, `one-${e.name}`);
    fs.mkdirSync(one, { recursive: true });
    fs.writeFileSync(path.join(one, 'a'), 'hello\n');
    const figures = (out: string): number[] => {
      const m = /^sent ([\d,]+) bytes {2}received ([\d,]+) bytes/m.exec(out);
      expect(m, out).not.toBeNull();
      return [Number(m![1]!.replace(/,/g, '')), Number(m![2]!.replace(/,/g, ''))];
    };
    // The protocol arsync speaks (31), so both streams carry the same fields.
    const theirs = rsyncClient(['--protocol=31', '-av', '-e', rsh, `${one}/`, `host:${theirsDir}/`]);
    const ours = await runCli([`--engine=${e.name}`, '-av', '-e', rsh, `${one}/`, `host:${oursDir}/`]);
    expect(ours.code, show(ours)).toBe(0);
    const [tSent, tReceived] = figures(theirs.out);
    const [oSent, oReceived] = figures(ours.stdout);
    expect(Math.abs(oSent! - tSent!), `${oSent} vs ${tSent}`).toBeLessThanOrEqual(8);
    expect(Math.abs(oReceived! - tReceived!), `${oReceived} vs ${tReceived}`).toBeLessThanOrEqual(8);
  });

  // The far side's receiver fails (its destination's parent is missing), prints its error and exit
  // line and ends with MSG_ERROR_EXIT: rsync's client exits with that code and no exit line of its own
  // (arsync added "arsync error: error in file IO (code 11)"); with --log-file and no -v it does say it.
  it.each([[['-a']], [['-av']], [['-a', '--log-file=LOG']]])("the far side's error exit: its lines only, its code: %j", async (opts) => {
    const log = (who: string): string[] => opts.map((o) => o.replace('LOG', path.join(root, `log-${who}-${e.name}`)));
    const theirs = rsyncClient([...log('theirs'), '-e', rsh, `${src}/`, `host:${theirsDir}/x/y/`]);
    const ours = await runCli([`--engine=${e.name}`, ...log('ours'), '-e', rsh, `${src}/`, `host:${oursDir}/x/y/`]);
    expect(theirs.code).toBe(11);
    expect(ours.code, show(ours)).toBe(11);
    const lines = (err: string, dst: string): string[] =>
      err.split('\n').filter(Boolean).map((l) => l.replaceAll(dst, 'DST').replace(/^arsync error: (.*\(code \d+\)).*$/, 'rsync error: $1').replace(/^(rsync error: .*\(code \d+\)) at \S+ \[\w+=[\d.]+\]$/, '$1'));
    expect(lines(ours.stderr, oursDir)).toEqual(lines(theirs.err, theirsDir));
  });

  // -R --no-implied-dirs: rsync's sender still sends the directories on the way, flagged implied, and
  // the receiver skips them; without them rsync 3.5's receiver aborts ("invalid path from sender", exit 2).
  it.each(['3.5', ...(peersAvailable ? ['3.1.3', '3.2.7'] : [])])('-R --no-implied-dirs to an rsync %s server: the implied directories sent flagged, as rsync', async (version) => {
    const base = path.join(root, `rel-${e.name}-${version}`);
    fs.mkdirSync(path.join(base, 'a1', 'b1'), { recursive: true });
    fs.writeFileSync(path.join(base, 'a1', 'b1', 'f'), 'f');
    fs.chmodSync(path.join(base, 'a1'), 0o711);
    const peer = version === '3.5' ? [] : [`--rsync-path=${peerRsync(version)}`];
    for (const [i, operands] of [[`${base}/./a1/b1/f`], [`${base}/./a1/b1`], [`${base}/./a1/b1/f`, `${base}/./a1/b1`]].entries()) {
      const opts = ['-ai', '-R', '--no-implied-dirs', ...peer, '-e', rsh];
      const t = `${theirsDir}-${i}`;
      const o = `${oursDir}-${i}`;
      const theirs = rsyncClient([...opts, ...operands, `host:${t}/`]);
      const ours = await runCli([`--engine=${e.name}`, ...opts, ...operands, `host:${o}/`]);
      expect(theirs.code).toBe(0);
      expect(ours.code, show(ours)).toBe(0);
      expect(ours.stdout.replaceAll(o, 'DST')).toBe(theirs.out.replaceAll(t, 'DST'));
      expect((fs.statSync(path.join(o, 'a1')).mode & 0o7777).toString(8)).toBe((fs.statSync(path.join(t, 'a1')).mode & 0o7777).toString(8));
      expect(fs.readFileSync(path.join(o, 'a1', 'b1', 'f'), 'utf8')).toBe('f');
    }
  });

  it('sends a small change as a delta: the same literal and matched data as rsync reports', async () => {
    for (const d of [theirsDir, oursDir]) execFileSync('cp', ['-a', `${src}/.`, d]);
    const big = path.join(src, 'big');
    const saved = fs.readFileSync(big);
    const was = fs.statSync(big);
    try {
      const changed = Buffer.from(saved);
      changed.write('CHANGED', 200_000);
      fs.writeFileSync(big, Buffer.concat([Buffer.from('prefix'), changed]));
      const { theirs, ours } = await both(['-a', '--stats', '-i'], { engine: e.name });
      expect(ours.code, show(ours)).toBe(0);
      const figures = (s: string): string[] => s.split('\n').filter((l) => /^(Literal|Matched) data:/.test(l));
      expect(figures(ours.stdout)).toEqual(figures(theirs.out));
      const literal = Number(/Literal data: ([\d,]+)/.exec(ours.stdout)![1]!.replace(/,/g, ''));
      expect(literal).toBeGreaterThan(0);
      expect(literal).toBeLessThan(20_000);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
      expect(fs.readFileSync(path.join(oursDir, 'big')).equals(fs.readFileSync(big))).toBe(true);
      same(theirsDir, oursDir);
    } finally {
      // Its time too: the source is the same for every later test (rsync's side of a case is shared by the
      // engines, and the engines' runs come after this test's).
      fs.writeFileSync(big, saved);
      fs.utimesSync(big, was.atime, was.mtime);
    }
  });

  it.each([
    [['-a', '-i', '--backup', '--backup-dir=bak', '--delete']],
    [['-a', '-i', '-u']],
    [['-a', '-i', '--existing']],
    [['-a', '-i', '--ignore-existing']],
    [['-a', '-i', '--inplace', '--stats']],
    [['-a', '-i', '-c']],
    [['-a', '-i', '--size-only']],
    [['-a', '-i', '--delete', '--max-delete=1']],
    [['-a', '-in', '--delete']],
    [['-d', '-i', '--delete']],
    [['-rL', '-i']],
    [['-a', '-i', '-W', '--stats']],
  ])('acts on an existing destination as rsync does: %j', async (opts) => {
    // The same out-of-date destination for both: some files changed, one newer, one extra, one missing.
    const outOfDate = (d: string): void => {
      execFileSync('cp', ['-a', `${src}/.`, d]);
      fs.writeFileSync(path.join(d, 'a.b'), 'older content');
      fs.utimesSync(path.join(d, 'a.b'), 1_400_000_000, 1_400_000_000);
      fs.writeFileSync(path.join(d, 'b c'), 'newer on the far side');
      fs.utimesSync(path.join(d, 'b c'), 1_700_000_000, 1_700_000_000);
      const big = Buffer.from(fs.readFileSync(path.join(src, 'big')));
      big.write('edited', 1000);
      fs.writeFileSync(path.join(d, 'big'), big);
      fs.utimesSync(path.join(d, 'big'), 1_400_000_000, 1_400_000_000);
      for (const x of ['extra', 'extra2']) {
        fs.writeFileSync(path.join(d, x), 'x');
        fs.utimesSync(path.join(d, x), 1_400_000_000, 1_400_000_000);
      }
      fs.rmSync(path.join(d, 'e'), { recursive: true });
      fs.utimesSync(d, 1_400_000_000, 1_400_000_000);
    };
    const { theirs, ours } = await both(opts, { engine: e.name, shared: outOfDate });
    expect(ours.code, show(ours)).toBe(theirs.code);
    expect(steady(ours.stdout)).toBe(steady(theirs.out));
    // rsync's closing line names its source file and version; arsync's does not.
    const errs = (x: string): string => x.replace(/^a?rsync/gm, 'X').replace(/ at \S+\(\d+\)/g, '').replace(/ *\[sender=.*$/gm, '').replace(/ +$/gm, '');
    expect(errs(ours.stderr)).toBe(errs(theirs.err));
    // Without -t nothing keeps times; a backup directory is made when each run gets there.
    const times = opts.some((o) => /^-[^-]*[at]/.test(o)) && !opts.includes('--backup');
    same(theirsDir, oursDir, { rootMeta: false, times });
  });

  it('deletes on the far side with --delete and prints the deletions as rsync', async () => {
    for (const d of [theirsDir, oursDir]) {
      fs.mkdirSync(path.join(d, 'gone-dir', 'deep'), { recursive: true });
      fs.writeFileSync(path.join(d, 'gone-file'), 'x');
    }
    for (const opts of [['-a', '--delete', '-i'], ['-av', '--delete-after']]) {
      const { theirs, ours } = await both(opts, { engine: e.name });
      expect(ours.code, show(ours)).toBe(theirs.code);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
    }
    expect(fs.existsSync(path.join(oursDir, 'gone-file'))).toBe(false);
    same(theirsDir, oursDir);
  });

  it('pushes single files and a directory without its slash as rsync does', async () => {
    for (const ops of [[`${src}/a`, `${src}/big`], [`${src}/d`]]) {
      for (const opts of [['-v'], ['-av']]) {
        n++;
        theirsDir = path.join(root, `theirs-${n}`);
        oursDir = path.join(root, `ours-${n}`);
        const theirs = rsyncClient([...opts, '-e', rsh, ...ops, `host:${theirsDir}/`]);
        const ours = await runCli([`--engine=${e.name}`, ...opts, '-e', rsh, ...ops, `host:${oursDir}/`]);
        expect(ours.code, show(ours)).toBe(theirs.code);
        expect(steady(ours.stdout)).toBe(steady(theirs.out));
        same(theirsDir, oursDir, { rootMeta: false, times: opts.includes('-av') });
      }
    }
  });

  it('a missing source: the rest is sent, exit 23 as rsync', async () => {
    const theirs = rsyncClient(['-a', '-e', rsh, `${src}/a`, `${root}/nope`, `host:${theirsDir}/`]);
    const ours = await runCli([`--engine=${e.name}`, '-a', '-e', rsh, `${src}/a`, `${root}/nope`, `host:${oursDir}/`]);
    expect(theirs.code).toBe(23);
    expect(ours.code, show(ours)).toBe(23);
    expect(ours.stderr).toMatch(/link_stat ".*nope" failed: No such file or directory \(2\)/);
    expect(fs.readFileSync(path.join(oursDir, 'a'), 'utf8')).toBe('a');
  });

  it('sends a symlink as a symlink: never reads through one (without -L)', async () => {
    const ours = await runCli([`--engine=${e.name}`, '-rl', '-e', rsh, `${src}/`, `host:${oursDir}/`]);
    expect(ours.code, show(ours)).toBe(0);
    expect(fs.readlinkSync(path.join(oursDir, 'd', 'outside'))).toBe('../../etc/passwd');
    // Without -l a symlink is skipped, as rsync skips it: its target is never read.
    const plain = path.join(root, `plain-${n}`);
    const r = await runCli([`--engine=${e.name}`, '-r', '-e', rsh, `${src}/`, `host:${plain}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.existsSync(path.join(plain, 'd', 'outside'))).toBe(false);
    expect(r.stdout + r.stderr).toMatch(/skipping non-regular file "d\/outside"/);
  });

  it('leaves out what the filter rules exclude, and sends the rules that protect on the far side', async () => {
    for (const d of [theirsDir, oursDir]) {
      fs.mkdirSync(path.join(d, 'keep-dir'), { recursive: true });
      fs.writeFileSync(path.join(d, 'keep.tmp'), 'mine');
      fs.writeFileSync(path.join(d, 'stale'), 'old');
      // Protected or excluded: neither side touches these, so both copies keep one made-up time (they were
      // made on two clock ticks).
      for (const n of ['keep-dir', 'keep.tmp', 'stale']) fs.utimesSync(path.join(d, n), 1_600_000_000, 1_600_000_000);
    }
    const run = async (opts: string[]): Promise<void> => {
      const { theirs, ours } = await both(opts, { engine: e.name });
      expect(ours.code, show(ours)).toBe(theirs.code);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
    };
    await run(['-a', '-i', '--exclude=d/sub', '--exclude=*.b']);
    expect(fs.existsSync(path.join(oursDir, 'd', 'sub'))).toBe(false);
    expect(fs.existsSync(path.join(oursDir, 'a.b'))).toBe(false);
    expect(fs.existsSync(path.join(oursDir, 'd', 'x'))).toBe(true);
    await run(['-a', '-i', '--delete', '--exclude=*.tmp', '--filter=P keep-dir', '--include=e/', '--exclude=e/*']);
    expect(fs.existsSync(path.join(oursDir, 'keep-dir'))).toBe(true);
    expect(fs.readFileSync(path.join(oursDir, 'keep.tmp'), 'utf8')).toBe('mine');
    expect(fs.existsSync(path.join(oursDir, 'stale'))).toBe(false);
    // Sent by the first run, excluded now: an excluded name is also safe from --delete.
    expect(fs.existsSync(path.join(oursDir, 'e', 'z'))).toBe(true);
    same(theirsDir, oursDir);
  });

  it('--remove-source-files: the sender removes what the receiver confirmed, as rsync does', async () => {
    const srcA = path.join(root, `rsf-theirs-${n}`);
    const srcB = path.join(root, `rsf-ours-${n}`);
    for (const d of [srcA, srcB]) execFileSync('cp', ['-a', `${src}/.`, d]);
    fs.mkdirSync(theirsDir);
    fs.mkdirSync(oursDir);
    // Already there and the same: confirmed and removed too.
    for (const d of [theirsDir, oursDir]) execFileSync('cp', ['-a', path.join(src, 'a.b'), d]);
    const opts = ['-a', '--remove-source-files', '-vv'];
    const theirs = rsyncClient([...opts, '-e', rsh, `${srcA}/`, `host:${theirsDir}/`]);
    const ours = await runCli([`--engine=${e.name}`, ...opts, '-e', rsh, `${srcB}/`, `host:${oursDir}/`]);
    expect(ours.code, show(ours)).toBe(theirs.code);
    const removed = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('sender removed')).sort();
    expect(removed(ours.stdout)).toEqual(removed(theirs.out));
    expect(removed(ours.stdout).length).toBeGreaterThan(3);
    same(srcA, srcB, { rootMeta: false, times: false });
    expect(fs.existsSync(path.join(srcB, 'a'))).toBe(false);
    expect(fs.statSync(path.join(srcB, 'd')).isDirectory()).toBe(true);
    same(theirsDir, oursDir);
  });

  it('refuses what a push does not carry yet, before anything starts', async () => {
    const r = await runCli([`--engine=${e.name}`, '-a', '--json=events', '-e', rsh, `${src}/`, `host:${oursDir}/`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--json=events is not supported in a push to another machine yet/);
    // The stream still ends with its document.
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ event: 'end', summary: { exitCode: 1 } });
    expect(fs.existsSync(oursDir)).toBe(false);
    const both2 = await runCli([`--engine=${e.name}`, '-a', '-e', rsh, `host:${src}/`, `host:${oursDir}/`]);
    expect(both2.code).toBe(1);
    expect(both2.stderr).toMatch(/The source and destination cannot both be remote/);
  });

  it('--json: the document a local copy of the same sources gives, and the errors the push printed', async () => {
    const named = ['a', 'd', 'ln', 'nowhere/x'].map((x) => path.join(src, x));
    const local = path.join(root, `local-json-${n}`);
    const push = await runCli([`--engine=${e.name}`, '-a', '--json', '-e', rsh, ...named, `host:${oursDir}/`]);
    const copy = await runCli([`--engine=${e.name}`, '-a', '--json', ...named, `${local}/`]);
    const doc = JSON.parse(push.stdout) as { exitCode: number; files: unknown; bytes: unknown; engine: { name: string }; errors: { message: string }[] };
    const mine = JSON.parse(copy.stdout) as typeof doc;
    expect(push.code).toBe(23);
    expect(doc.exitCode).toBe(23);
    expect(doc.files).toEqual(mine.files);
    expect(doc.bytes).toEqual(mine.bytes);
    expect(doc.engine.name).toBe(mine.engine.name);
    expect(doc.errors).toEqual([{ message: `[sender] change_dir "${src}/nowhere" failed: No such file or directory (2)` }]);
    // Nothing but the document on stdout; the lines on stderr.
    expect(push.stderr).toMatch(/change_dir/);
    same(local, oursDir, { rootMeta: false });
    // The receiving server's error lines (written to its remote shell's stderr) are kept too.
    const blocked = path.join(root, `blocked-json-${n}`);
    fs.mkdirSync(path.join(blocked, 'a', 'inside'), { recursive: true });
    const again = await runCli([`--engine=${e.name}`, '-a', '--json', '-e', rsh, path.join(src, 'a'), `host:${blocked}/`]);
    expect(again.code).toBe(23);
    expect((JSON.parse(again.stdout) as typeof doc).errors).toEqual([{ message: 'could not make way for new regular file: a' }]);
  });

  it.skipIf(!peersAvailable).each(['3.1.3', '3.2.7'])('pushes like rsync to an rsync %s server', async (version) => {
    const peer = peerRsync(version);
    for (const opts of [['-aiv'], ['-aH', '--stats', '--delete']]) {
      n++;
      theirsDir = path.join(root, `theirs-${n}`);
      oursDir = path.join(root, `ours-${n}`);
      const { theirs, ours } = await both(opts, { peer, engine: e.name });
      expect(ours.code, show(ours)).toBe(theirs.code);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
      same(theirsDir, oursDir, { hardlinks: opts.some((o) => o.includes('H')) });
    }
  });
});
