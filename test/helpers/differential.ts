// Differential testing against rsync: the same starting state is given to real rsync and to arsync with the
// same flags, and everything observable must agree:
//   1. the exit codes;
//   2. the sorted stdout lines (both run with -i unless the case asks for its own output format);
//   3. the resulting trees: the whole work root (dst, and any backup dir, previous snapshot, ...) of the
//      rsync run against the arsync run, by compareTrees (content, type and mode, owner, mtimes of files,
//      dirs and symlinks, symlink targets, device numbers, hard-link grouping, which includes inodes
//      shared with a --link-dest snapshot, xattrs and ACLs, sparseness, entries missing or extra). rsync's
//      `-aHAXn -c -i --delete` dry run of A against B used to run here too: it looks at no attribute
//      compareTrees does not (test/e2e/helpers.test.ts plants each kind of difference and checks that
//      compareTrees reports it), and compareTrees is the stricter of the two (the node engine's times to
//      the microsecond, not rsync's default whole second; xattrs of --fake-super trees, which rsync's -X
//      itemizes wrongly). It cost each case and engine a three-process rsync; the suite's other "exact
//      copy" checks (expectExactCopy, arsync's result against its own source) still ask rsync;
//   4. the sources are untouched (a full lstat snapshot, ctime and inode included, and the content), except
//      with --remove-source-files, where both runs' sources must just match each other (check 3).
//
// Layout: the setup function builds the starting state once under O/ (O/src, usually O/dst, and any extra
// dirs such as a previous snapshot); `cp -a` clones it into A/ (for rsync) and B/ (for arsync), which keeps
// ns mtimes, owners, hard links and xattrs. Both tools run with their copy as cwd and the same relative
// operands (`src/ dst/`), so their output needs no path normalisation ("created directory dst" is the same
// line for both), and options with paths (--link-dest=../prev, --backup-dir, --files-from) mean the same.
//
// rsync's side (O, rsync's run in A, its output) does not depend on the engine under test, so it is built
// once per case and shared by the same test under the other engines (test/helpers/shared-case.ts): each
// engine's run gets its own clones of O (its B) and of rsync's result (its A). A case with beforeRun, which
// prepares both clones together, is built afresh for every engine.
//
// Mtimes (documented design decisions):
//  - arsync compares mtimes to the nanosecond by default; rsync compares whole seconds unless
//    --modify-window=-1, so rsync gets --modify-window=-1 (arsync gets nothing).
//  - the node engine can only set mtimes to the microsecond (and compares to the microsecond), so for it
//    compareTrees allows 1000 ns. Test trees only ever differ in mtime by whole seconds, where the two
//    precisions decide alike.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { finishCompares, formatDiffs, startCompare, walk, type Difference } from './compare.js';
import { runCli, type CliResult, type EngineName } from './cli.js';
import { showPath, tempDir } from './tree.js';
import { clone, put, stampTree, touchNs } from './tree-setup.js';
import { normaliseOutput, sameErr, sameRoot } from './normalise.js';
import { caseKey, shared } from './shared-case.js';

export interface DiffSpec {
  engine: EngineName;
  /** Build the starting state under `root` (root/src, usually root/dst, any extra dirs). */
  setup: (root: string) => void;
  /** Flags and operands, relative to the work root (both tools run there). No --engine, no -i. */
  args: string[];
  /** rsync's arguments when they must differ from args (rare; say why at the call site); a function is
   *  called with the starting state's root after setup. */
  rsyncArgs?: string[] | ((root: string) => string[]);
  /** Do not add -i (the case sets its own output, e.g. --out-format). */
  noItemize?: boolean;
  /** Dirs (relative to the root; '.' for all of it) whose full lstat snapshot must not change. Default ['src']. */
  unchanged?: string[];
  /** The run may change the source (--remove-source-files): skip the unchanged check for src. */
  sourceChanges?: boolean;
  /** Paths (relative to the root) whose mtimes legitimately depend on when the run happened. */
  volatile?: string[];
  /** Subtrees (relative to the root) whose directories' mtimes all depend on when the run happened (a
   *  backup dir the run creates, a source emptied by --remove-source-files). */
  volatileDirsUnder?: string[];
  /** Compare arsync's src with the pristine O/src where `unchanged` does not watch it (default true; off when
   *  src changes in beforeRun). */
  pristine?: boolean;
  /** Compare owners in the result trees (default true). */
  owners?: boolean;
  /** Runs on the two clones (A for rsync, B for arsync) just before the runs (mounts, inode records). */
  beforeRun?: (roots: { A: string; B: string }) => void;
  /** Extra checks on the A (rsync) and B (arsync) roots after the standard ones. */
  after?: (r: DiffResult) => void;
  /** Extra environment for arsync (test-only knobs such as ARSYNC_TEST_PAIR_CHUNK). */
  env?: Record<string, string>;
  /** A file (relative to the root) both tools read as their standard input (`--files-from=-`). */
  stdin?: string;
  /** Stdout lines whose figure is a documented difference: each match's first group is replaced by "…" in
   *  both outputs before they are compared (say why at the call site). */
  allowLines?: RegExp[];
}

