// The differential fuzzer's cases: from a seed, a random source tree (files of several sizes and modes,
// symlinks of every kind a tree holds, hard links, empty and nested directories), often a destination that
// drifted from it (changed, missing, extra and retyped entries, other modes and times), and a random
// command line drawn from the local-copy options whose result rsync decides alike every run. Used by
// test/e2e/diff-fuzz.test.ts, which runs each case through rsync 3.5 and arsync (test/helpers/differential.ts)
// and asks for the same exit code, -i lines, trees and untouched source.
//
// Left out on purpose: options whose output is documented as differing (-vv's line order, --progress's
// rates), options that leave times to the clock (no -t, -O: the trees' times would differ by when each
// tool ran; -J, and -b without --backup-dir, which implies -O, leave them only to directories the
// harness can mark volatile), and -A/-X (the node engine refuses them; their own differential files cover them).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../helpers/tree.js';
import { clone, put, stampTree, touchNs } from '../helpers/tree-setup.js';

export interface DiffCase {
  /** The case's own seed (the run's seed and the case's index). */
  seed: number;
  /** Flags and operands, relative to the work root (no -i: the harness adds it). */
  args: string[];
  /** Builds root/src, root/dst when the case has one, and root/prev for --link-dest and the like. */
  setup: (root: string) => void;
  /** --remove-source-files: the source is expected to change (alike in both runs). */
  sourceChanges: boolean;
  /** Paths whose times are the clock's: a destination directory made for a source named without a slash. */
  volatile: string[];
  /** Directories whose times are the clock's: --backup-dir's, and a source --remove-source-files changed. */
  volatileDirsUnder: string[];
}

type Op =
  | { kind: 'dir'; rel: string }
  | { kind: 'file'; rel: string; size: number; fill: number; mode: number }
  | { kind: 'link'; rel: string; target: string }
  | { kind: 'hard'; rel: string; to: string };

type Drift =
  | { kind: 'rewrite'; rel: string; size: number; fill: number; keepTime: boolean }
  | { kind: 'touch'; rel: string; sec: number }
  | { kind: 'chmod'; rel: string; mode: number }
  | { kind: 'remove'; rel: string }
  | { kind: 'extra-file'; rel: string; size: number }
  | { kind: 'extra-dir'; rel: string }
  | { kind: 'retype'; rel: string; to: 'file' | 'dir' | 'link' };

const NAMES = ['a', 'b', 'c.o', 'd', 'x y', '.hid', 'keep', 'z.txt'];
const DIRS = ['sub', 'deep', 'e', 'sub2'];
const SIZES = [0, 1, 17, 700, 4096, 9000, 70_000];
const MODES = [0o644, 0o600, 0o755, 0o444, 0o640, 0o4755];
// No '.' or '..': under -L a link to a directory above it is an endless tree (for both tools).
const TARGETS = ['a', '../a', 'sub', 'missing', '/dev/null', '../../outside', 'deep/b', 'x y'];

function content(size: number, fill: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (fill * 31 + i * 7 + (i >> 9)) & 255;
  return b;
}

/** A random source tree as a list of steps (replayed by setup, so the case is just its seed). */
function treeOps(rng: Rng): Op[] {
  const ops: Op[] = [];
  const dirs = [''];
  const files: string[] = [];
  const taken = new Set<string>();
  const fresh = (dir: string, names: readonly string[]): string | null => {
    for (let i = 0; i < 4; i++) {
      const rel = path.join(dir, rng.pick(names));
      if (taken.has(rel)) continue;
      taken.add(rel);
      return rel;
    }
    return null;
  };
  for (let i = rng.int(0, 4); i > 0; i--) {
    const parent = rng.pick(dirs);
    if (parent.split('/').length > 2) continue;
    const rel = fresh(parent, DIRS);
    if (rel) {
      dirs.push(rel);
      ops.push({ kind: 'dir', rel });
    }
  }
  for (let i = rng.int(1, 14); i > 0; i--) {
    const rel = fresh(rng.pick(dirs), NAMES);
    if (!rel) continue;
    const r = rng.next();
    if (r < 0.65 || files.length === 0) {
      files.push(rel);
      ops.push({ kind: 'file', rel, size: rng.pick(SIZES), fill: rng.int(0, 255), mode: rng.pick(MODES) });
    } else if (r < 0.85) ops.push({ kind: 'link', rel, target: rng.pick(TARGETS) });
    else ops.push({ kind: 'hard', rel, to: rng.pick(files) });
  }
  return ops;
}

