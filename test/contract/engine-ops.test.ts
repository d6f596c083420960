// The engine op contract (docs/native-contract.md "Op semantics"), run against every engine: the same
// batches, built with the planner's BatchWriter, go through a context opened as a pool worker opens it
// (openContext), and the destination and the failures (values, never throws) must be the same on node,
// sync and uring. Only what an engine may legitimately do differently is parametrized: the node engine
// keeps mtimes to the microsecond and copies no xattrs. Cases that need an fs fault injected through the
// node engine's fsImpl seam stay in test/unit/engine/node.test.ts.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../../src/engine/batch.js';
import { openContext } from '../../src/engine/index.js';
import { nodeLstat, nodeStat } from '../../src/engine/node-walk.js';
import { COUNTER_SLOTS, Counter, OpFlag, OpKind, Outcome, Preserve } from '../../src/model/ops.js';
import { S_IFSOCK, type Stat } from '../../src/model/stat.js';
import type { EngineContext, EngineOptions, OpFailure } from '../../src/engine/types.js';
import type { EngineName } from '../../src/model/config.js';
import { contractEngines, holdSharedLock } from './engines.js';
import { FilterList } from '../../src/plan/filter.js';
import type { PatternRule } from '../../src/plan/filter-rules.js';
import { xattrRules, xattrView } from '../../src/plan/xattr-rules.js';

const E = osConstants.errno;
const B = (s: string): Buffer => Buffer.from(s);
const ALL = Preserve.Perms | Preserve.Times | Preserve.Owner | Preserve.Group | Preserve.Devices | Preserve.Specials;

let release: (() => void) | undefined;
beforeAll(async () => {
  release = await holdSharedLock();
});
afterAll(() => release?.());

/** The walk's view of a source path, as the planner would put it in an op. */
function statOf(path: string): Stat {
  const st = nodeLstat(B(path));
  if ('errno' in st) throw new Error(`lstat ${path}: ${st.errno}`);
  return st;
}

/** stat(2) of a path (following a symlink), as the planner records a followed link's referent. */
function statFollowing(path: string): Stat {
  const st = nodeStat(B(path));
  if ('errno' in st) throw new Error(`stat ${path}: ${st.errno}`);
  return st;
}

type OpSpec = [kind: OpKind, src: string, dst: string, stat?: Stat, flags?: number, target?: string];

const leftovers = (dir: string): string[] => fs.readdirSync(dir).filter((n) => /^\..+\.[A-Za-z0-9]{6}$/.test(n));
const mtimeNs = (p: fs.PathLike): bigint => fs.lstatSync(p, { bigint: true }).mtimeNs;
/** Permission bits in octal, so a failure reads '755' vs '700'. */
const modeOf = (p: string, noFollow = false): string => ((noFollow ? fs.lstatSync(p) : fs.statSync(p)).mode & 0o7777).toString(8);
const getfattr = (p: string): string =>
  execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', p], { encoding: 'latin1' })
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('security.selinux'))
    .sort()
    .join('\n');

for (const engine of contractEngines()) {
  describe.skipIf(engine.skip !== null)(`engine op contract: ${engine.title}`, () => {
    opContract(engine.name);
  });
}