export interface DiffResult {
  /** The pristine starting state. */
  O: string;
  /** rsync's work root. */
  A: string;
  /** arsync's work root. */
  B: string;
  rsync: CliResult;
  arsync: CliResult;
}

function sh(script: string, cwd?: string): string {
  const r = spawnSync('sh', ['-ec', script], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${script}: exit ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

/** Full lstat snapshot of everything under dir: type, mode, owner, size, mtime, ctime, inode, nlink, blocks, content hash, link target. */
export function statSnapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(dir)) return out;
  const D = Buffer.from(dir);
  for (const [k, e] of walk(dir)) {
    const st = e.st;
    const abs = e.rel.length ? Buffer.concat([D, Buffer.from('/'), e.rel]) : D;
    let extra = '';
    if (st.isFile()) extra = crypto.createHash('sha1').update(fs.readFileSync(abs)).digest('hex');
    else if (st.isSymbolicLink()) extra = '-> ' + showPath(fs.readlinkSync(abs, { encoding: 'buffer' }));
    out.set(
      k,
      `mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} size=${st.size} mtime=${st.mtimeNs} ctime=${st.ctimeNs} ino=${st.ino} nlink=${st.nlink} blocks=${st.blocks} ${extra}`,
    );
  }
  return out;
}

/** The differences between two snapshots, one line each. */
export function snapshotDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  const name = (k: string): string => showPath(Buffer.from(k, 'latin1')) || '.';
  for (const [k, v] of before) {
    const w = after.get(k);
    if (w === undefined) out.push(`${name(k)}: removed`);
    else if (w !== v) out.push(`${name(k)}: ${v}  =>  ${w}`);
  }
  for (const k of after.keys()) if (!before.has(k)) out.push(`${name(k)}: added`);
  return out;
}

const sortedLines = (s: string): string[] => s.split('\n').filter((l) => l !== '').sort();

export { normaliseOutput } from './normalise.js';
export { clone, put, stampTree, touchNs } from './tree-setup.js';

/** Soft-assert an empty list, with the list itself in the message (reporters truncate long diffs). */
export function softEmpty(list: string[], label: string, ctx = ''): void {
  expect.soft(list, `${label}:\n    ${list.join('\n    ')}${ctx}`).toEqual([]);
}

/** The lines (as a multiset) only one of the two outputs has. */
export function lineDiff(rsyncOut: string, arsyncOut: string): { onlyRsync: string[]; onlyArsync: string[] } {
  const a = sortedLines(arsyncOut);
  const onlyRsync: string[] = [];
  for (const l of sortedLines(rsyncOut)) {
    const i = a.indexOf(l);
    if (i >= 0) a.splice(i, 1);
    else onlyRsync.push(l);
  }
  return { onlyRsync, onlyArsync: a };
}

function runRsync(args: string[], cwd: string, input?: Buffer): CliResult {
  const r = spawnSync('rsync', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 100_000, ...(input ? { input } : {}) });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', argv: ['rsync', ...args] };
}

/** What a case gives rsync: everything its side depends on (not the engine, not arsync's env). */
interface RsyncCase {
  itemize: string[];
  watched: string[];
  args: string[];
  rsyncArgs: DiffSpec['rsyncArgs'];
  setup: DiffSpec['setup'];
  stdin: DiffSpec['stdin'];
}

