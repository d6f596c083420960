// A pull cut short keeps what arrived whole, as rsync's receiver does (it places each file once verified;
// its cleanup.c keeps the file in progress under --partial). Before session 34 arsync threw away its whole
// staging tree on a signal, --timeout or --stop-at: the destination kept none of the files received.
// Differential against rsync 3.5 as the client, on every engine: a pull of a small file then a large one
// (--bwlimit paces it) is interrupted once the large one's data has begun (the small one is then whole:
// the list's order), found by each tool's own trace (rsync: its temp file in the destination; arsync: the
// file in its staging tree, which TMPDIR puts in the work root). What each file may then be follows
// rsync's rules, not the timing: whole and exact, or the destination's old version (or absent), or under
// --partial a prefix of the source with a modification time of 0; at least the first is whole.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { FAKETIME_LIB, fakeClock, removeFaketimeLeftovers } from '../helpers/fake-clock.js';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, startCli, show, type CliResult } from '../helpers/cli.js';
import { findTempFiles } from '../helpers/compare.js';
import { removeTemps, tempDir } from '../helpers/tree.js';

afterAll(() => {
  removeTemps();
  removeFaketimeLeftovers();
});

const SRC = { a: randomBytes(200_000), b: randomBytes(6_000_000), c: randomBytes(200_000) };
const OLD = 'old\n';
const SIGNAL_LINE = /^a?rsync error: received SIGINT, SIGTERM, or SIGHUP \(code 20\)/m;

/** A work root: src/ (a, b, c), the fake remote shell, tmp/ (arsync's staging), dst/ (old versions and an extra file, or none). */
function setup(update: boolean): string {
  const root = tempDir('arsync-salvage-');
  for (const d of ['src', 'tmp']) fs.mkdirSync(path.join(root, d));
  for (const [n, data] of Object.entries(SRC)) fs.writeFileSync(path.join(root, 'src', n), data);
  fs.writeFileSync(path.join(root, 'rsh'), '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
  if (update) {
    fs.mkdirSync(path.join(root, 'dst'));
    for (const n of [...Object.keys(SRC), 'extra']) fs.writeFileSync(path.join(root, 'dst', n), OLD);
  }
  return root;
}

/** Whether a name under `dir` (recursively) passes `match`. */
function found(dir: string, match: (name: string) => boolean): boolean {
  if (!fs.existsSync(dir)) return false;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (match(e.name)) return true;
    if (e.isDirectory() && found(path.join(dir, e.name), match)) return true;
  }
  return false;
}

/** Runs `start`, sends SIGINT `after` ms once `ready` says b's data has begun, and returns the result. */
async function interrupted(start: () => { child: { kill(s: NodeJS.Signals): boolean }; done: Promise<CliResult> }, ready: () => boolean, after: number): Promise<CliResult> {
  const run = start();
  let finished = false;
  void run.done.then(() => (finished = true));
  while (!finished && !ready()) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, after));
  run.child.kill('SIGINT');
  return run.done;
}

function rsync(root: string, args: string[], env: Record<string, string> = {}): { child: { kill(s: NodeJS.Signals): boolean }; done: Promise<CliResult> } {
  const child = spawn('rsync', args, { cwd: root, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, argv: ['rsync', ...args] })));
  return { child, done };
}

type State = 'whole' | 'old' | 'absent' | 'prefix';

/** What each of a, b, c is in `dst` (a prefix only with its modification time in the epoch's first second: rsync's mark of a partial file, time 0 with the source's nanoseconds). */
function states(dst: string): Record<string, State> {
  const out: Record<string, State> = {};
  for (const [n, data] of Object.entries(SRC)) {
    const p = path.join(dst, n);
    if (!fs.existsSync(p)) {
      out[n] = 'absent';
      continue;
    }
    const got = fs.readFileSync(p);
    if (got.equals(data)) out[n] = 'whole';
    else if (got.toString() === OLD) out[n] = 'old';
    else if (got.length > 0 && got.length < data.length && data.subarray(0, got.length).equals(got) && fs.statSync(p).mtimeMs < 1000) out[n] = 'prefix';
    else throw new Error(`${p}: neither the source, the old version nor a partial file (${got.length} bytes, mtime ${fs.statSync(p).mtimeMs}, prefix ${data.subarray(0, got.length).equals(got)})`);
  }
  return out;
}

/** rsync's results, by case, made with the first engine and checked against the same rules. */
const oracles = new Map<string, { r: CliResult; s: Record<string, State> }>();

async function oracle(key: string, make: () => Promise<{ r: CliResult; s: Record<string, State> }>): Promise<{ r: CliResult; s: Record<string, State> }> {
  let o = oracles.get(key);
  if (!o) oracles.set(key, (o = await make()));
  return o;
}

const ARGS = ['-e', './rsh', '-a', '--bwlimit=3000', 'h:src/', 'dst/'];