function opContract(name: EngineName): void {
  /** The node engine sets mtimes through a double: it keeps microseconds (docs/native-contract.md). */
  const nsTimes = name !== 'node';
  const keptNs = (ns: bigint): bigint => (nsTimes ? ns : (ns / 1000n) * 1000n);

  let base: string;
  let src: string;
  let dst: string;

  beforeEach(() => {
    const tmp = fs.existsSync('/dev/shm') ? '/dev/shm' : (process.env['TMPDIR'] ?? '/tmp');
    base = fs.mkdtempSync(join(tmp, `arsync-contract-${name}-`));
    src = join(base, 'src');
    dst = join(base, 'dst');
    fs.mkdirSync(src);
    fs.mkdirSync(dst);
  });

  afterEach(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  function options(flags = ALL, extra: Partial<EngineOptions> = {}): EngineOptions {
    return {
      engine: name,
      destRoot: B(dst),
      flags,
      umask: 0o022,
      queueDepth: 16,
      bufferSize: 64 * 1024,
      bufferCount: 4,
      direct: false,
      counters: new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS)),
      ...extra,
    };
  }

  function encode(ops: OpSpec[]): Uint8Array {
    const w = new BatchWriter();
    for (const [kind, s, d, st, flags, target] of ops) w.add(kind, B(s), B(d), st ?? statOf(s), flags, 0, target === undefined ? undefined : B(target));
    return w.finish();
  }

  function run(ops: OpSpec[], opts = options()): { failures: OpFailure[]; counters: BigInt64Array; outcomes: number[] } {
    const ctx = openContext(opts);
    const outcomes = new Uint8Array(ops.length);
    try {
      return { failures: ctx.run(encode(ops), outcomes), counters: opts.counters, outcomes: [...outcomes] };
    } finally {
      ctx.close();
    }
  }

  function withContext<T>(fn: (ctx: EngineContext) => T, opts = options()): T {
    const ctx = openContext(opts);
    try {
      return fn(ctx);
    } finally {
      ctx.close();
    }
  }

  /** A source file with a nanosecond mtime (Node itself could only set microseconds). */
  function writeSource(n: string, data: Buffer | string, mode = 0o640): string {
    const p = join(src, n);
    fs.writeFileSync(p, data);
    fs.chmodSync(p, mode);
    execFileSync('touch', ['-d', '@1700000000.123456789', p]);
    return p;
  }

  describe('files', () => {
    it('copies bytes, mode and mtime through a temp file, over an existing target', () => {
      const data = Buffer.alloc(300_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
      const s = writeSource('f', data, 0o751);
      fs.writeFileSync(join(dst, 'f'), 'old');
      const { failures, counters, outcomes } = run([[OpKind.File, s, 'f']]);
      expect(failures).toEqual([]);
      expect(outcomes).toEqual([Outcome.Done]);
      expect(fs.readFileSync(join(dst, 'f')).equals(data)).toBe(true);
      expect(modeOf(join(dst, 'f'))).toBe('751');
      expect(mtimeNs(s)).toBe(1_700_000_000_123_456_789n);
      expect(mtimeNs(join(dst, 'f'))).toBe(keptNs(1_700_000_000_123_456_789n));
      expect(leftovers(dst)).toEqual([]);
      expect(counters[Counter.Files]).toBe(1n);
      expect(counters[Counter.Bytes]).toBe(BigInt(data.length));
    });

    it.skipIf(process.geteuid?.() !== 0)('Super/NoSuper decide owners over the euid; not acting as root only member groups are set', () => {
      const s = join(src, 'f');
      fs.writeFileSync(s, 'x');
      fs.chownSync(s, 1234, 5678);
      // --no-super as root: no owner, and a group we are not a member of is left alone (rsync's FLAG_SKIP_GROUP).
      expect(run([[OpKind.File, s, 'a']], options(ALL | Preserve.NoSuper)).failures).toEqual([]);
      expect([fs.lstatSync(join(dst, 'a')).uid, fs.lstatSync(join(dst, 'a')).gid]).toEqual([0, 0]);
      // A member group (root's own, 0) is still set.
      fs.chownSync(s, 1234, 0);
      expect(run([[OpKind.File, s, 'b']], options(ALL | Preserve.NoSuper)).failures).toEqual([]);
      expect(fs.lstatSync(join(dst, 'b')).gid).toBe(0);
      // --super (or root): owner and group set.
      fs.chownSync(s, 1234, 5678);
      expect(run([[OpKind.File, s, 'c']], options(ALL | Preserve.Super)).failures).toEqual([]);
      expect([fs.lstatSync(join(dst, 'c')).uid, fs.lstatSync(join(dst, 'c')).gid]).toEqual([1234, 5678]);
    });

    it('without -p keeps an existing target mode, else applies the umask', () => {
      const s = writeSource('a', 'x', 0o777);
      writeSource('b', 'y', 0o777);
      fs.writeFileSync(join(dst, 'a'), 'old');
      fs.chmodSync(join(dst, 'a'), 0o600);
      const { failures } = run(
        [
          [OpKind.File, s, 'a'],
          [OpKind.File, join(src, 'b'), 'b'],
        ],
        options(Preserve.Times),
      );
      expect(failures).toEqual([]);
      expect(modeOf(join(dst, 'a'))).toBe('600');
      expect(modeOf(join(dst, 'b'))).toBe('755');
    });

    it('Executability without Perms: an existing target keeps its bits, execute following the source (rsync\'s dest_mode), on File and Attrs ops', () => {
      // [source mode, target mode, expected]: x taken away; x given to whoever may read; both x: kept.
      const cases: [number, number, string][] = [
        [0o644, 0o755, '644'],
        [0o700, 0o604, '705'],
        [0o1700, 0o640, '750'],
        [0o711, 0o700, '700'],
        [0o600, 0o6711, '6600'],
      ];
      for (const kind of [OpKind.File, OpKind.Attrs]) {
        const ops: OpSpec[] = cases.map(([sm, tm], i) => {
          const s = writeSource(`e${kind}-${i}`, 'x', sm);
          fs.writeFileSync(join(dst, `e${kind}-${i}`), 'x');
          fs.chmodSync(join(dst, `e${kind}-${i}`), tm);
          return [kind, s, `e${kind}-${i}`];
        });
        expect(run(ops, options(Preserve.Times | Preserve.Executability)).failures).toEqual([]);
        expect(cases.map((_, i) => modeOf(join(dst, `e${kind}-${i}`)))).toEqual(cases.map((c) => c[2]));
      }
    });

    it('sets pre-1970 mtimes (Node would turn a negative number into "now")', () => {
      const p = writeSource('old', 'x');
      const st = { ...statOf(p), mtimeSec: -2, mtimeNsec: 500_000_000 };
      expect(run([[OpKind.File, p, 'old', st]]).failures).toEqual([]);
      expect(mtimeNs(join(dst, 'old'))).toBe(-1_500_000_000n);
    });

    it('copies names that are not UTF-8, byte for byte', () => {
      const n = Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x74]);
      const s = Buffer.concat([B(src + '/'), n]);
      fs.writeFileSync(s, 'bytes');
      const w = new BatchWriter();
      w.add(OpKind.File, s, n, nodeLstat(s) as Stat);
      expect(withContext((ctx) => ctx.run(w.finish()))).toEqual([]);
      expect(fs.readFileSync(Buffer.concat([B(dst + '/'), n]), 'utf8')).toBe('bytes');
    });

    it('keeps the holes of a sparse source', () => {
      const p = join(src, 'sparse');
      const fd = fs.openSync(p, 'w');
      fs.writeSync(fd, B('head'), 0, 4, 0);
      fs.writeSync(fd, B('middle'), 0, 6, 4 << 20);
      fs.ftruncateSync(fd, 16 << 20); // trailing hole
      fs.closeSync(fd);
      const { failures, counters } = run([[OpKind.File, p, 'sparse']], options(ALL, { bufferSize: 128 * 1024 }));
      expect(failures).toEqual([]);
      const out = join(dst, 'sparse');
      expect(fs.readFileSync(out).equals(fs.readFileSync(p))).toBe(true);
      const st = fs.statSync(out);
      expect(st.size).toBe(16 << 20);
      expect(st.blocks * 512).toBeLessThan(64 * 1024);
      // Holes count as bytes, so the counter ends at the file's size.
      expect(counters[Counter.Bytes]).toBe(BigInt(16 << 20));
    });

    it('ReflinkAlways where nothing clones (tmpfs): each file fails with ENOTSUP/clone, nothing left; auto and ReflinkNever copy', () => {
      const a = writeSource('a', 'data');
      const e = writeSource('e', '');
      const always = run([[OpKind.File, a, 'a'], [OpKind.File, e, 'e']], options(ALL | Preserve.ReflinkAlways));
      expect(always.failures).toEqual([
        { index: 0, errno: E.ENOTSUP, syscall: 'clone', path: B('a'), onDest: true },
        { index: 1, errno: E.ENOTSUP, syscall: 'clone', path: B('e'), onDest: true },
      ]);
      expect(fs.readdirSync(dst), 'no file and no temp file').toEqual([]);
      for (const flags of [ALL, ALL | Preserve.ReflinkNever]) {
        expect(run([[OpKind.File, a, 'a'], [OpKind.File, e, 'e']], options(flags)).failures).toEqual([]);
        expect(fs.readFileSync(join(dst, 'a'), 'utf8')).toBe('data');
        expect(fs.readFileSync(join(dst, 'e'), 'utf8')).toBe('');
        fs.rmSync(join(dst, 'a'));
        fs.rmSync(join(dst, 'e'));
      }
    });

    it('reports a changed source as ESTALE/fstat and a vanished one as ENOENT/open', () => {
      const p = writeSource('f', 'x');
      const moved = { ...statOf(p), ino: statOf(p).ino + 1 };
      const { failures, outcomes, counters } = run([
        [OpKind.File, p, 'f', moved],
        [OpKind.File, join(src, 'gone'), 'g', statOf(p)],
      ]);
      expect(failures).toEqual([
        { index: 0, errno: E.ESTALE, syscall: 'fstat', path: B(p), onDest: false },
        { index: 1, errno: E.ENOENT, syscall: 'open', path: B(join(src, 'gone')), onDest: false },
      ]);
      expect(outcomes).toEqual([Outcome.Failed, Outcome.Failed]);
      expect(counters[Counter.Errors]).toBe(2n);
      expect(fs.readdirSync(dst)).toEqual([]);
    });

    it('refuses a source swapped for a symlink since the walk', () => {
      const p = writeSource('f', 'x');
      const st = statOf(p);
      fs.unlinkSync(p);
      fs.symlinkSync('/etc/passwd', p);
      const { failures } = run([[OpKind.File, p, 'f', st]]);
      expect(failures.map((f) => [f.index, f.errno, f.syscall, f.onDest])).toEqual([[0, E.ESTALE, 'fstat', false]]);
      expect(fs.readdirSync(dst)).toEqual([]);
    });

    // Sources are opened O_NONBLOCK: a FIFO swapped in after the walk must not block the thread.
    it('refuses a FIFO swapped in for a file, without hanging', () => {
      const p = writeSource('f', 'x');
      const st = statOf(p);
      fs.unlinkSync(p);
      execFileSync('mkfifo', [p]);
      const { failures } = run([[OpKind.File, p, 'f', { ...st, ino: 0, dev: 0 }]]);
      expect(failures.map((f) => [f.index, f.errno, f.syscall, f.onDest])).toEqual([[0, E.ESTALE, 'fstat', false]]);
      expect(fs.readdirSync(dst)).toEqual([]);
    });

    it('replaces an empty directory in the way and reports rmdir for a non-empty one', () => {
      const p = writeSource('f', 'x');
      fs.mkdirSync(join(dst, 'empty'));
      fs.mkdirSync(join(dst, 'full'));
      fs.writeFileSync(join(dst, 'full', 'keep'), 'k');
      const { failures } = run([
        [OpKind.File, p, 'empty'],
        [OpKind.File, p, 'full'],
      ]);
      expect(fs.readFileSync(join(dst, 'empty'), 'utf8')).toBe('x');
      expect(failures).toEqual([{ index: 1, errno: E.ENOTEMPTY, syscall: 'rmdir', path: B('full'), onDest: true }]);
      expect(fs.readFileSync(join(dst, 'full', 'keep'), 'utf8')).toBe('k');
      expect(leftovers(dst)).toEqual([]);
    });

    it('FollowSource copies the file a source symlink points to', () => {
      const f = writeSource('f', 'referent');
      fs.symlinkSync('f', join(src, 'l'));
      const { failures } = run([[OpKind.File, join(src, 'l'), 'followed', statFollowing(join(src, 'l')), OpFlag.FollowSource]]);
      expect(failures).toEqual([]);
      expect(fs.lstatSync(join(dst, 'followed')).isFile()).toBe(true);
      expect(fs.readFileSync(join(dst, 'followed'), 'utf8')).toBe(fs.readFileSync(f, 'utf8'));
    });

    it('leaves no descriptor open once the context is closed', () => {
      const ops: OpSpec[] = [[OpKind.Mkdir, src, 'd', { ...statOf(src), mode: 0o40755 }]];
      for (let i = 0; i < 40; i++) ops.push([OpKind.File, writeSource(`f${i}`, Buffer.alloc(i * 1000, i)), `d/f${i}`]);
      fs.symlinkSync('f0', join(src, 'l'));
      ops.push([OpKind.Symlink, join(src, 'l'), 'd/l'], [OpKind.File, join(src, 'missing'), 'd/x', statOf(src)]);
      ops.push([OpKind.DirMeta, src, 'd', { ...statOf(src), mode: 0o40755 }]);
      const fds = fs.readdirSync('/proc/self/fd').length;
      const { failures, counters } = run(ops);
      expect(failures.map((f) => f.index)).toEqual([42]);
      expect(counters[Counter.Files]).toBe(40n);
      expect(fs.readdirSync('/proc/self/fd').length, 'open descriptors after close').toBe(fds);
    });

    it('an abort set before the batch starts no op: every outcome NotRun, no failure, nothing written', () => {
      const a = writeSource('a', 'first');
      const opts = options();
      Atomics.store(opts.counters, Counter.Abort, 1n);
      const { failures, outcomes } = run(
        [
          [OpKind.File, a, 'a'],
          [OpKind.Mkdir, src, 'd'],
        ],
        opts,
      );
      expect(failures).toEqual([]);
      expect(outcomes).toEqual([Outcome.NotRun, Outcome.NotRun]);
      expect(fs.readdirSync(dst)).toEqual([]);
    });
  });

  describe('destination safety', () => {
    it('refuses to write through a symlink planted in the destination', () => {
      const outside = join(base, 'outside');
      fs.mkdirSync(outside);
      fs.symlinkSync(outside, join(dst, 'evil'));
      const p = writeSource('f', 'payload');
      const { failures } = run([
        [OpKind.File, p, 'evil/f'],
        [OpKind.Mkdir, src, 'evil/d'],
      ]);
      expect(failures).toEqual([
        { index: 0, errno: E.ELOOP, syscall: 'open', path: B('evil/f'), onDest: true },
        { index: 1, errno: E.ELOOP, syscall: 'open', path: B('evil/d'), onDest: true },
      ]);
      expect(fs.readdirSync(outside)).toEqual([]);
    });

    it('no op kind reaches through a planted symlink or out of the root', () => {
      const outside = join(base, 'outside');
      fs.mkdirSync(outside);
      fs.writeFileSync(join(outside, 'victim'), 'precious');
      fs.chmodSync(join(outside, 'victim'), 0o600);
      const victimBefore = fs.statSync(join(outside, 'victim'));
      fs.symlinkSync(outside, join(dst, 'evil'));
      fs.writeFileSync(join(dst, 'f'), 'linked');
      const p = writeSource('f', 'payload', 0o777);
      const fifo = join(src, 'fifo');
      execFileSync('mkfifo', [fifo]);
      fs.symlinkSync('somewhere', join(src, 'l'));
      const dirSt = { ...statOf(src), mode: 0o40777 };
      const ops: OpSpec[] = [
        [OpKind.File, p, 'evil/victim'],
        [OpKind.File, p, 'evil/new'],
        [OpKind.Symlink, join(src, 'l'), 'evil/l'],
        [OpKind.Special, fifo, 'evil/fifo'],
        [OpKind.Hardlink, 'f', 'evil/hl', statOf(join(dst, 'f'))],
        [OpKind.Mkdir, src, 'evil/dir', dirSt],
        [OpKind.DirMeta, src, 'evil', dirSt],
        [OpKind.Attrs, p, 'evil/victim'],
        [OpKind.Delete, p, 'evil/victim'],
        [OpKind.LinkFrom, p, 'evil/lf'],
        [OpKind.Backup, join(dst, 'bk'), 'evil/victim', statOf(p)],
        [OpKind.File, p, '../escape'],
        [OpKind.File, p, '/abs'],
      ];
      const { failures, outcomes } = run(ops);
      // Every op through `evil` fails at the resolution of its parent (DirMeta at `evil` itself), whichever
      // op kind it is, with ELOOP; `..`
      // leaves the root (EXDEV), and so does a path starting with '/'.
      const expected = ops.slice(0, 11).map((_, i) => [i, E.ELOOP, 'open']);
      expected.push([11, E.EXDEV, 'open'], [12, E.EXDEV, 'open']);
      expect(fs.existsSync(join(dst, 'abs'))).toBe(false);
      expect(failures.map((f) => [f.index, f.errno, f.syscall])).toEqual(expected);
      for (const f of failures) expect(f.onDest, `op ${f.index} (${ops[f.index]![2]}) fails on the destination`).toBe(true);
      expect(outcomes.slice(0, expected.length).every((o) => o === Outcome.Failed)).toBe(true);
      expect(fs.readdirSync(outside)).toEqual(['victim']);
      const victim = fs.statSync(join(outside, 'victim'));
      expect(fs.readFileSync(join(outside, 'victim'), 'utf8')).toBe('precious');
      expect([victim.mode, victim.mtimeMs, victim.ino]).toEqual([victimBefore.mode, victimBefore.mtimeMs, victimBefore.ino]);
      expect(fs.existsSync(join(base, 'escape')) || fs.existsSync('/abs')).toBe(false);
      expect(leftovers(dst)).toEqual([]);
    });

    it('replaces a symlink at the target name instead of following it', () => {
      const victim = join(base, 'victim');
      fs.writeFileSync(victim, 'precious');
      fs.symlinkSync(victim, join(dst, 'f'));
      const p = writeSource('f', 'new');
      expect(run([[OpKind.File, p, 'f']]).failures).toEqual([]);
      expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
      expect(fs.lstatSync(join(dst, 'f')).isFile()).toBe(true);
    });

    it('-K follows a symlink to a directory inside the destination, never one that leads out', () => {
      fs.mkdirSync(join(dst, 'real'));
      fs.symlinkSync('real', join(dst, 'inside'));
      fs.symlinkSync(base, join(dst, 'out'));
      const f = writeSource('f', 'x');
      const { failures } = run(
        [
          [OpKind.File, f, 'inside/f'],
          [OpKind.File, f, 'out/f'],
        ],
        options(ALL | Preserve.KeepDirlinks),
      );
      expect(failures).toEqual([{ index: 1, errno: E.EXDEV, syscall: 'open', path: B('out/f'), onDest: true }]);
      expect(fs.readFileSync(join(dst, 'real', 'f'), 'utf8')).toBe('x');
      expect(fs.existsSync(join(base, 'f'))).toBe(false);
    });

    it('scanDest and readlinkDest resolve beneath the root without following symlinks', () => {
      fs.mkdirSync(join(dst, 'd'));
      fs.writeFileSync(join(dst, 'd', 'x'), '1');
      fs.symlinkSync(src, join(dst, 'evil'));
      fs.symlinkSync('target', join(dst, 'd', 'l'));
      withContext((ctx) => {
        const listing = ctx.scanDest(B('d'));
        if ('errno' in listing) throw new Error('scanDest failed');
        expect(listing.names.map(String).sort()).toEqual(['l', 'x']);
        expect(ctx.scanDest(B('evil'))).toEqual({ errno: E.ELOOP, syscall: 'scandir' });
        expect(ctx.scanDest(B('missing'))).toEqual({ errno: E.ENOENT, syscall: 'scandir' });
        expect(ctx.readlinkDest(B('d/l'))).toEqual(B('target'));
        expect(ctx.readlinkDest(B('evil/x'))).toEqual({ errno: E.ELOOP, syscall: 'open' });
        expect(ctx.xattrDiff(B(src), B('d'), 0)).toBe(0);
      });
    });
  });

  describe('links, specials, directories', () => {
    it('copies a symlink with its target bytes and mtime', () => {
      const l = join(src, 'l');
      fs.symlinkSync('../some/where', l);
      execFileSync('touch', ['-h', '-d', '@1600000000.987654321', l]);
      const { failures, counters } = run([[OpKind.Symlink, l, 'l']]);
      expect(failures).toEqual([]);
      expect(fs.readlinkSync(join(dst, 'l'))).toBe('../some/where');
      expect(mtimeNs(join(dst, 'l'))).toBe(keptNs(1_600_000_000_987_654_321n));
      expect(counters[Counter.Symlinks]).toBe(1n);
      expect(leftovers(dst)).toEqual([]);
    });

    it('Target writes the judged link value, and refuses a source link retargeted since', () => {
      const l = join(src, 'l');
      fs.symlinkSync('judged', l);
      const st = statOf(l);
      expect(run([[OpKind.Symlink, l, 'l', st, 0, 'judged']]).failures).toEqual([]);
      expect(fs.readlinkSync(join(dst, 'l'))).toBe('judged');
      fs.unlinkSync(l);
      fs.symlinkSync('/etc/shadow', l);
      const { failures } = run([[OpKind.Symlink, l, 'm', { ...statOf(l), size: 6 }, 0, 'judged']]);
      expect(failures.map((f) => [f.index, f.errno, f.syscall, f.onDest])).toEqual([[0, E.ESTALE, 'readlink', false]]);
      expect(fs.existsSync(join(dst, 'm'))).toBe(false);
      expect(leftovers(dst)).toEqual([]);
    });

    it('Target "judged NUL written" (--iconv) writes the second value, still refusing a link retargeted since', () => {
      const l = join(src, 'l');
      fs.symlinkSync(Buffer.from('caf\xe9', 'latin1'), l);
      const both = Buffer.concat([Buffer.from('caf\xe9', 'latin1'), Buffer.alloc(1), Buffer.from('café')]);
      const w = new BatchWriter(256);
      w.add(OpKind.Symlink, B(l), B('l'), statOf(l), 0, 0, both);
      const ctx = openContext(options());
      let failures: OpFailure[];
      try {
        failures = ctx.run(w.finish());
      } finally {
        ctx.close();
      }
      expect(failures).toEqual([]);
      expect(fs.readlinkSync(join(dst, 'l'), { encoding: 'buffer' })).toEqual(Buffer.from('café'));
      // The judged part is what the source must still hold: a value equal to the written part is not it.
      fs.unlinkSync(l);
      fs.symlinkSync('café', l);
      const w2 = new BatchWriter(256);
      w2.add(OpKind.Symlink, B(l), B('m'), statOf(l), 0, 0, both);
      const ctx2 = openContext(options());
      try {
        failures = ctx2.run(w2.finish());
      } finally {
        ctx2.close();
      }
      expect(failures.map((f) => [f.index, f.errno, f.syscall, f.onDest])).toEqual([[0, E.ESTALE, 'readlink', false]]);
      expect(fs.existsSync(join(dst, 'm'))).toBe(false);
      expect(leftovers(dst)).toEqual([]);
    });

    it('hard-links to an earlier destination file, and does nothing when already linked', () => {
      const p = writeSource('f', 'shared');
      const ops: OpSpec[] = [
        [OpKind.File, p, 'f'],
        [OpKind.Hardlink, 'f', 'g', statOf(p)],
      ];
      const first = run(ops);
      expect(first.failures).toEqual([]);
      expect(first.counters[Counter.Hardlinks]).toBe(1n);
      expect(fs.statSync(join(dst, 'g')).ino).toBe(fs.statSync(join(dst, 'f')).ino);
      const again = run([ops[1]!]);
      expect(again.failures).toEqual([]);
      expect(again.counters[Counter.Hardlinks]).toBe(1n);
      expect(fs.readdirSync(dst).sort()).toEqual(['f', 'g']);
    });

    it('creates a FIFO and a socket with their mode and mtime', () => {
      const fifo = join(src, 'fifo');
      fs.writeFileSync(join(src, 'plain'), '');
      execFileSync('mkfifo', ['-m', '640', fifo]);
      fs.utimesSync(fifo, 1_650_000_000, 1_650_000_000);
      const sock = { ...statOf(join(src, 'plain')), mode: S_IFSOCK | 0o751 };
      const { failures, counters } = run([
        [OpKind.Special, fifo, 'fifo'],
        [OpKind.Special, join(src, 'plain'), 'sock', sock],
      ]);
      expect(failures).toEqual([]);
      const st = fs.lstatSync(join(dst, 'fifo'));
      expect(st.isFIFO()).toBe(true);
      expect(modeOf(join(dst, 'fifo'), true)).toBe('640');
      expect(mtimeNs(join(dst, 'fifo'))).toBe(1_650_000_000_000_000_000n);
      expect(fs.lstatSync(join(dst, 'sock')).isSocket()).toBe(true);
      expect(modeOf(join(dst, 'sock'), true)).toBe('751');
      expect(counters[Counter.Specials]).toBe(2n);
      expect(leftovers(dst)).toEqual([]);
    });

    it.runIf(process.geteuid?.() === 0)('creates a character device with its major and minor (root)', () => {
      const st = { ...statOf('/dev/null'), ino: 0, dev: 0 };
      const { failures } = run([[OpKind.Special, '/dev/null', 'null', st]]);
      if (failures[0]?.errno === E.EPERM) return; // no CAP_MKNOD in this container
      expect(failures).toEqual([]);
      expect(fs.lstatSync(join(dst, 'null')).rdev).toBe(fs.lstatSync('/dev/null').rdev);
    });

    it('makes directories 0700 until DirMeta applies mode and mtime, deepest first', () => {
      const d = join(src, 'd');
      fs.mkdirSync(join(d, 'e'), { recursive: true });
      fs.chmodSync(join(d, 'e'), 0o750);
      fs.utimesSync(join(d, 'e'), 1_500_000_000, 1_500_000_000);
      fs.chmodSync(d, 0o705);
      fs.utimesSync(d, 1_400_000_000, 1_400_000_000);
      fs.writeFileSync(join(dst, 'd'), 'file in the way');
      const mk = run([
        [OpKind.Mkdir, d, 'd'],
        [OpKind.Mkdir, join(d, 'e'), 'd/e'],
      ]);
      expect(mk.failures).toEqual([]);
      expect(mk.counters[Counter.Dirs]).toBe(2n);
      expect(modeOf(join(dst, 'd/e'))).toBe('700');
      const meta = run([
        [OpKind.DirMeta, join(d, 'e'), 'd/e'],
        [OpKind.DirMeta, d, 'd'],
      ]);
      expect(meta.failures).toEqual([]);
      expect(modeOf(join(dst, 'd'))).toBe('705');
      expect(modeOf(join(dst, 'd/e'))).toBe('750');
      expect(mtimeNs(join(dst, 'd'))).toBe(1_400_000_000_000_000_000n);
      expect(mtimeNs(join(dst, 'd/e'))).toBe(1_500_000_000_000_000_000n);
    });
  });

  describe('sync additions', () => {
    it('-c: equal content only gets attributes (outcome Equal), different content is copied', () => {
      const same = writeSource('same', 'identical', 0o600);
      const diff = writeSource('diff', 'new bytes');
      fs.writeFileSync(join(dst, 'same'), 'identical');
      fs.writeFileSync(join(dst, 'diff'), 'old bytes');
      const ino = fs.statSync(join(dst, 'same')).ino;
      const { failures, outcomes, counters } = run([
        [OpKind.File, same, 'same', undefined, OpFlag.Compare],
        [OpKind.File, diff, 'diff', undefined, OpFlag.Compare],
      ]);
      expect(failures).toEqual([]);
      expect(outcomes).toEqual([Outcome.Equal, Outcome.Done]);
      expect(counters[Counter.Files]).toBe(1n);
      expect(fs.statSync(join(dst, 'same')).ino).toBe(ino);
      expect(modeOf(join(dst, 'same'))).toBe('600');
      expect(mtimeNs(join(dst, 'same'))).toBe(keptNs(1_700_000_000_123_456_789n));
      expect(fs.readFileSync(join(dst, 'diff'), 'utf8')).toBe('new bytes');
    });

    it('-c: a FIFO or a symlink at the target is different content, replaced without hanging or following', () => {
      const f = writeSource('f', 'data');
      execFileSync('mkfifo', [join(dst, 'fifo')]);
      const victim = join(base, 'victim');
      fs.writeFileSync(victim, 'data');
      fs.symlinkSync(victim, join(dst, 'link'));
      const { failures, outcomes } = run([
        [OpKind.File, f, 'fifo', undefined, OpFlag.Compare],
        [OpKind.File, f, 'link', undefined, OpFlag.Compare],
      ]);
      expect(failures).toEqual([]);
      expect(outcomes).toEqual([Outcome.Done, Outcome.Done]);
      for (const n of ['fifo', 'link']) expect(fs.lstatSync(join(dst, n)).isFile(), n).toBe(true);
      expect(fs.readFileSync(victim, 'utf8')).toBe('data');
    });

    it('--remove-source-files unlinks the source after the copy, and only if it is still the same file', () => {
      const a = writeSource('a', 'x');
      const b = writeSource('b', 'y');
      const unknown = { ...statOf(b), ino: 0, dev: 0 }; // copied unchecked, so its identity is not confirmed
      const { failures } = run([
        [OpKind.File, a, 'a', undefined, OpFlag.RemoveSource],
        [OpKind.File, b, 'b', unknown, OpFlag.RemoveSource],
      ]);
      expect(failures).toEqual([]);
      expect(fs.readFileSync(join(dst, 'b'), 'utf8')).toBe('y');
      expect(fs.existsSync(a)).toBe(false);
      // Nothing confirms it is still the file copied, so it stays (rsync keeps a source that changed).
      expect(fs.existsSync(b)).toBe(true);
      // On an Attrs op too (the planner unlinks an unchanged source itself, but the contract holds), and
      // only while the source is the file the op names.
      const c = writeSource('c', 'z');
      const d = writeSource('d', 'w');
      fs.writeFileSync(join(dst, 'c'), 'z');
      fs.writeFileSync(join(dst, 'd'), 'w');
      const moved = { ...statOf(d), ino: statOf(d).ino + 1 };
      expect(
        run([
          [OpKind.Attrs, c, 'c', undefined, OpFlag.RemoveSource],
          [OpKind.Attrs, d, 'd', moved, OpFlag.RemoveSource],
        ]).failures,
      ).toEqual([]);
      expect(fs.existsSync(c)).toBe(false);
      expect(fs.existsSync(d)).toBe(true);
      // A directory is never removed, even when its op carries the flag.
      fs.mkdirSync(join(src, 'dir'));
      fs.mkdirSync(join(dst, 'dir'));
      expect(run([[OpKind.Attrs, join(src, 'dir'), 'dir', undefined, OpFlag.RemoveSource]]).failures).toEqual([]);
      expect(fs.statSync(join(src, 'dir')).isDirectory()).toBe(true);
    });

    it('unlinkSource: removes the file the walk saw, keeps another, and says ENOENT for one already gone', () => {
      const a = writeSource('a', 'x');
      const b = writeSource('b', 'y');
      const stA = statOf(a);
      const moved = { ...statOf(b), ino: statOf(b).ino + 1 };
      withContext((ctx) => {
        expect(ctx.unlinkSource!(B(a), stA, src.length)).toBeNull();
        expect(fs.existsSync(a)).toBe(false);
        // Not the file the walk saw: kept, and no failure (a changed file).
        expect(ctx.unlinkSource!(B(b), moved, src.length)).toBeNull();
        expect(fs.existsSync(b)).toBe(true);
        // Gone already (another name of it took it): the run words it (rsync's "sender file already removed").
        expect(ctx.unlinkSource!(B(a), stA, src.length)).toMatchObject({ errno: osConstants.errno.ENOENT });
        // Through a link -L follows, to a file gone: the same; the link stays.
        fs.symlinkSync('a', join(src, 'l'));
        expect(ctx.unlinkSource!(B(join(src, 'l')), stA, src.length, true)).toMatchObject({ errno: osConstants.errno.ENOENT });
        expect(fs.lstatSync(join(src, 'l')).isSymbolicLink()).toBe(true);
      });
    });

    it('Attrs, Delete, LinkFrom and Backup', () => {
      const f = writeSource('f', 'data', 0o604);
      const linkDest = join(base, 'prev');
      fs.mkdirSync(linkDest);
      fs.writeFileSync(join(linkDest, 'f'), 'data');
      fs.writeFileSync(join(dst, 'attrs'), 'keep');
      fs.writeFileSync(join(dst, 'old'), 'bye');
      fs.mkdirSync(join(dst, 'olddir'));
      fs.writeFileSync(join(dst, 'changed'), 'v1');
      fs.mkdirSync(join(dst, 'bak'));
      const file = statOf(f);
      const dir = statOf(src);
      const { failures, counters, outcomes } = run([
        [OpKind.Attrs, f, 'attrs'],
        [OpKind.Delete, f, 'old'],
        [OpKind.Delete, src, 'olddir', dir],
        [OpKind.Delete, f, 'never-there'],
        [OpKind.LinkFrom, join(linkDest, 'f'), 'linked', file],
        // Without a backupDir, backups are made beside the file.
        [OpKind.Backup, join(dst, 'changed~'), 'changed', file],
        [OpKind.Backup, join(base, 'outside~'), 'missing', file],
      ]);
      expect(failures).toEqual([]);
      expect(outcomes.every((o) => o === Outcome.Done)).toBe(true);
      expect(fs.readFileSync(join(dst, 'attrs'), 'utf8')).toBe('keep');
      expect(modeOf(join(dst, 'attrs'))).toBe('604');
      expect(mtimeNs(join(dst, 'attrs'))).toBe(keptNs(1_700_000_000_123_456_789n));
      expect(fs.existsSync(join(dst, 'old')) || fs.existsSync(join(dst, 'olddir'))).toBe(false);
      // ENOENT is success, but not counted: nothing was removed.
      expect(counters[Counter.Deleted]).toBe(2n);
      expect(fs.statSync(join(dst, 'linked')).ino).toBe(fs.statSync(join(linkDest, 'f')).ino);
      expect(fs.readFileSync(join(dst, 'changed~'), 'utf8')).toBe('v1');
      expect(fs.existsSync(join(dst, 'changed'))).toBe(false);
      expect(fs.existsSync(join(base, 'outside~'))).toBe(false);
      expect(leftovers(dst)).toEqual([]);
    });

    it('Backup with BackupKeep leaves dst for the AfterBackup op that replaces it', () => {
      const f = writeSource('f', 'new');
      fs.writeFileSync(join(dst, 'f'), 'old');
      const { failures, outcomes } = run([
        [OpKind.Backup, join(dst, 'f~'), 'f', statOf(f), OpFlag.BackupKeep],
        [OpKind.File, f, 'f', undefined, OpFlag.AfterBackup],
      ]);
      expect(failures).toEqual([]);
      expect(outcomes).toEqual([Outcome.Done, Outcome.Done]);
      expect(fs.readFileSync(join(dst, 'f~'), 'utf8')).toBe('old');
      expect(fs.readFileSync(join(dst, 'f'), 'utf8')).toBe('new');
      expect(leftovers(dst)).toEqual([]);
    });

    it('an AfterBackup op does not run when its backup failed (DESIGN §3.7)', () => {
      const f = writeSource('f', 'new');
      fs.writeFileSync(join(dst, 'f'), 'old');
      fs.writeFileSync(join(dst, 'g'), 'old g');
      // A non-empty directory at the backup name cannot be replaced.
      fs.mkdirSync(join(dst, 'f~'));
      fs.writeFileSync(join(dst, 'f~', 'x'), '');
      fs.mkdirSync(join(dst, 'g~'));
      fs.writeFileSync(join(dst, 'g~', 'x'), '');
      const { failures, outcomes } = run([
        [OpKind.Backup, join(dst, 'f~'), 'f', statOf(f), OpFlag.BackupKeep],
        [OpKind.File, f, 'f', undefined, OpFlag.AfterBackup],
        [OpKind.Backup, join(dst, 'g~'), 'g', statOf(f)],
        [OpKind.Delete, f, 'g', undefined, OpFlag.AfterBackup],
      ]);
      expect(failures.map((x) => [x.index, x.errno, x.syscall])).toEqual([
        [0, E.ENOTEMPTY, 'rmdir'],
        [1, E.ENOTEMPTY, 'backup'],
        [2, E.ENOTEMPTY, 'rmdir'],
        [3, E.ENOTEMPTY, 'backup'],
      ]);
      expect(failures[1]).toMatchObject({ path: B('f'), onDest: true });
      expect(failures[3]).toMatchObject({ path: B('g'), onDest: true });
      expect(outcomes).toEqual([Outcome.Failed, Outcome.Failed, Outcome.Failed, Outcome.Failed]);
      expect(fs.readFileSync(join(dst, 'f'), 'utf8')).toBe('old');
      expect(fs.readFileSync(join(dst, 'g'), 'utf8')).toBe('old g');
      expect(leftovers(dst)).toEqual([]);
    });

    it('a backupDir holds the backups, and a symlink planted below it is replaced, never followed', () => {
      const f = writeSource('f', 'new');
      fs.mkdirSync(join(dst, 'sub'));
      fs.writeFileSync(join(dst, 'sub', 'f'), 'old');
      const outside = join(base, 'outside');
      fs.mkdirSync(outside);
      fs.mkdirSync(join(dst, 'bk'));
      fs.symlinkSync(outside, join(dst, 'bk', 'sub'));
      const { failures } = run(
        [
          [OpKind.Backup, join(dst, 'bk', 'sub', 'f'), 'sub/f', statOf(f), OpFlag.BackupKeep],
          [OpKind.File, f, 'sub/f', undefined, OpFlag.AfterBackup],
        ],
        options(ALL, { backupDir: B(join(dst, 'bk')) }),
      );
      expect(failures).toEqual([]);
      expect(fs.lstatSync(join(dst, 'bk', 'sub')).isDirectory()).toBe(true);
      expect(fs.readFileSync(join(dst, 'bk', 'sub', 'f'), 'utf8')).toBe('old');
      expect(fs.readFileSync(join(dst, 'sub', 'f'), 'utf8')).toBe('new');
      expect(fs.readdirSync(outside)).toEqual([]);
    });

    it('Basis: a --link-dest file is used only if it is the inode the planner chose, reached without symlinks', () => {
      const f = writeSource('f', 'data');
      const prev = join(base, 'prev');
      fs.mkdirSync(join(prev, 'real'), { recursive: true });
      fs.writeFileSync(join(prev, 'real', 'f'), 'data');
      fs.symlinkSync('real', join(prev, 'via-link'));
      const basis = statOf(join(prev, 'real', 'f'));
      const { failures, outcomes } = run([
        [OpKind.LinkFrom, join(prev, 'real', 'f'), 'linked', basis, OpFlag.Basis],
        [OpKind.File, join(prev, 'real', 'f'), 'copied', basis, OpFlag.Basis],
        [OpKind.LinkFrom, join(prev, 'real', 'f'), 'wrong-ino', { ...basis, ino: basis.ino + 1 }, OpFlag.Basis],
        [OpKind.LinkFrom, join(prev, 'via-link', 'f'), 'through-link', basis, OpFlag.Basis],
        [OpKind.File, join(prev, 'via-link', 'f'), 'copied-through-link', basis, OpFlag.Basis],
      ]);
      expect(outcomes).toEqual([Outcome.Done, Outcome.Done, Outcome.Failed, Outcome.Failed, Outcome.Failed]);
      expect(failures.map((x) => [x.index, x.errno, x.syscall])).toEqual([
        [2, E.ESTALE, 'fstat'],
        [3, E.ESTALE, 'fstat'],
        [4, E.ESTALE, 'fstat'],
      ]);
      expect(fs.statSync(join(dst, 'linked')).ino).toBe(basis.ino);
      expect(fs.readFileSync(join(dst, 'copied'), 'utf8')).toBe('data');
      expect(fs.statSync(join(dst, 'copied')).ino).not.toBe(basis.ino);
      expect(fs.readdirSync(dst).sort()).toEqual(['copied', 'linked']);
      expect(statOf(f).size).toBe(4);
    });

    it('--inplace rewrites the target itself and truncates it to the source size', () => {
      const f = writeSource('f', 'short');
      fs.writeFileSync(join(dst, 'f'), 'a much longer old content');
      const ino = fs.statSync(join(dst, 'f')).ino;
      expect(run([[OpKind.File, f, 'f']], options(ALL | Preserve.Inplace)).failures).toEqual([]);
      expect(fs.readFileSync(join(dst, 'f'), 'utf8')).toBe('short');
      expect(fs.statSync(join(dst, 'f')).ino).toBe(ino);
    });

    it('--inplace replaces a FIFO, a symlink or an empty directory at the target, without hanging or following', () => {
      const f = writeSource('f', 'data');
      execFileSync('mkfifo', [join(dst, 'fifo')]);
      const victim = join(base, 'victim');
      fs.writeFileSync(victim, 'precious');
      fs.symlinkSync(victim, join(dst, 'link'));
      fs.mkdirSync(join(dst, 'empty'));
      fs.mkdirSync(join(dst, 'full'));
      fs.writeFileSync(join(dst, 'full', 'keep'), 'k');
      const { failures } = run(
        [
          [OpKind.File, f, 'fifo'],
          [OpKind.File, f, 'link'],
          [OpKind.File, f, 'empty'],
          [OpKind.File, f, 'full'],
        ],
        options(ALL | Preserve.Inplace),
      );
      expect(failures).toEqual([{ index: 3, errno: E.ENOTEMPTY, syscall: 'rmdir', path: B('full'), onDest: true }]);
      for (const n of ['fifo', 'link', 'empty']) {
        expect(fs.lstatSync(join(dst, n)).isFile(), n).toBe(true);
        expect(fs.readFileSync(join(dst, n), 'utf8')).toBe('data');
      }
      expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    });
  });

  // The node engine copies no xattrs or ACLs (it refuses the flags: node.test.ts); the native ones must
  // agree with each other.
  describe.skipIf(name === 'node')('xattrs and ACLs (native engines)', () => {
    it('File copies user xattrs, Attrs makes the target set equal, xattrDiff tells them apart', () => {
      const f = writeSource('f', 'data');
      execFileSync('setfattr', ['-n', 'user.test', '-v', 'hello', f]);
      execFileSync('setfacl', ['-m', 'u:nobody:r', f]);
      fs.writeFileSync(join(dst, 'attrs'), 'data');
      execFileSync('setfattr', ['-n', 'user.stale', '-v', 'x', join(dst, 'attrs')]);
      fs.writeFileSync(join(dst, 'plain'), '');
      const flags = ALL | Preserve.Xattrs | Preserve.Acls;
      const { failures } = run(
        [
          [OpKind.File, f, 'copy'],
          [OpKind.Attrs, f, 'attrs'],
        ],
        options(flags),
      );
      expect(failures).toEqual([]);
      expect(getfattr(join(dst, 'copy'))).toBe(getfattr(f));
      expect(getfattr(join(dst, 'attrs'))).toBe(getfattr(f));
      withContext((ctx) => {
        expect(ctx.xattrDiff(B(f), B('attrs'), Preserve.Xattrs | Preserve.Acls)).toBe(0);
        expect(ctx.xattrDiff(B(f), B('plain'), Preserve.Xattrs)).toBe(1);
        // 2 and 4: the ACLs differ, the access ACL among them.
        expect(ctx.xattrDiff(B(f), B('plain'), Preserve.Acls)).toBe(6);
        // basis: the second path is a --*-dest file named by its absolute path, not beneath the root.
        expect(ctx.xattrDiff(B(f), B(join(dst, 'copy')), Preserve.Xattrs | Preserve.Acls, true)).toBe(0);
        expect(ctx.xattrDiff(B(f), B(join(dst, 'plain')), Preserve.Xattrs | Preserve.Acls, true)).toBe(7);
      }, options(flags));
    });

    // An op's own x-rules (per-directory merge files: run/xattr-views.ts, native/xfilter.h "An op's
    // views"), as plan/xattr-rules.ts xattrView encodes them: the sending side's view, then after XV_GEN
    // the generator's. The context itself has no rules here.
    it("an op's own views: the sender's leaves names out, the generator's decides whether Attrs touches them", () => {
      const rules = (...r: string[]): PatternRule[] => xattrRules(FilterList.fromOptions(r.map((value) => ({ kind: 'filter' as const, value }))));
      const send = rules('-x user.s*');
      const sendOnly = xattrView(send, null, [])!;
      const both = xattrView(send, rules('-x user.secret'), [])!;
      const f = writeSource('f', 'data');
      for (const [k, v] of [['user.secret', 'S'], ['user.keep', 'K']]) execFileSync('setfattr', ['-n', k!, '-v', v!, f]);
      // Each destination file has the source's data and user.keep; what else it has decides.
      const dest = (n: string, xs: [string, string][]): void => {
        fs.writeFileSync(join(dst, n), 'data');
        for (const [k, v] of [['user.keep', 'K'], ...xs]) execFileSync('setfattr', ['-n', k!, '-v', v!, join(dst, n)]);
      };
      dest('stale', [['user.secret', 'OLD']]);
      dest('kept', [['user.secret', 'OLD']]);
      dest('other', [['user.secret', 'OLD'], ['user.only', 'O']]);
      const flags = ALL | Preserve.Xattrs;
      withContext((ctx) => {
        // Without views the source's user.secret counts; with the sender's it is left out, and the
        // destination's is the receiver's to compare (no rules of its own: it differs).
        expect(ctx.xattrDiff(B(f), B('stale'), Preserve.Xattrs)).toBe(1);
        expect(ctx.xattrDiff(B(f), B('stale'), Preserve.Xattrs, false, sendOnly)).toBe(1);
        // The generator's view hides the destination's user.secret: the same, unless something else differs.
        expect(ctx.xattrDiff(B(f), B('kept'), Preserve.Xattrs, false, both)).toBe(0);
        expect(ctx.xattrDiff(B(f), B('other'), Preserve.Xattrs, false, both)).toBe(1);
        // A malformed view is refused (a bits byte past the XR_* bits, a pattern without its NUL).
        expect(() => ctx.xattrDiff(B(f), B('kept'), Preserve.Xattrs, false, Buffer.from([0x40, 0x61, 0]))).toThrow(TypeError);
        expect(() => ctx.xattrDiff(B(f), B('kept'), Preserve.Xattrs, false, Buffer.from([0, 0x61]))).toThrow(TypeError);
      }, options(flags));
      const w = new BatchWriter();
      w.add(OpKind.File, B(f), B('copy'), statOf(f), 0, 0, undefined, sendOnly);
      w.add(OpKind.Attrs, B(f), B('stale'), statOf(f), 0, 0, undefined, sendOnly);
      w.add(OpKind.Attrs, B(f), B('kept'), statOf(f), 0, 0, undefined, both);
      w.add(OpKind.Attrs, B(f), B('other'), statOf(f), 0, 0, undefined, both);
      const ctx = openContext(options(flags));
      try {
        expect(ctx.run(w.finish(), new Uint8Array(4))).toEqual([]);
      } finally {
        ctx.close();
      }
      const keepOnly = "user.keep=0x4b";
      // The copy: without the name the sender's view leaves out.
      expect(getfattr(join(dst, 'copy'))).toBe(keepOnly);
      // rsync's receiver repairs in the command line's rules: the stale name goes...
      expect(getfattr(join(dst, 'stale'))).toBe(keepOnly);
      // ...unless the generator found nothing to report: then nothing of the xattrs changes...
      expect(getfattr(join(dst, 'kept'))).toBe(`user.keep=0x4b\nuser.secret=0x4f4c44`);
      // ...and once something else differs, its receiver removes the hidden name too.
      expect(getfattr(join(dst, 'other'))).toBe(keepOnly);
    });
  });
}