/** rsync's side of a case: the starting state O, rsync's result A (rsync ran there), its output, and what
 *  it changed in the watched dirs (the case's own sanity check). */
interface RsyncSide {
  O: string;
  A: string;
  rsync: CliResult;
  changed: string[][];
}

/**
 * Build the starting state under base/O, clone it to base/A and run rsync there. `beforeRsync` runs just
 * before rsync (an unshared case makes arsync's clone there, as both clones must exist for beforeRun).
 */
function rsyncSide(c: RsyncCase, base: string, beforeRsync?: () => void): RsyncSide {
  const O = path.join(base, 'O');
  const A = path.join(base, 'A');
  fs.mkdirSync(O);
  c.setup(O);
  clone(O, A);
  beforeRsync?.();
  const rsyncArgs = ['--modify-window=-1', ...c.itemize, ...(typeof c.rsyncArgs === 'function' ? c.rsyncArgs(O) : (c.rsyncArgs ?? c.args))];
  const before = c.watched.map((d) => statSnapshot(path.join(A, d)));
  const rsync = runRsync(rsyncArgs, A, c.stdin === undefined ? undefined : fs.readFileSync(path.join(A, c.stdin)));
  const changed = c.watched.map((d, i) => snapshotDiff(before[i] as Map<string, string>, statSnapshot(path.join(A, d))));
  return { O, A, rsync, changed };
}

/**
 * A shared side as if rsync had run in `A`: a clone of its result there (the caller may change it), a clone
 * of its starting state in `B` (arsync's), and its output with the shared base dir's path (A's parent:
 * -vvv -F names it too) replaced by `A`'s parent's, which has the same length (both come from
 * tempDir('arsync-diff-')), so any line that depends on the path's length is as rsync would print it.
 */
function rebase(s: RsyncSide, A: string, B: string): RsyncSide {
  // One `cp -a` for both clones (a process less per case and engine): O lands beside A, then takes B's name.
  const base = path.dirname(A);
  const r = spawnSync('cp', ['-a', '--', s.O, s.A, base]);
  if (r.status !== 0) throw new Error(`cp -a ${s.O} ${s.A} ${base}: ${r.stderr.toString()}`);
  fs.renameSync(path.join(base, path.basename(s.O)), B);
  const move = (t: string): string => t.split(path.dirname(s.A)).join(path.dirname(A));
  return { ...s, A, rsync: { ...s.rsync, stdout: move(s.rsync.stdout), stderr: move(s.rsync.stderr) } };
}

/**
 * Run rsync and arsync on identical copies of the starting state and assert they agree (soft assertions:
 * every disagreement of a case is reported at once). Returns both runs for case-specific checks.
 */