describeEngines((e) => {
  const arsync = (root: string, args: string[], env: Record<string, string> = {}) => startCli([`--engine=${e.name}`, ...args], { cwd: root, env: { TMPDIR: path.join(root, 'tmp'), ...env } });
  const staged = (root: string) => () => found(path.join(root, 'tmp'), (n) => n === 'b');
  const tempOfB = (root: string) => () => found(path.join(root, 'dst'), (n) => n.startsWith('.b.'));

  it('SIGINT during an update with --delete: the whole files are placed, the rest left as they were, nothing deleted, exit 20', async () => {
    const args = [...ARGS.slice(0, -2), '--delete', ...ARGS.slice(-2)];
    const want = await oracle('update', async () => {
      const root = setup(true);
      const r = await interrupted(() => rsync(root, args), tempOfB(root), 300);
      return { r, s: states(path.join(root, 'dst')) };
    });
    expect(want.r.code, show(want.r)).toBe(20);
    expect(want.s).toMatchObject({ a: 'whole', c: 'old' });
    const root = setup(true);
    const r = await interrupted(() => arsync(root, args), staged(root), 300);
    expect(r.code, show(r)).toBe(20);
    expect(r.stderr).toMatch(SIGNAL_LINE);
    const got = states(path.join(root, 'dst'));
    expect(got.a, show(r)).toBe('whole');
    expect(got.b).toMatch(/^(whole|old)$/);
    expect(got.c).toBe('old');
    // rsync's --delete (during) removed it before the transfer; a salvage deletes nothing.
    expect(fs.readFileSync(path.join(root, 'dst', 'extra'), 'utf8')).toBe(OLD);
    expect(findTempFiles(path.join(root, 'dst'))).toEqual([]);
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  it('SIGINT during a fresh pull with --partial: the whole files, and the received part of the one in progress with time 0', async () => {
    const args = [...ARGS.slice(0, -2), '--partial', ...ARGS.slice(-2)];
    const want = await oracle('partial', async () => {
      const root = setup(false);
      const r = await interrupted(() => rsync(root, args), tempOfB(root), 800);
      return { r, s: states(path.join(root, 'dst')) };
    });
    expect(want.r.code, show(want.r)).toBe(20);
    expect(want.s).toEqual({ a: 'whole', b: 'prefix', c: 'absent' });
    const root = setup(false);
    const r = await interrupted(() => arsync(root, args), staged(root), 800);
    expect(r.code, show(r)).toBe(20);
    expect(r.stderr).toMatch(SIGNAL_LINE);
    expect(states(path.join(root, 'dst')), show(r)).toEqual({ a: 'whole', b: 'prefix', c: 'absent' });
    expect(findTempFiles(path.join(root, 'dst'))).toEqual([]);
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  // The partial file an earlier run left for c stays for the next run, as rsync keeps it (the local half
  // removes the waiting partial file of a file it finds current, and c, not received, stands as the
  // destination's own). (b's part goes into the partial dir too: the tests below.)
  it('SIGINT during an update with --partial-dir: the whole files placed, a waiting partial file kept', async () => {
    const args = [...ARGS.slice(0, -2), '--partial-dir=pd', ...ARGS.slice(-2)];
    const withWaiting = (): string => {
      const root = setup(true);
      fs.mkdirSync(path.join(root, 'dst', 'pd'));
      fs.writeFileSync(path.join(root, 'dst', 'pd', 'c'), SRC.c.subarray(0, 1000));
      return root;
    };
    const want = await oracle('partial-dir', async () => {
      const root = withWaiting();
      const r = await interrupted(() => rsync(root, args), tempOfB(root), 300);
      return { r, s: { ...states(path.join(root, 'dst')), ...(fs.existsSync(path.join(root, 'dst/pd/c')) ? { waiting: 'old' as State } : {}) } };
    });
    expect(want.r.code, show(want.r)).toBe(20);
    expect(want.s).toMatchObject({ a: 'whole', c: 'old', waiting: 'old' });
    const root = withWaiting();
    const r = await interrupted(() => arsync(root, args), staged(root), 300);
    expect(r.code, show(r)).toBe(20);
    expect(states(path.join(root, 'dst')), show(r)).toMatchObject({ a: 'whole', c: 'old' });
    expect(fs.readFileSync(path.join(root, 'dst/pd/c')).equals(SRC.c.subarray(0, 1000)), show(r)).toBe(true);
    expect(findTempFiles(path.join(root, 'dst'))).toEqual([]);
  });

  it('SIGINT during a fresh pull without --partial: the file in progress is not kept', async () => {
    const root = setup(false);
    const r = await interrupted(() => arsync(root, ARGS), staged(root), 300);
    expect(r.code, show(r)).toBe(20);
    expect(states(path.join(root, 'dst')), show(r)).toEqual({ a: 'whole', b: 'absent', c: 'absent' });
    expect(findTempFiles(path.join(root, 'dst'))).toEqual([]);
  });

  // The far side stalls (the remote shell stops the server's process group after a second, and kills it
  // three seconds later): --timeout ends the session with rsync's line and exit 30, and what came whole is
  // placed. (rsync 3.5 as the client of the same stall had placed a, as its receiver does as it goes, but
  // did not time out: its generator's keep-alives count as I/O; it ended when the server was killed.)
  it('--timeout during an update (the server stalls): the whole files are placed, exit 30 with rsync\'s line', async () => {
    const root = setup(true);
    fs.writeFileSync(
      path.join(root, 'stallsh'),
      '#!/bin/sh\nshift\nexec 3<&0\nsetsid sh -c "$*" <&3 3<&- &\npid=$!\nexec 3<&-\nsleep 1\nkill -STOP -$pid\n( sleep 3; kill -KILL -$pid ) >/dev/null 2>&1 &\nwait $pid\n',
      { mode: 0o755 },
    );
    const r = await arsync(root, ['-e', './stallsh', '-a', '--bwlimit=3000', '--timeout=2', 'h:src/', 'dst/']).done;
    expect(r.code, show(r)).toBe(30);
    expect(r.stderr).toMatch(/^\[Receiver\] io timeout after 2 seconds -- exiting$/m);
    expect(states(path.join(root, 'dst')), show(r)).toEqual({ a: 'whole', b: 'old', c: 'old' });
    expect(findTempFiles(path.join(root, 'dst'))).toEqual([]);
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  // A second signal, whenever it comes (during the session's end, the salvage or after it), ends the run
  // with exit 20 and leaves neither a temp file nor the staging tree; each file is whole or as it was.
  it('a second SIGINT during the salvage: exit 20, no temp file, no staging tree', async () => {
    for (const gap of [20, 150]) {
      const root = setup(true);
      const run = arsync(root, ARGS);
      const ready = staged(root);
      while (!ready()) await new Promise((res) => setTimeout(res, 5));
      await new Promise((res) => setTimeout(res, 300));
      run.child.kill('SIGINT');
      await new Promise((res) => setTimeout(res, gap));
      run.child.kill('SIGINT');
      const r = await run.done;
      // The salvage may be over by then (the node engine places two files in milliseconds): a signal that
      // comes after the run has said its exit line, while Node itself exits with its handlers already
      // taken down, ends the process by the signal's default action (measured: rt_sigaction SIG_DFL at
      // Node's teardown). Otherwise the second signal is the run's, exit 20.
      if (r.signal === 'SIGINT') expect(r.stderr, show(r)).toMatch(SIGNAL_LINE);
      else expect(r.code, show(r)).toBe(20);
      const got = states(path.join(root, 'dst'));
      for (const n of ['a', 'b', 'c']) expect(got[n], show(r)).toMatch(/^(whole|old)$/);
      expect(got.c).toBe('old');
      expect(findTempFiles(path.join(root, 'dst'))).toEqual([]);
      expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
    }
  });

  // rsync checks the limit as it moves data (io.c): exit 30 with its line, and what was placed stays.
  it.skipIf(!FAKETIME_LIB)('--stop-at during an update: the whole files are placed, exit 30 with rsync\'s line', async () => {
    const env = fakeClock('2026-06-01 11:59:59');
    const args = [...ARGS.slice(0, -2), '--stop-at=12:00', ...ARGS.slice(-2)];
    const want = await oracle('stop-at', async () => {
      const root = setup(true);
      const r = await rsync(root, args, env).done;
      return { r, s: states(path.join(root, 'dst')) };
    });
    // rsync's receiver and generator each stop, and race: its generator sometimes finds the receiver gone
    // first and leaves with the broken stream's 12 (seen 2 times in 5 here).
    expect([30, 12], show(want.r)).toContain(want.r.code);
    expect(want.r.stderr).toMatch(/^stopping at requested limit$/m);
    expect(want.s).toEqual({ a: 'whole', b: 'old', c: 'old' });
    const root = setup(true);
    const r = await startCli([`--engine=${e.name}`, ...args], { cwd: root, env: { TMPDIR: path.join(root, 'tmp'), ...env } }).done;
    expect(r.code, show(r)).toBe(30);
    expect(r.stderr).toMatch(/^stopping at requested limit$/m);
    expect(r.stderr).toMatch(/^arsync error: timeout in data send\/receive \(code 30\)$/m);
    expect(states(path.join(root, 'dst')), show(r)).toEqual({ a: 'whole', b: 'old', c: 'old' });
    expect(findTempFiles(path.join(root, 'dst'))).toEqual([]);
  });
});

// Session 35: what rsync keeps beyond the whole files, in a tree with a directory: src/a, then
// src/sub/b (large, the one in progress) and src/sub/c; the directories' times are 2020's.
const DEEP = { a: SRC.a, 'sub/b': SRC.b, 'sub/c': SRC.c };
const DIR_TIME = new Date('2020-01-01T00:00:00Z');

/** A work root with src/ (a, sub/b, sub/c), the remote shell, tmp/, and `dst/` as `dst` makes it. */
function setupDeep(dst?: (d: string) => void): string {
  const root = tempDir('arsync-salvage-');
  for (const d of ['src/sub', 'tmp']) fs.mkdirSync(path.join(root, d), { recursive: true });
  const fileTime = new Date('2019-06-01T00:00:00Z');
  for (const [n, data] of Object.entries(DEEP)) {
    fs.writeFileSync(path.join(root, 'src', n), data, { mode: 0o644 });
    fs.utimesSync(path.join(root, 'src', n), fileTime, fileTime);
  }
  for (const d of ['src/sub', 'src']) fs.utimesSync(path.join(root, d), DIR_TIME, DIR_TIME);
  fs.writeFileSync(path.join(root, 'rsh'), '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
  if (dst) {
    fs.mkdirSync(path.join(root, 'dst/sub'), { recursive: true });
    dst(path.join(root, 'dst'));
  }
  return root;
}

/** An old tree in dst: each file `OLD` (mode 0600, 2021's time), sub/ with 2021's time. */
function oldTree(d: string): void {
  const t = new Date('2021-01-01T00:00:00Z');
  for (const n of Object.keys(DEEP)) {
    fs.writeFileSync(path.join(d, n), OLD, { mode: 0o600 });
    fs.utimesSync(path.join(d, n), t, t);
  }
  fs.utimesSync(path.join(d, 'sub'), t, t);
}

/** What a file or directory under `dst` is: its bytes judged against the source, its mode, and its time as 'src' (2020's, a source file's own), 'recent' (since `since`), 'zero' or the date. */
function look(dst: string, rel: string, since: number, old?: Buffer): { what: string; mode: string; time: string } | undefined {
  const p = path.join(dst, rel);
  if (!fs.existsSync(p)) return undefined;
  const st = fs.statSync(p);
  // A file waiting in a partial dir is judged against its source file.
  const srcRel = rel.replace(/(^|\/)(pd|\.~tmp~)\/(?=[^/]+$)/, '$1');
  const srcSt = fs.existsSync(path.join(dst, '../src', srcRel)) ? fs.statSync(path.join(dst, '../src', srcRel)) : undefined;
  const time = srcSt && Math.floor(st.mtimeMs / 1000) === Math.floor(srcSt.mtimeMs / 1000) ? 'src' : st.mtimeMs >= since - 1000 ? 'recent' : st.mtimeMs < 1000 ? 'zero' : st.mtime.toISOString();
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isDirectory()) return { what: 'dir', mode, time };
  const data = (DEEP as Record<string, Buffer>)[srcRel] ?? Buffer.alloc(0);
  const got = fs.readFileSync(p);
  let what: string;
  if (got.equals(data)) what = 'whole';
  else if (got.toString() === OLD) what = 'old';
  else {
    // The longest prefix of the source it starts with; then the old file's bytes past it, or nothing.
    let n = 0;
    while (n < got.length && n < data.length && got[n] === data[n]) n++;
    const rest = got.subarray(n);
    if (n === 0 || n === data.length) what = `other (${got.length} bytes)`;
    else if (rest.length === 0) what = 'prefix';
    else if (old && got.length === Math.max(old.length, n) && rest.equals(old.subarray(n))) what = 'prefix+old';
    else what = `other (${got.length} bytes, prefix ${n})`;
  }
  return { what, mode, time };
}

/** The destination as `look` sees each path in `rels`. */
function survey(root: string, rels: string[], since: number, old?: Buffer): Record<string, ReturnType<typeof look>> {
  const out: Record<string, ReturnType<typeof look>> = {};
  for (const r of rels) out[r] = look(path.join(root, 'dst'), r, since, old);
  return out;
}

const DEEP_ARGS = ['-e', './rsh', '-a', '--bwlimit=3000'];
const deepOracles = new Map<string, { r: CliResult; s: Record<string, ReturnType<typeof look>> }>();

describeEngines((e) => {
  const arsync = (root: string, args: string[]) => startCli([`--engine=${e.name}`, ...args], { cwd: root, env: { TMPDIR: path.join(root, 'tmp') } });
  const staged = (root: string) => () => found(path.join(root, 'tmp'), (n) => n === 'b');
  const tempOfB = (root: string) => () => found(path.join(root, 'dst'), (n) => n.startsWith('.b.'));
  const PATHS = ['.', 'a', 'sub', 'sub/b', 'sub/c', 'sub/pd', 'sub/pd/b', '.~tmp~', '.~tmp~/a', 'sub/.~tmp~', 'sub/.~tmp~/b'];

  /** rsync's result for `key` (made once), then arsync's, each by `look`; both must be `want`. */
  async function both(key: string, args: string[], make: () => string, rsyncReady: (root: string) => () => boolean, after: number, want: Record<string, unknown>, old?: Buffer): Promise<void> {
    let o = deepOracles.get(key);
    if (!o) {
      const root = make();
      const since = Date.now();
      const r = await interrupted(() => rsync(root, [...DEEP_ARGS, ...args, 'h:src/', 'dst/']), rsyncReady(root), after);
      deepOracles.set(key, (o = { r, s: survey(root, PATHS, since, old) }));
    }
    expect(o.r.code, show(o.r)).toBe(20);
    expect(o.s, `rsync 3.5 (${key})`).toEqual(want);
    const root = make();
    const since = Date.now();
    const r = await interrupted(() => arsync(root, [...DEEP_ARGS, ...args, 'h:src/', 'dst/']), staged(root), after);
    expect(r.code, show(r)).toBe(20);
    expect(r.stderr).toMatch(SIGNAL_LINE);
    expect(survey(root, PATHS, since, old), show(r)).toEqual(o.s);
    expect(findTempFiles(path.join(root, 'dst'))).toEqual([]);
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  }

  // rsync's cleanup moves the part into the partial dir (made 0700) with the sender's mode, the time it
  // was written left (rsync sets no time on it); the destination has no b. sub/ was changed after its
  // times were set (b's temp file), and not finished: it keeps the time of that change.
  it('SIGINT during a fresh pull with --partial-dir: the part of the file in progress waits in the partial dir', async () => {
    await both('partial-dir fresh', ['--partial-dir=pd'], () => setupDeep(), tempOfB, 800, {
      '.': { what: 'dir', mode: '755', time: 'src' },
      a: { what: 'whole', mode: '644', time: 'src' },
      sub: { what: 'dir', mode: '755', time: 'recent' },
      'sub/b': undefined,
      'sub/c': undefined,
      'sub/pd': { what: 'dir', mode: '700', time: 'recent' },
      'sub/pd/b': { what: 'prefix', mode: '644', time: 'recent' },
    });
  });

  // The waiting partial file is the next pull's basis (rsync's generator takes it first: the sender
  // matches its blocks), and is used up once the file is in place.
  it('a pull after one cut short with --partial-dir (relative or absolute) rebuilds from the partial file and removes it', async () => {
    for (const abs of [false, true]) {
      const made = (): { root: string; args: string[] } => {
        const root = setupDeep(oldTree);
        const pd = abs ? path.join(root, 'apd') : path.join(root, 'dst/sub/pd');
        fs.mkdirSync(pd, { mode: 0o700 });
        fs.writeFileSync(path.join(pd, 'b'), SRC.b.subarray(0, 3_000_000));
        return { root, args: ['-e', './rsh', '-a', '--stats', `--partial-dir=${abs ? pd : 'pd'}`, 'h:src/', 'dst/'] };
      };
      const figures = (out: string): string[] => out.split('\n').filter((l) => /^(Literal|Matched) data:/.test(l));
      const w = made();
      const want = await rsync(w.root, w.args).done;
      expect(want.code, show(want)).toBe(0);
      expect(figures(want.stdout)[1], show(want)).toMatch(/^Matched data: 2,9\d\d,\d\d\d bytes$/);
      const g = made();
      const r = await arsync(g.root, g.args).done;
      expect(r.code, show(r)).toBe(0);
      expect(figures(r.stdout), show(r)).toEqual(figures(want.stdout));
      for (const n of Object.keys(DEEP)) expect(fs.readFileSync(path.join(g.root, 'dst', n)).equals((DEEP as Record<string, Buffer>)[n]!), n).toBe(true);
      expect(fs.existsSync(path.join(g.root, abs ? 'apd/b' : 'dst/sub/pd'))).toBe(fs.existsSync(path.join(w.root, abs ? 'apd/b' : 'dst/sub/pd')));
      expect(fs.existsSync(path.join(g.root, abs ? 'apd/b' : 'dst/sub/pd')), `partial file left (${abs ? 'absolute' : 'relative'})`).toBe(false);
    }
  });

  // rsync writes the destination's file itself: what came of b is over the start of the old file (the
  // rest of which stays), with the time of that write and the old file's mode; sub/ was not changed
  // (nothing was made in it), so it has the sender's time its generator gave it.
  it('SIGINT during an update with --inplace: the received part over the start of the destination\'s file', async () => {
    const longer = Buffer.alloc(8_000_000, 0x55);
    const make = (): string =>
      setupDeep((d) => {
        oldTree(d);
        fs.writeFileSync(path.join(d, 'sub/b'), longer);
        fs.utimesSync(path.join(d, 'sub/b'), DIR_TIME, DIR_TIME);
      });
    const aPlaced = (root: string) => () => fs.existsSync(path.join(root, 'dst/a')) && fs.statSync(path.join(root, 'dst/a')).size === SRC.a.length;
    await both('inplace update', ['--inplace'], make, aPlaced, 800, {
      '.': { what: 'dir', mode: '755', time: 'src' },
      a: { what: 'whole', mode: '644', time: 'src' },
      sub: { what: 'dir', mode: '755', time: 'src' },
      'sub/b': { what: 'prefix+old', mode: '600', time: 'recent' },
      'sub/c': { what: 'old', mode: '600', time: '2021-01-01T00:00:00.000Z' },
      'sub/pd': undefined,
      'sub/pd/b': undefined,
    }, longer);
  });

  it('SIGINT during a fresh pull with --inplace: the received part under its name, mode 0600', async () => {
    const bMade = (root: string) => () => fs.existsSync(path.join(root, 'dst/sub/b'));
    await both('inplace fresh', ['--inplace'], () => setupDeep(), bMade, 800, {
      '.': { what: 'dir', mode: '755', time: 'src' },
      a: { what: 'whole', mode: '644', time: 'src' },
      sub: { what: 'dir', mode: '755', time: 'recent' },
      'sub/b': { what: 'prefix', mode: '600', time: 'recent' },
      'sub/c': undefined,
      'sub/pd': undefined,
      'sub/pd/b': undefined,
    });
  });

  // rsync's generator gives a directory the sender's times as it reaches it, and again as each
  // directory's files are all done; sub/ was changed since (b's temp file) and is not done.
  it('SIGINT during an update: the finished directory has the sender\'s times, the one in progress the time of its change', async () => {
    await both('dirs update', [], () => setupDeep(oldTree), tempOfB, 300, {
      '.': { what: 'dir', mode: '755', time: 'src' },
      a: { what: 'whole', mode: '644', time: 'src' },
      sub: { what: 'dir', mode: '755', time: 'recent' },
      'sub/b': { what: 'old', mode: '600', time: '2021-01-01T00:00:00.000Z' },
      'sub/c': { what: 'old', mode: '600', time: '2021-01-01T00:00:00.000Z' },
      'sub/pd': undefined,
      'sub/pd/b': undefined,
    });
  });

  // rsync's interrupted receiver under --delay-updates has moved each finished file into the partial dir
  // (.~tmp~) of its directory, and nothing into place; the part of the file in progress waits there too
  // (a partial dir turns --partial on). Without incremental recursion (--delay-updates turns it off) no
  // directory was touched up: each keeps the time of its last change.
  it('SIGINT during an update with --delay-updates: the finished files and the part wait in .~tmp~, the destination\'s files as they were', async () => {
    const old = { what: 'old', mode: '600', time: '2021-01-01T00:00:00.000Z' };
    await both('delay-updates', ['--delay-updates'], () => setupDeep(oldTree), tempOfB, 800, {
      '.': { what: 'dir', mode: '755', time: 'recent' },
      a: old,
      '.~tmp~': { what: 'dir', mode: '700', time: 'recent' },
      '.~tmp~/a': { what: 'whole', mode: '644', time: 'src' },
      sub: { what: 'dir', mode: '755', time: 'recent' },
      'sub/b': old,
      'sub/c': old,
      'sub/.~tmp~': { what: 'dir', mode: '700', time: 'recent' },
      'sub/.~tmp~/b': { what: 'prefix', mode: '644', time: 'recent' },
    });
  });

  // rsync sets a file's ACL and xattrs as it places it (its set_file_attrs): the finished file has them.
  // The part its cleanup moves into a partial dir gets the ACL but no xattrs (no basis file is named).
  it.skipIf(!fidelity(e.name).xattrs)('SIGINT during a fresh pull with -A -X (and --partial-dir): the finished file has the sender\'s ACL and xattrs, the kept part its ACL', async () => {
    const withAttrs = (): string => {
      const root = setupDeep();
      for (const n of ['a', 'sub/b']) {
        const p = path.join(root, 'src', n);
        expect(spawnSync('setfacl', ['-m', 'u:nobody:r', p]).status).toBe(0);
        expect(spawnSync('setfattr', ['-n', 'user.salvage', '-v', n, p]).status).toBe(0);
        fs.utimesSync(p, new Date('2019-06-01T00:00:00Z'), new Date('2019-06-01T00:00:00Z'));
      }
      return root;
    };
    const attrs = (root: string): string =>
      ['a', 'sub/pd/b']
        .map((n) => {
          const p = path.join(root, 'dst', n);
          if (!fs.existsSync(p)) return `${n}: absent\n`;
          const acl = spawnSync('getfacl', ['-cp', p], { encoding: 'utf8' }).stdout;
          const xa = spawnSync('getfattr', ['-d', '--absolute-names', '-m', '^user\\.', p], { encoding: 'utf8' }).stdout.replace(/^# file: .*\n/m, '');
          return `${n}:\n${acl}${xa}`;
        })
        .join('');
    const cases = [
      { key: 'acls', args: ['-AX'], after: 300, want: { '.': { what: 'dir', mode: '755', time: 'src' }, a: { what: 'whole', mode: '644', time: 'src' }, sub: { what: 'dir', mode: '755', time: 'recent' } } },
      {
        key: 'acls partial-dir',
        args: ['-AX', '--partial-dir=pd'],
        after: 800,
        want: {
          '.': { what: 'dir', mode: '755', time: 'src' },
          a: { what: 'whole', mode: '644', time: 'src' },
          sub: { what: 'dir', mode: '755', time: 'recent' },
          'sub/pd': { what: 'dir', mode: '700', time: 'recent' },
          'sub/pd/b': { what: 'prefix', mode: '644', time: 'recent' },
        },
      },
    ];
    for (const k of cases) {
      let o = deepOracles.get(k.key);
      let rsyncAttrs = deepOracles.get(`${k.key} attrs`)?.r.stdout;
      if (!o) {
        const root = withAttrs();
        const since = Date.now();
        const r = await interrupted(() => rsync(root, [...DEEP_ARGS, ...k.args, 'h:src/', 'dst/']), tempOfB(root), k.after);
        deepOracles.set(k.key, (o = { r, s: survey(root, PATHS, since) }));
        rsyncAttrs = attrs(root);
        deepOracles.set(`${k.key} attrs`, { r: { ...r, stdout: rsyncAttrs }, s: {} });
      }
      expect(o.r.code, show(o.r)).toBe(20);
      expect(o.s, `rsync 3.5 (${k.key})`).toEqual(k.want);
      expect(rsyncAttrs).toMatch(/^a:\n[\s\S]*user:nobody:r--[\s\S]*user\.salvage="a"/);
      const root = withAttrs();
      const since = Date.now();
      const r = await interrupted(() => arsync(root, [...DEEP_ARGS, ...k.args, 'h:src/', 'dst/']), staged(root), k.after);
      expect(r.code, show(r)).toBe(20);
      expect(survey(root, PATHS, since), show(r)).toEqual(o.s);
      expect(attrs(root), show(r)).toBe(rsyncAttrs);
      expect(findTempFiles(path.join(root, 'dst'))).toEqual([]);
      expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
    }
  });

  // A value over 32 bytes travels as its digest and is asked for (rsync's abbreviated xattrs): sub/d,
  // current but for a long xattr changed at the sender, is asked for after b, whose data the SIGINT cuts;
  // the value never comes, and rsync's receiver leaves d's old one. (arsync's staged d lacks that value:
  // placed, the old one would go. It is left as the destination has it.)
  it.skipIf(!fidelity(e.name).xattrs)('SIGINT during an update with -X: a file whose long xattr value was still owed keeps its old one', async () => {
    const value = (v: string): string => v.repeat(100 / v.length);
    const make = (): string => {
      const root = setupDeep(oldTree);
      for (const side of ['src', 'dst']) {
        const p = path.join(root, side, 'sub/d');
        fs.writeFileSync(p, 'same\n');
        expect(spawnSync('setfattr', ['-n', 'user.long', '-v', value(side === 'src' ? 'new!' : 'old!'), p]).status).toBe(0);
        fs.utimesSync(p, new Date('2019-06-01T00:00:00Z'), new Date('2019-06-01T00:00:00Z'));
      }
      return root;
    };
    const longOf = (root: string): string => spawnSync('getfattr', ['--only-values', '-n', 'user.long', path.join(root, 'dst/sub/d')], { encoding: 'utf8' }).stdout;
    let o = deepOracles.get('xattr owed');
    if (!o) {
      const root = make();
      const r = await interrupted(() => rsync(root, [...DEEP_ARGS, '-X', 'h:src/', 'dst/']), tempOfB(root), 300);
      deepOracles.set('xattr owed', (o = { r: { ...r, stdout: longOf(root) }, s: survey(root, ['a'], 0) }));
    }
    expect(o.r.code).toBe(20);
    expect(o.s).toEqual({ a: { what: 'whole', mode: '644', time: 'src' } });
    expect(o.r.stdout, 'rsync 3.5 kept the old value').toBe(value('old!'));
    const root = make();
    const r = await interrupted(() => arsync(root, [...DEEP_ARGS, '-X', 'h:src/', 'dst/']), staged(root), 300);
    expect(r.code, show(r)).toBe(20);
    expect(survey(root, ['a'], 0), show(r)).toEqual(o.s);
    expect(longOf(root), show(r)).toBe(value('old!'));
    expect(fs.readFileSync(path.join(root, 'dst/sub/d'), 'utf8')).toBe('same\n');
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });
});

// A staged file that cannot be written (the destination's filesystem, which holds the staging tree, is
// full): rsync's receiver stops with its "write failed on" line and exit 11, keeping the files already
// placed and, under --partial, the part of the file in progress with time 0. arsync took the write error
// for a broken connection (exit 12, no reason given) before session 51.
describeEngines((e) => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const m of mounts) spawnSync('umount', ['-l', m]);
  });
  /** A work root whose small/ is a fresh 2 MiB tmpfs holding tmp/ (TMPDIR) and the destination. */
  const smallRoot = (): string => {
    const root = tempDir('arsync-salvage-full-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src', 'a'), 'small1\n');
    fs.writeFileSync(path.join(root, 'src', 'big'), Buffer.alloc(3_000_000, 0x61));
    fs.writeFileSync(path.join(root, 'src', 'z'), 'small2\n');
    fs.writeFileSync(path.join(root, 'rsh'), '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
    const small = path.join(root, 'small');
    fs.mkdirSync(small);
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small]);
    mounts.push(small);
    fs.mkdirSync(path.join(small, 'tmp'));
    return root;
  };
  const runTool = (argv0: string[], root: string, opts: string[]): CliResult => {
    const x = spawnSync(argv0[0]!, [...argv0.slice(1), '-e', './rsh', '-a', ...opts, 'h:src/', 'small/dst/'], { cwd: root, encoding: 'utf8', env: { ...process.env, TMPDIR: path.join(root, 'small', 'tmp') } });
    return { code: x.status, signal: x.signal, stdout: x.stdout, stderr: x.stderr, argv: argv0 };
  };

  it.skipIf(process.getuid?.() !== 0).each([[[]], [['--partial']], [['--partial-dir=.pp']]])('a full disk under the staging tree: rsync\'s line and exit 11, the placed files kept: %j', async (opts: string[]) => {
    const theirs = smallRoot();
    const mine = smallRoot();
    const r = runTool(['rsync'], theirs, opts);
    const o = await new Promise<CliResult>((resolve) => {
      const run = startCli([`--engine=${e.name}`, '-e', './rsh', '-a', ...opts, 'h:src/', 'small/dst/'], { cwd: mine, env: { TMPDIR: path.join(mine, 'small', 'tmp') } });
      void run.done.then(resolve);
    });
    expect(r.code, r.stderr).toBe(11);
    expect(o.code, show(o)).toBe(11);
    const line = (root: string, prog: string): string => `${prog}: [receiver] write failed on "${path.join(root, 'small', 'dst', 'big')}": No space left on device (28)`;
    expect(r.stderr).toContain(line(theirs, 'rsync'));
    expect(o.stderr, show(o)).toContain(line(mine, 'arsync'));
    expect(o.stderr).not.toMatch(/connection unexpectedly closed \(\d+ bytes received so far\) \[Receiver\]|internal error/);
    for (const root of [theirs, mine]) {
      const dst = path.join(root, 'small', 'dst');
      expect(fs.readFileSync(path.join(dst, 'a'), 'utf8'), root).toBe('small1\n');
      const big = fs.statSync(path.join(dst, 'big'), { throwIfNoEntry: false });
      if (opts.includes('--partial')) {
        expect(big?.size, root).toBeGreaterThan(0);
        expect(Math.trunc(big!.mtimeMs / 1000), root).toBe(0);
      } else expect(big, root).toBeUndefined();
      // --partial-dir: the part waits there (linked from the staging tree: no room for a copy).
      const part = fs.statSync(path.join(dst, '.pp', 'big'), { throwIfNoEntry: false });
      if (opts.includes('--partial-dir=.pp')) expect(part?.size, root).toBeGreaterThan(0);
      else expect(part, root).toBeUndefined();
      expect(findTempFiles(dst)).toEqual([]);
    }
    expect(fs.readdirSync(path.join(mine, 'small', 'tmp'))).toEqual([]);
  });
});

// A far side cut off mid-file (its stream ends after 700,000 bytes, so less than a megabyte of the file
// has come): rsync's receiver has written every literal byte that came, and --partial keeps them; arsync
// wrote its staged file a megabyte at a time and kept only whole megabytes of it, here nothing (session 51).
// The stream is cut at a byte count rather than by killing the sender at some moment, so that both runs
// get the same bytes and the far shell exits 0 (an earlier version SIGKILLed the sender: the two runs got
// different amounts, and rsync's exit code raced its child's, 12 or 137). The cut is a small node loop:
// head keeps its output in a stdio buffer, which stalls the handshake, and dd counts short reads as blocks.
const CUTTER = `#!/bin/sh
rsync "$@" | '${process.execPath}' -e '
const fs = require("fs");
const b = Buffer.alloc(65536);
for (let left = 700000; left > 0; ) {
  const n = fs.readSync(0, b, 0, Math.min(left, b.length), null);
  if (n === 0) break;
  fs.writeSync(1, b, 0, n);
  left -= n;
}'
`;

describeEngines((e) => {
  it.each([['--partial'], ['--partial-dir=.p']])('a far side cut off mid-file: what came of the file is kept, as rsync: %s', async (opt) => {
    const root = tempDir('arsync-salvage-cut-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src', 'big'), randomBytes(3_000_000));
    fs.writeFileSync(path.join(root, 'rsh'), '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
    fs.writeFileSync(path.join(root, 'cutter'), CUTTER, { mode: 0o755 });
    const args = (dst: string): string[] => ['-e', './rsh', `--rsync-path=${path.join(root, 'cutter')}`, '-a', opt, 'h:src/', `${dst}/`];
    const x = spawnSync('rsync', args('theirs'), { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const o = await new Promise<CliResult>((resolve) => {
      void startCli([`--engine=${e.name}`, ...args('mine')], { cwd: root, env: { TMPDIR: root } }).done.then(resolve);
    });
    expect(x.status, x.stderr).toBe(12);
    expect(o.code, show(o)).toBe(12);
    const at = opt === '--partial' ? 'big' : '.p/big';
    const kept = (dst: string): fs.Stats | undefined => fs.statSync(path.join(root, dst, at), { throwIfNoEntry: false });
    const [theirs, mine] = [kept('theirs'), kept('mine')];
    expect(theirs?.size).toBeGreaterThan(0);
    expect(mine?.size, show(o)).toBeGreaterThan(0);
    // The same bytes came to both: each kept every whole piece of the file among them.
    expect(mine!.size, show(o)).toBe(theirs!.size);
    const src = fs.readFileSync(path.join(root, 'src', 'big'));
    expect(fs.readFileSync(path.join(root, 'mine', at)).equals(src.subarray(0, mine!.size))).toBe(true);
    expect(fs.readdirSync(root).filter((n) => n.startsWith('arsync-pull-'))).toEqual([]);
  });
});