function driftOps(rng: Rng, tree: Op[]): Drift[] {
  const out: Drift[] = [];
  const files = tree.filter((o) => o.kind === 'file' || o.kind === 'hard').map((o) => o.rel);
  const all = tree.map((o) => o.rel);
  for (let i = rng.int(0, 5); i > 0; i--) {
    const k = rng.int(0, 6);
    if (k === 0 && files.length) out.push({ kind: 'rewrite', rel: rng.pick(files), size: rng.pick(SIZES), fill: rng.int(0, 255), keepTime: rng.next() < 0.4 });
    else if (k === 1 && files.length) out.push({ kind: 'touch', rel: rng.pick(files), sec: rng.pick([1_000_000_000, 1_900_000_000]) });
    else if (k === 2 && all.length) out.push({ kind: 'chmod', rel: rng.pick(all), mode: rng.pick([0o600, 0o755, 0o700]) });
    else if (k === 3 && all.length) out.push({ kind: 'remove', rel: rng.pick(all) });
    else if (k === 4) out.push({ kind: 'extra-file', rel: path.join(rng.pick(['', ...DIRS]), rng.pick(['new', 'old.o', 'gone'])), size: rng.pick(SIZES) });
    else if (k === 5) out.push({ kind: 'extra-dir', rel: path.join(rng.pick(['', ...DIRS]), 'xdir') });
    else if (all.length) out.push({ kind: 'retype', rel: rng.pick(all), to: rng.pick(['file', 'dir', 'link'] as const) });
  }
  return out;
}

function build(src: string, ops: Op[]): void {
  fs.mkdirSync(src, { recursive: true });
  for (const o of ops) {
    const p = path.join(src, o.rel);
    if (o.kind === 'dir') fs.mkdirSync(p, { recursive: true });
    else if (o.kind === 'file') put(src, o.rel, content(o.size, o.fill), o.mode);
    else if (o.kind === 'link') fs.symlinkSync(o.target, p);
    else fs.linkSync(path.join(src, o.to), p);
  }
  stampTree(src);
}