export async function differential(spec: DiffSpec): Promise<DiffResult> {
  const itemize = spec.noItemize ? [] : ['-i'];
  const arsyncArgs = [...itemize, ...spec.args, `--engine=${spec.engine}`];
  const watched = [...(spec.unchanged ?? ['src'])].filter((d) => !(spec.sourceChanges && d === 'src'));
  const rsyncCase = { itemize, watched, args: spec.args, rsyncArgs: spec.rsyncArgs, setup: spec.setup, stdin: spec.stdin };
  // A case with beforeRun prepares both clones together just before the runs (mounts, inode records): never
  // shared; nor one whose rsync arguments a function computes, which the test may read after (a glob's
  // expansion).
  const key = caseKey([spec.setup.toString(), typeof spec.rsyncArgs === 'function' ? spec.rsyncArgs.toString() : spec.rsyncArgs, itemize, spec.args, watched, spec.stdin]);
  const base = tempDir('arsync-diff-');
  const A = path.join(base, 'A');
  const B = path.join(base, 'B');
  let side: RsyncSide;
  if (spec.beforeRun || typeof spec.rsyncArgs === 'function' || key === null) {
    side = rsyncSide(rsyncCase, base, () => {
      clone(path.join(base, 'O'), B);
      spec.beforeRun?.({ A, B });
    });
  } else {
    side = rebase(
      shared(key, (s) => [s.O, s.A], () => rsyncSide(rsyncCase, tempDir('arsync-diff-'))),
      A,
      B,
    );
    // What the setup did to the case's own directory (copy-as opens it to other users) holds here too.
    fs.chmodSync(base, fs.statSync(path.dirname(side.O)).mode & 0o7777);
  }
  const { O, rsync } = side;

  const before = watched.map((d) => statSnapshot(path.join(B, d)));
  const input = spec.stdin === undefined ? {} : { input: fs.readFileSync(path.join(B, spec.stdin)) };
  const arsync = await runCli(arsyncArgs, { cwd: B, ...(spec.env ? { env: spec.env } : {}), ...input });
  const res: DiffResult = { O, A, B, rsync, arsync };

  const ctx =
    `\n  rsync  (cwd A): ${rsync.argv.join(' ')}\n    exit ${rsync.code}\n    stdout: ${rsync.stdout.trim()}\n    stderr: ${rsync.stderr.trim()}` +
    `\n  arsync (cwd B): ${arsync.argv.join(' ')}\n    exit ${arsync.code ?? arsync.signal}\n    stdout: ${arsync.stdout.trim()}\n    stderr: ${arsync.stderr.trim()}\n`;
  // 1. exit codes
  expect.soft(arsync.code, `exit code (rsync: ${rsync.code})${ctx}`).toBe(rsync.code);
  // 2. output lines, sorted: shown as the lines only one of the two printed.
  const allow = (out: string): string => (spec.allowLines ?? []).reduce((t, re) => t.replace(new RegExp(re.source, 'gm'), (m, g: string) => m.replace(g, '…')), out);
  const ld = lineDiff(allow(normaliseOutput(rsync.stdout, 'rsync')), allow(normaliseOutput(arsync.stdout, 'arsync')));
  const ldLines = [...ld.onlyRsync.map((l) => `only rsync:  ${l}`), ...ld.onlyArsync.map((l) => `only arsync: ${l}`)];
  softEmpty(ldLines, 'stdout lines differ from rsync\'s', ctx);
  // A run where rsync says nothing on stderr must not warn either.
  if (rsync.stderr.trim() === '') expect.soft(arsync.stderr.trim(), `stderr where rsync printed none${ctx}`).toBe('');

  // 4 (first, before the roots' times are touched below). Sources unchanged (lstat incl. ctime and inode,
  // and content), for arsync and, as a sanity check of the case itself, for rsync.
  watched.forEach((d, i) => {
    const after = statSnapshot(path.join(B, d));
    softEmpty(snapshotDiff(before[i] as Map<string, string>, after), `arsync changed ${d}/`, ctx);
    softEmpty(side.changed[i] as string[], `(test sanity) rsync changed ${d}/`, ctx);
  });
  // arsync's src against the pristine O/src, where no snapshot above watched it: a snapshot of src (or of the
  // whole root) already proves more (ctime and inode too, which any change of content, mode, owner, times,
  // xattrs or links moves), and src's clone in A, which rsync did not change, is compared with B's below.
  // Walked now, before the roots' times are touched below; both comparisons' xattrs are read in one run.
  const srcWatched = watched.includes('src') || watched.includes('.');
  const pristine =
    !spec.sourceChanges && spec.pristine !== false && !srcWatched ? startCompare(path.join(O, 'src'), path.join(B, 'src'), { rootMeta: true }) : null;

  // 3. result trees: the whole work roots. Give both roots one mtime first (creating dst changes it at
  // different instants in the two runs), and likewise any dir the case names as volatile (a dir the run
  // creates without a source for its times, e.g. dst for `src dst/`).
  for (const v of ['.', ...(spec.volatile ?? [])]) {
    // lutimes: a volatile path may be a symlink (-J's), whose own time is meant, dangling or not.
    for (const r of [A, B]) if (fs.lstatSync(path.join(r, v), { throwIfNoEntry: false })) fs.lutimesSync(path.join(r, v), 1_600_000_000, 1_600_000_000);
  }
  for (const v of spec.volatileDirsUnder ?? []) {
    for (const r of [A, B]) {
      const top = path.join(r, v);
      if (!fs.existsSync(top)) continue;
      for (const ent of walk(top).values()) {
        if (ent.st.isDirectory()) fs.utimesSync(ent.rel.length ? path.join(top, ent.rel.toString()) : top, 1_600_000_000, 1_600_000_000);
      }
    }
  }
  const node = spec.engine === 'node';
  const owners = spec.owners ?? true;
  const whole = startCompare(A, B, { mtimeToleranceNs: node ? 1000 : 0, owners });
  const [srcDiffs, diffs] = pristine ? finishCompares([pristine, whole]) : [null, ...finishCompares([whole])];
  if (srcDiffs) softEmpty(formatDiffs(srcDiffs), 'arsync\'s source differs from the pristine copy', ctx);
  softEmpty(formatDiffs(diffs as Difference[]), 'compareTrees(rsync\'s result A, arsync\'s result B)', ctx);

  spec.after?.(res);
  return res;
}

// ---------------------------------------------------------------------------------------------------------
// Line for line: a table of cases, each run by rsync and by arsync on its own clones of one starting state,
// the output compared unsorted (its order is part of what scripts parse).

/** One starting state, `O` under a fresh `base`, built once for a table of cases. */
export interface StartingState {
  base: string;
  O: string;
}

export function startingState(prefix: string, setup: (root: string) => void): StartingState {
  const base = tempDir(prefix);
  const O = path.join(base, 'O');
  fs.mkdirSync(O);
  setup(O);
  return { base, O };
}

/** A case's two runs: rsync's on clone A, arsync's on clone B. */
export interface PairRun<R = CliResult> {
  A: string;
  B: string;
  rsync: R;
  arsync: CliResult;
}

/** Case `i` of a table: O cloned into A<i> and B<i>, then rsync run on A<i> and arsync on B<i>. */
export async function runPair<R>(state: StartingState, i: number, run: { rsync: (A: string) => R; arsync: (B: string) => Promise<CliResult> }): Promise<PairRun<R>> {
  const A = path.join(state.base, `A${i}`);
  const B = path.join(state.base, `B${i}`);
  clone(state.O, A);
  clone(state.O, B);
  const rsync = run.rsync(A);
  const arsync = await run.arsync(B);
  return { A, B, rsync, arsync };
}

/** The everyday pair: the same arguments for both tools, each run with its clone as cwd (arsync on `engine`). */
export function sameArgs(args: string[], engine: EngineName, env?: Record<string, string>): { rsync: (A: string) => CliResult; arsync: (B: string) => Promise<CliResult> } {
  return {
    rsync: (A) => runRsync(args, A),
    arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, ...(env ? { env } : {}) }),
  };
}

/** What a failed comparison shows: both command lines and everything each printed. */
export function pairContext(r: PairRun): string {
  const one = (x: CliResult): string => `${x.argv.join(' ')}\n  exit ${x.code ?? x.signal}\n  stdout: ${x.stdout.trimEnd()}\n  stderr: ${x.stderr.trimEnd()}`;
  return `\n${one(r.rsync)}\n${one(r.arsync)}`;
}

/**
 * The exit code, stdout and stderr of the two runs line for line, the work roots made alike (sameRoot), the
 * summary's byte counts left out (normaliseOutput).
 */
export function expectSameOutput(r: PairRun): void {
  const what = pairContext(r);
  expect(r.arsync.code, what).toBe(r.rsync.code);
  expect(normaliseOutput(sameRoot(r.arsync.stdout, r.B), 'arsync'), what).toBe(normaliseOutput(sameRoot(r.rsync.stdout, r.A), 'rsync'));
  expect(sameErr(r.arsync.stderr, r.B), what).toBe(sameErr(r.rsync.stderr, r.A));
}