function lexists(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false });
  } catch (e) {
    // A path through an entry an earlier drift made a file.
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

function drift(dst: string, ops: Drift[]): void {
  for (const o of ops) {
    const p = path.join(dst, o.rel);
    const st = lexists(p);
    if (o.kind === 'extra-file' || o.kind === 'extra-dir') {
      if (st || !lexists(path.dirname(p))?.isDirectory()) continue;
      if (o.kind === 'extra-dir') fs.mkdirSync(p);
      else fs.writeFileSync(p, content(o.size, 9));
      touchNs([[p, '1500000000.5']]);
      continue;
    }
    if (!st) continue;
    if (o.kind === 'rewrite' && st.isFile()) {
      // A new inode (a hard-linked destination file drifts alone), with the old time when keepTime.
      const was = fs.lstatSync(p, { bigint: true }).mtimeNs;
      fs.unlinkSync(p);
      fs.writeFileSync(p, content(o.size, o.fill));
      fs.chmodSync(p, st.mode & 0o7777);
      if (o.keepTime) touchNs([[p, `${was / 1_000_000_000n}.${String(was % 1_000_000_000n).padStart(9, '0')}`]]);
    } else if (o.kind === 'touch' && st.isFile()) touchNs([[p, `${o.sec}.0`]]);
    else if (o.kind === 'chmod' && !st.isSymbolicLink()) fs.chmodSync(p, o.mode);
    else if (o.kind === 'remove') fs.rmSync(p, { recursive: true, force: true });
    else if (o.kind === 'retype') {
      fs.rmSync(p, { recursive: true, force: true });
      if (o.to === 'file') fs.writeFileSync(p, 'retyped\n');
      else if (o.to === 'dir') fs.mkdirSync(p);
      else fs.symlinkSync('a', p);
      touchNs([[p, '1400000000.25']]);
    }
  }
}

/** Flags that go with every case: a base that keeps times (see the file's comment). */
const BASES: string[][] = [['-a'], ['-a'], ['-rlt'], ['-rt'], ['-rltp'], ['-aH'], ['-aH'], ['-dlt'], ['-a', '--no-p']];

/** Each extra is drawn on its own; some bring their partners. */
const EXTRAS: string[][] = [
  ['-c'], ['-u'], ['--existing'], ['--ignore-existing'], ['--size-only'], ['-I'],
  ['--delete'], ['--delete-before'], ['--delete-after'], ['--delete-delay'], ['--delete', '--delete-excluded'], ['--delete', '--force'],
  ['--delete', '--max-delete=1'], ['-m'], ['-b'], ['-b', '--suffix=.old'], ['-b', '--backup-dir=../bk'],
  // No --append-verify: rsync redoes a file whose kept bytes differ (a WARNING and a second line), arsync
  // writes it whole at once (docs/options.md, its row).
  ['--inplace'], ['--append'], ['-W'], ['--no-W'], ['-n'], ['--max-size=4k'], ['--min-size=1'],
  ['-x'], ['--chmod=F600'], ['--chmod=Dg+s,ug+w'], ['-E'], ['-k'], ['-K'], ['-L'], ['--copy-unsafe-links'], ['--safe-links'],
  ['-H'], ['--exclude=*.o'], ['--exclude=sub/'], ['--include=*/', '--exclude=b*'], ['--exclude=/deep'], ['--partial'],
  ['--delay-updates'], ['-S'], ['--preallocate'], ['--no-implied-dirs'], ['-y'], ['--ignore-errors'], ['-v'], ['--stats'],
  ['-h'], ['--link-dest=../prev'], ['--compare-dest=../prev'], ['--copy-dest=../prev'], ['--remove-source-files'],
  ['--numeric-ids'], ['--modify-window=2'], ['--ignore-times', '-c'],
];

const OPERANDS: string[][] = [['src/', 'dst/'], ['src/', 'dst/'], ['src/', 'dst/'], ['src', 'dst/'], ['src/sub', 'dst/'], ['src/a', 'dst/']];

export function diffCase(runSeed: number, index: number): DiffCase {
  const seed = (runSeed * 1_000_003 + index * 7919) >>> 0;
  const rng = new Rng(seed);
  const tree = treeOps(rng);
  const withDst = rng.next() < 0.7;
  const drifts = withDst ? driftOps(rng, tree) : [];
  const flags = [...rng.pick(BASES)];
  for (let i = rng.int(0, 3); i > 0; i--) for (const f of rng.pick(EXTRAS)) if (!flags.includes(f)) flags.push(f);
  // Without -p, a basis file's or a replaced entry's permission bits decide a new entry's, in rsync and
  // (since session 38) in arsync: -y, the --*-dest twins and -L's /dev/null over other entries are drawn
  // with any base. --append with a basis other than the destination's file (a --*-dest twin, a -y match):
  // rsync's receiver leaves the new file's first bytes zeroed (docs/options.md --append), arsync writes
  // the source's: those combinations are left out.
  const basis = (f: string): boolean => f === '-y' || f.endsWith('-dest=../prev');
  if (flags.some((f) => f.startsWith('--append'))) for (let i = flags.length - 1; i >= 0; i--) if (basis(flags[i]!)) flags.splice(i, 1);
  // -b with --link-dest: a destination file with other data, replaced by a link to an exact twin, is
  // backed up by arsync and lost by rsync (docs/options.md, --link-dest): the pair is left out.
  if (flags.includes('-b') && flags.includes('--link-dest=../prev')) flags.splice(flags.indexOf('--link-dest=../prev'), 1);
  // --inplace with --backup-dir=../bk: rsync 3.5 fails to set each backup's attributes (its path check
  // refuses the `..`; README "Differences from rsync"), arsync sets them: the pair is left out.
  if (flags.includes('--inplace') && flags.includes('--backup-dir=../bk')) flags.splice(flags.indexOf('--inplace'), 1);
  let operands = rng.pick(OPERANDS);
  // A missing operand keeps arsync from deleting, where rsync deletes (README "Differences from rsync").
  const missing = !tree.some((o) => path.join('src', o.rel) === operands[0]?.replace(/\/$/, '')) && operands[0] !== 'src/' && operands[0] !== 'src';
  if (missing && flags.some((f) => f.startsWith('--delete'))) operands = ['src/', 'dst/'];
  const prev = flags.some((f) => f.endsWith('=../prev'));
  const prevDrifts = prev ? driftOps(rng, tree) : [];
  return {
    seed,
    args: [...flags, ...operands],
    sourceChanges: flags.includes('--remove-source-files'),
    // Only `src/` gives dst a time of the source's; any other operand leaves dst to the clock where the run
    // makes it or changes its entries.
    volatile: operands[0] === 'src/' ? [] : ['dst'],
    // --remove-source-files empties the source's directories at the clock's time; -b without --backup-dir
    // implies -O (rsync's options.c), and --backup-dir's directories are made at the clock's time.
    volatileDirsUnder: [
      ...(flags.includes('--backup-dir=../bk') ? ['bk'] : flags.some((f) => f === '-b' || f === '--suffix=.old') ? ['dst'] : []),
      ...(flags.includes('--remove-source-files') ? ['src'] : []),
    ],
    setup: (root) => {
      const src = path.join(root, 'src');
      build(src, tree);
      for (const [dir, on, ops] of [['dst', withDst, drifts], ['prev', prev, prevDrifts]] as const) {
        if (!on) continue;
        clone(src, path.join(root, dir));
        drift(path.join(root, dir), ops);
      }
    },
  };
}