/** rsync and arsync on clones of `state` for each command line of a table: expectSameOutput, then `after` (the trees). */
export async function sameAsRsync(state: StartingState, cases: string[][], engine: EngineName, after?: (r: PairRun, i: number) => void): Promise<void> {
  for (const [i, args] of cases.entries()) {
    const r = await runPair(state, i, sameArgs(args, engine));
    expectSameOutput(r);
    after?.(r, i);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tree building with exact nanosecond mtimes

/** Write a file (creating parents), with an optional mode. */
/** Deterministic bytes (xorshift32); `alphabet` < 256 draws from fewer values (weak-sum collisions in delta tests). */
export function bytes(n: number, seed: number, alphabet = 256): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  if (alphabet === 256) {
    // The same bytes at half the CPU (reflink.test makes 64 MiB files): the low byte of a step does not
    // depend on whether x is kept unsigned, and a mask is cheaper than a division.
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 255;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x % alphabet;
  }
  return out;
}

/**
 * The standard source tree for sync cases: nested dirs, files of various sizes and modes, an empty file and
 * an empty dir, build/log/cache dirs for filter cases, and symlinks (inside, to a dir, dangling, absolute and
 * `..` ones, the last two unsafe). Every entry has a distinct ns mtime. No hard links (see the -H case).
 */
export function baseTree(src: string): void {
  fs.mkdirSync(src, { recursive: true });
  put(src, 'a.txt', 'alpha\n');
  put(src, 'b.bin', bytes(20_000, 2));
  put(src, 'empty', '');
  put(src, 'exec.sh', '#!/bin/sh\necho hi\n', 0o755);
  put(src, 'ro.txt', 'read only\n', 0o444);
  put(src, 'sub/c.txt', 'charlie\n');
  put(src, 'sub/d.log', 'delta log\n');
  put(src, 'sub/deep/e.txt', 'echo\n');
  put(src, 'sub/deep/f.o', bytes(5000, 6));
  put(src, 'sub/deep/deeper/g.txt', 'golf\n');
  put(src, 'build/out.o', bytes(3000, 8));
  put(src, 'build/keep.txt', 'keep\n');
  put(src, 'logs/x.log', 'x log\n');
  put(src, 'logs/old/y.log', 'y log\n');
  put(src, 'cache/tmp.dat', bytes(1000, 9));
  put(src, 'docs/build/page.html', '<p>a page</p>\n');
  put(src, 'docs/readme.md', '# readme\n');
  fs.mkdirSync(path.join(src, 'emptydir'));
  fs.symlinkSync('a.txt', path.join(src, 'lnk'));
  fs.symlinkSync('sub', path.join(src, 'dirlnk'));
  fs.symlinkSync('nowhere', path.join(src, 'dangling'));
  fs.symlinkSync('../../a.txt', path.join(src, 'sub/deep/uplnk')); // safe: stays inside the tree
  fs.symlinkSync('/etc/hostname', path.join(src, 'abs')); // unsafe: absolute
  fs.symlinkSync('../outside.txt', path.join(src, 'escape')); // unsafe: leaves the tree
  stampTree(src);
}

/** A file outside the tree for the `escape` link (put next to src). */
export function outsideFile(root: string): void {
  put(root, 'outside.txt', 'outside\n');
  touchNs([[path.join(root, 'outside.txt'), '1690000000.5']]);
}

/** mtime as "SEC.NSEC" string. */
export function mtimeOf(p: string): string {
  const st = fs.lstatSync(p, { bigint: true });
  return `${st.mtimeNs / 1_000_000_000n}.${String(st.mtimeNs % 1_000_000_000n).padStart(9, '0')}`;
}

/** Shift a path's mtime by whole seconds (keeping the ns part). */
export function shiftMtime(p: string, seconds: number): void {
  const st = fs.lstatSync(p, { bigint: true });
  const ns = st.mtimeNs + BigInt(seconds) * 1_000_000_000n;
  touchNs([[p, `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`]]);
}

/** Replace a file's content keeping its exact mtime (and the parent dir's mtime). */
export function rewriteKeepTimes(p: string, content: string | Buffer): void {
  const dir = path.dirname(p);
  const t = mtimeOf(p);
  const td = mtimeOf(dir);
  fs.writeFileSync(p, content);
  touchNs([
    [p, t],
    [dir, td],
  ]);
}

/** Run a shell script in a directory (for setups). */
export function shIn(cwd: string, script: string): string {
  return sh(script, cwd);
}

// ---------------------------------------------------------------------------------------------------------
// Standard starting states

const templates = new Map<string, string>();

/**
 * A standard state's entries in `root`: built once per test file (module) in a template dir and copied in
 * with `cp -a` (ns times, owners, modes, xattrs kept) for every case after the first, since building one
 * takes up to nine helper processes and a copy one. The few times a build takes from the clock ("now" for
 * an appended or new file) are those of the template's build, earlier in the same file's run.
 */
function fromTemplate(name: string, build: (root: string) => void, root: string): void {
  let t = templates.get(name);
  if (t === undefined || !fs.existsSync(t)) {
    t = path.join(tempDir('arsync-template-'), 'T');
    fs.mkdirSync(t);
    build(t);
    templates.set(name, t);
  }
  const r = spawnSync('cp', ['-a', '--', `${t}/.`, root]);
  if (r.status !== 0) throw new Error(`cp -a ${t}/. ${root}: ${r.stderr.toString()}`);
}

/** root/src: a fresh base tree (plus outside.txt for the `escape` link); no dst. */
export function freshSetup(root: string): void {
  fromTemplate('fresh', (t) => {
    baseTree(path.join(t, 'src'));
    outsideFile(t);
  }, root);
}

/** root/src a fresh base tree and root/dst its previous sync (an exact copy); returns root/src. */
export function syncedSetup(root: string): string {
  const src = path.join(root, 'src');
  fromTemplate('synced', (t) => {
    freshSetup(t);
    clone(path.join(t, 'src'), path.join(t, 'dst'));
  }, root);
  return src;
}

/** A previous sync, then a file grown, one only older, one new and one in a new directory (no type changes). */
export function changedSetup(root: string): void {
  fromTemplate('changed', changedBuild, root);
}

function changedBuild(root: string): void {
  const src = syncedSetup(root);
  fs.appendFileSync(path.join(src, 'a.txt'), 'and more\n');
  shiftMtime(path.join(src, 'sub/c.txt'), -100);
  put(src, 'new.txt', 'new file\n');
  put(src, 'sub/newdir/n.txt', 'new in new dir\n');
}

/**
 * root/dst is the previous sync of the base tree; root/src has since changed in every way a sync must
 * notice: content changed with a new size, content changed with the same size and a new mtime, files and a
 * dir added, a file and a dir removed, metadata-only changes (mode, mtime, owner and group of a file, owner
 * of a dir), a symlink retargeted, and a file replaced by a directory.
 */
export function updateSetup(root: string): void {
  fromTemplate('update', updateBuild, root);
}

function updateBuild(root: string): void {
  const src = syncedSetup(root);
  fs.appendFileSync(path.join(src, 'a.txt'), 'and more\n');
  const b = path.join(src, 'b.bin');
  rewriteKeepTimes(b, bytes(20_000, 77));
  shiftMtime(b, 10);
  put(src, 'new.txt', 'new file\n');
  put(src, 'sub/newdir/n.txt', 'new in new dir\n');
  fs.rmSync(path.join(src, 'sub/d.log'));
  fs.rmSync(path.join(src, 'logs/old'), { recursive: true });
  fs.chmodSync(path.join(src, 'exec.sh'), 0o700);
  shiftMtime(path.join(src, 'sub/c.txt'), -100);
  fs.lchownSync(path.join(src, 'ro.txt'), 1234, 5678);
  fs.lchownSync(path.join(src, 'docs'), 4321, 8765);
  fs.rmSync(path.join(src, 'lnk'));
  fs.symlinkSync('sub/c.txt', path.join(src, 'lnk'));
  fs.rmSync(path.join(src, 'sub/deep/f.o'));
  put(src, 'sub/deep/f.o/inner.txt', 'now a dir\n');
}

/** updateSetup plus extraneous entries in dst (files and dirs, nested) for --delete cases. */
export function deleteSetup(root: string): void {
  fromTemplate('delete', deleteBuild, root);
}

function deleteBuild(root: string): void {
  updateSetup(root);
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  put(dst, 'zz-extra.txt', 'extra\n');
  put(dst, 'extra-dir/one.txt', '1\n');
  put(dst, 'extra-dir/nested/two.txt', '2\n');
  put(dst, 'sub/deep/extra.tmp', 'tmp\n');
  fs.symlinkSync('a.txt', path.join(dst, 'extra-link'));
  fs.mkdirSync(path.join(dst, 'emptydir/leftover'));
  // Adding the extras changed these dst dirs' mtimes at whatever instant the setup ran; make them exact and
  // deterministic: equal to the source dir's for . and emptydir (so only the extraneous entries differ), 50 s
  // older for sub/deep.
  touchNs(['.', 'emptydir'].map((d) => [path.join(dst, d), mtimeOf(path.join(src, d))]));
  touchNs([[path.join(dst, 'sub/deep'), mtimeOf(path.join(src, 'sub/deep'))]]);
  shiftMtime(path.join(dst, 'sub/deep'), -50);
}
