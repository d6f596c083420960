// Error paths with real kernel faults: ENOSPC on a small tmpfs, a file unreadable for a non-root user,
// EMFILE under `ulimit -n`, SIGTERM mid-copy, sources that vanish. rsync's exit codes: 11 file I/O,
// 20 signal, 23 partial transfer, 24 vanished.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Rng, isRoot, makeSmallTree, makeTree, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { compareTrees, findTempFiles, formatDiffs, walk } from '../helpers/compare.js';
import { runCli, show, startCli, type Running } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';
import { helperLibrary } from '../helpers/c-helper.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

let base: string;
const mounts: string[] = [];

beforeAll(() => {
  base = tempDir('arsync-errors-');
  fs.chmodSync(base, 0o755); // the non-root test needs to get in
});
afterAll(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  removeTemps();
});

let many: string | null = null;
/** One shared source of 2500 files (made on first use). */
function manyFiles(): string {
  if (!many) {
    many = path.join(base, 'many-files');
    makeTree(many, { seed: 64, catalogue: false, files: 2500, maxFileSize: 100_000, xattrs: false, acls: false });
  }
  return many;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll (no timing assertion: only a bound against hangs) until cond() or the process exits. */
async function until(run: Running, cond: () => boolean): Promise<boolean> {
  let exited = false;
  void run.done.then(() => (exited = true));
  for (let i = 0; i < 20_000 && !exited; i++) {
    if (cond()) return true;
    await sleep(2);
  }
  return false;
}

/** Wait until every thread of pid is stopped (state T), so nothing more happens in user space. */
async function stopped(pid: number): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    const states = fs.readdirSync(`/proc/${pid}/task`).map((t) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
      } catch {
        return 'T';
      }
    });
    if (states.every((st) => st === 'T' || st === 't')) break;
    await sleep(1);
  }
  await sleep(50); // let io_uring work already handed to the kernel settle
}

const countFiles = (dir: string): number => {
  try {
    return fs.readdirSync(dir).filter((n) => !n.startsWith('.')).length;
  } catch {
    return 0;
  }
};

/** A flat directory of n files with 1 MiB-ish of random data each, cheap to make (one random block reused). */
function flatTree(dir: string, n: number, size: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const block = new Rng(n).bytes(size + n);
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(dir, `f${String(i).padStart(5, '0')}`), block.subarray(i, i + size));
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const dir = (name: string): string => {
    const d = path.join(base, `${name}-${e.name}`);
    // A test run again (CI retries a failed one) starts from nothing, not from the first run's leftovers.
    fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(d, { mode: 0o755 });
    fs.chmodSync(d, 0o755);
    return d;
  };

  it.skipIf(!isRoot)('ENOSPC on a 1 MiB tmpfs: exit 11 or 23, the old destination file intact, no temp file', async () => {
    const d = dir('enospc');
    const mnt = path.join(d, 'mnt');
    fs.mkdirSync(mnt);
    sh(`mount -t tmpfs -o size=1m tmpfs '${mnt}'`);
    mounts.push(mnt);
    try {
      const src = path.join(d, 'src');
      const dst = path.join(mnt, 'dst');
      fs.mkdirSync(src);
      fs.mkdirSync(dst);
      const old = new Rng(1).bytes(100_000);
      fs.writeFileSync(path.join(dst, 'big'), old);
      fs.writeFileSync(path.join(src, 'big'), new Rng(2).bytes(3 * 1024 * 1024));
      fs.writeFileSync(path.join(src, 'small'), 'small');
      sh(`touch -d @1700000000 '${src}/big'`);

      const r = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
      expect([11, 23], show(r)).toContain(r.code);
      // rsync's receiver's words for it, naming the file (not its temp name).
      expect(r.stderr, show(r)).toContain(`[receiver] write failed on "${dst}/big": No space left on device (28)`);
      expect(fs.readFileSync(path.join(dst, 'big')).equals(old), 'old destination file changed').toBe(true);
      expect(findTempFiles(mnt), 'temp files left on the full filesystem').toEqual([]);
    } finally {
      spawnSync('umount', [mnt]);
      mounts.splice(mounts.indexOf(mnt), 1);
    }
  });

  it.skipIf(!isRoot)('--partial on ENOSPC: the part kept with the finished mode, mtime 0 at its name, as rsync keeps it', async () => {
    const d = dir('enospc-partial');
    const src = path.join(d, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'big'), new Rng(3).bytes(3 * 1024 * 1024));
    fs.chmodSync(path.join(src, 'big'), 0o754);
    sh(`touch -d @1700000000 '${src}/big'`);
    /** A fresh 1 MiB tmpfs holding an empty dst/, unmounted when the test ends. */
    const small = (name: string): string => {
      const mnt = path.join(d, name);
      fs.mkdirSync(mnt);
      sh(`mount -t tmpfs -o size=1m tmpfs '${mnt}'`);
      mounts.push(mnt);
      fs.mkdirSync(path.join(mnt, 'dst'));
      return path.join(mnt, 'dst');
    };
    const kept = (f: string): { mode: number; mtime: number; size: number } => {
      const st = fs.statSync(f);
      return { mode: st.mode & 0o7777, mtime: Math.trunc(st.mtimeMs / 1000), size: st.size };
    };
    try {
      for (const opts of [['--partial'], ['--partial-dir=.part']]) {
        const ours = small(`a${opts[0]!.length}`);
        const theirs = small(`r${opts[0]!.length}`);
        const r = await runCli(['-a', eng, ...opts, `${src}/`, `${ours}/`]);
        expect([11, 23], show(r)).toContain(r.code);
        const rs = spawnSync('rsync', ['-a', ...opts, `${src}/`, `${theirs}/`], { encoding: 'utf8' });
        expect(rs.status, rs.stderr).toBe(11);
        const at = opts[0] === '--partial' ? 'big' : '.part/big';
        const want = kept(path.join(theirs, at));
        const got = kept(path.join(ours, at));
        expect(got.size, show(r)).toBeGreaterThan(0);
        // The mode and, at the file's own name, the time rsync's cleanup gives (a partial dir's file keeps
        // the time of its writes under both); the size is what fitted, which differs by a block or two.
        expect(got.mode, `${opts[0]}: mode`).toBe(want.mode);
        expect(want.mode).toBe(0o754);
        if (opts[0] === '--partial') expect([got.mtime, want.mtime], `${opts[0]}: mtime`).toEqual([0, 0]);
        else expect(got.mtime, `${opts[0]}: mtime`).toBeGreaterThan(1700000000);
        expect(findTempFiles(path.dirname(ours)), 'temp files left').toEqual([]);
      }
    } finally {
      for (const m of mounts.filter((m) => m.startsWith(d))) {
        spawnSync('umount', [m]);
        mounts.splice(mounts.indexOf(m), 1);
      }
    }
  });

  it.skipIf(!isRoot)('a rename refused (EBUSY: a file mounted over the target): rsync\'s line naming the target, exit 23, the target untouched, no temp, with and without --partial', async () => {
    const d = dir('rename-busy');
    const src = path.join(d, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a'), new Rng(4).bytes(100_000));
    fs.writeFileSync(path.join(src, 'b'), 'b');
    const held = path.join(d, 'held');
    fs.writeFileSync(held, 'held');
    try {
      for (const opts of [[], ['--partial']]) {
        const tag = opts.length ? 'p' : 'n';
        /** A destination whose `a` is a file mounted over it: rename onto it fails with EBUSY. */
        const dest = (who: string): string => {
          const dst = path.join(d, `${who}-${tag}`);
          fs.mkdirSync(dst);
          fs.writeFileSync(path.join(dst, 'a'), 'old');
          sh(`mount --bind '${held}' '${dst}/a'`);
          mounts.push(path.join(dst, 'a'));
          return dst;
        };
        const ours = dest('ours');
        const theirs = dest('theirs');
        const r = await runCli(['-a', eng, ...opts, `${src}/`, `${ours}/`]);
        const rs = spawnSync('rsync', ['-a', ...opts, `${src}/`, `${theirs}/`], { encoding: 'utf8' });
        expect(rs.status, rs.stderr).toBe(23);
        expect(r.code, show(r)).toBe(23);
        // rsync names its temp (random letters) and the target; arsync the same template for every engine.
        const line = (dst: string, prog: string): RegExp =>
          new RegExp(`^${prog}: \\[receiver\\] rename "${dst}/\\.a\\.[A-Za-z0-9]{6}" -> "a": Device or resource busy \\(16\\)$`, 'm');
        expect(rs.stderr).toMatch(line(theirs, 'rsync'));
        expect(r.stderr, show(r)).toMatch(line(ours, 'arsync'));
        for (const dst of [ours, theirs]) {
          expect(fs.readFileSync(path.join(dst, 'a'), 'utf8'), `${dst}: the mounted file`).toBe('held');
          expect(fs.readFileSync(path.join(dst, 'b'), 'utf8'), `${dst}: the other file`).toBe('b');
          expect(findTempFiles(dst), `${dst}: temp files left`).toEqual([]);
          spawnSync('umount', [path.join(dst, 'a')]);
          mounts.splice(mounts.indexOf(path.join(dst, 'a')), 1);
          expect(fs.readFileSync(path.join(dst, 'a'), 'utf8'), `${dst}: the file under the mount`).toBe('old');
        }
      }
    } finally {
      for (const m of mounts.filter((m) => m.startsWith(d))) {
        spawnSync('umount', [m]);
        mounts.splice(mounts.indexOf(m), 1);
      }
    }
  });

  it.skipIf(!isRoot)('a file unreadable for the (non-root) user: exit 23, the path named, the rest copied', async () => {
    const d = dir('unreadable');
    const src = path.join(d, 'src');
    const dst = path.join(d, 'dst');
    makeSmallTree(src, 21);
    fs.writeFileSync(path.join(src, 'secret'), 'root only');
    fs.chmodSync(path.join(src, 'secret'), 0o600);
    sh(`chmod -R a+rX '${src}' && chmod 0600 '${src}/secret'`);
    fs.mkdirSync(dst);
    fs.chownSync(dst, 65534, 65534);
    fs.mkdirSync(`${d}/rsync-dst`);
    fs.chownSync(`${d}/rsync-dst`, 65534, 65534);

    const r = await runCli(['-a', eng, `${src}/`, `${dst}/`], { user: NOBODY });
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr, show(r)).toMatch(/secret/);
    expect(r.stderr, show(r)).toMatch(/Permission denied|EACCES/);
    const diffs = formatDiffs(compareTrees(src, dst, { owners: false, xattrs: false, acls: false, mtimeToleranceNs: e.name === 'node' ? 1000 : 0 }));
    expect(diffs).toEqual(['secret: missing in dst']);
    expect(findTempFiles(dst, src)).toEqual([]);

    // rsync agrees on the exit code for the same situation.
    const rs = rsyncAs(NOBODY, ['-a', `${src}/`, `${d}/rsync-dst/`]);
    expect(rs.code, rs.stderr).toBe(23);
  });

  // 64 is what a tight container might give; 40 and 32 leave little beyond what Node and the pool need at
  // start (below about 24 Node itself cannot start), so the walk and the copiers must share what is left.
  it.each([64, 40, 32])('EMFILE under ulimit -n %i with thousands of files: concurrency drops, the run still succeeds', async (n) => {
    const d = dir(`emfile${n}`);
    const src = manyFiles();
    const dst = path.join(d, 'dst');
    const r = await runCli(['-aH', eng, '--queue-depth=256', `${src}/`, `${dst}/`], { ulimitN: n });
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(src, dst, e.name, { withXattrs: false });
  });

  // Below 32 descriptors Node cannot start (under ~18) or the run loses files (24-28 measured): the
  // command refuses before anything is read or written, and says why.
  it.each([16, 20, 31])('under ulimit -n %i: refused at the start with the reason, exit 11, nothing written', async (n) => {
    const d = dir(`fewfds${n}`);
    const src = manyFiles();
    const dst = path.join(d, 'dst');
    const r = await runCli(['-a', eng, `${src}/`, `${dst}/`], { ulimitN: n });
    expect(r.code, show(r)).toBe(11);
    expect(r.stderr).toBe(`arsync: the open-file limit (ulimit -n) is ${n}: arsync needs at least 32 file descriptors\narsync error: error in file IO (code 11)\n`);
    expect(fs.existsSync(dst)).toBe(false);
  });

  // Buffers registered with io_uring count against the user's RLIMIT_MEMLOCK, which every process of that
  // user shares (root is exempt): as a user left no lockable memory the uring engine could not start
  // ("internal error ... ENOMEM (io_uring_register)", exit 11; seen in CI when several runs as nobody
  // overlapped). It copies with plain reads and writes of the same buffers then.
  it.skipIf(!isRoot)('as a user with no lockable memory left (ulimit -l 64): the copy still runs, exact', async () => {
    const d = dir('memlock');
    const src = path.join(d, 'src');
    const dst = path.join(d, 'dst');
    const rng = new Rng(31);
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(src, i % 3 ? 'sub' : '.', `f${i}`), rng.bytes(i % 10 === 0 ? (3 << 20) + i : rng.int(1, 70_000)));
    sh(`chmod -R a+rX '${d}'`);
    fs.mkdirSync(dst);
    fs.chownSync(dst, 65534, 65534);
    const r = await runCli(['-rlpt', eng, `${src}/`, `${dst}/`], { user: NOBODY, ulimitL: 64 });
    expect(r.code, show(r)).toBe(0);
    expect(formatDiffs(compareTrees(src, dst, { owners: false, xattrs: false, acls: false, mtimeToleranceNs: e.name === 'node' ? 1000 : 0 }))).toEqual([]);
    expect(findTempFiles(dst, src)).toEqual([]);
  });

  // One worker of the pool cannot start (no descriptor for its event loop) while the other is copying:
  // the batches go to the main thread, and the busy worker is let finish its batch, never stopped in the
  // middle of a file (which left its temp file in the destination, with exit 0). Only the node engine
  // could be cut there: the addon engines run a batch in one native call, which stopping a worker waits for.
  it.skipIf(!helperLibrary('epoll-fault'))('a pool worker that cannot start while another copies: exit 0, the exact copy, no temp file left', async () => {
    const d = dir('lost-worker');
    const src = manyFiles();
    const dst = path.join(d, 'dst');
    // Node makes 3 epoll instances before the pool starts (strace), then one per worker: the 5th is the
    // second worker's (should that count change, both workers fail: the run must still be right).
    const env = { LD_PRELOAD: helperLibrary('epoll-fault')!, ARSYNC_TEST_EPOLL_FAIL_FROM: '5' };
    const r = await runCli(['-aH', eng, '--queue-depth=256', `${src}/`, `${dst}/`], { env });
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(src, dst, e.name, { withXattrs: false });
  });

  it('SIGTERM mid-copy: exit 20, no temp files, every file present in dst is complete', async () => {
    const d = dir('sigterm');
    const src = path.join(d, 'src');
    const dst = path.join(d, 'dst');
    for (let i = 0; i < 4; i++) flatTree(path.join(src, `part${i}`), 1500, 96 * 1024);
    const run = startCli(['-a', eng, `${src}/`, `${dst}/`]);
    const mid = await until(run, () => countFiles(path.join(dst, 'part0')) > 0);
    expect(mid, 'the copy finished before it could be interrupted: make the tree bigger').toBe(true);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code, show(r)).toBe(20);
    expect(findTempFiles(dst, src)).toEqual([]);
    // Whatever made it under a real name is whole (temp file + rename): same bytes as the source.
    let present = 0;
    for (const [k, ent] of walk(dst)) {
      if (!ent.st.isFile()) continue;
      present++;
      const rel = Buffer.from(k, 'latin1');
      expect(fs.readFileSync(Buffer.concat([Buffer.from(dst + '/'), rel])).equals(fs.readFileSync(Buffer.concat([Buffer.from(src + '/'), rel]))), `${k} is partial`).toBe(true);
    }
    expect(present, 'SIGTERM did not stop the copy').toBeLessThan(6000);
  });

  it('a source file removed mid-run: exit 24 with rsync\'s "vanished" wording; the rest copied', async () => {
    const d = dir('vanish');
    const src = path.join(d, 'src');
    const dst = path.join(d, 'dst');
    flatTree(path.join(src, 'flat'), 4000, 48 * 1024);
    const run = startCli(['-a', eng, '--workers=1', `${src}/`, `${dst}/`]);
    // Once one file of the (single) directory is in dst, that directory has been listed; stop the copier,
    // delete every file not copied yet, let it go on: those are vanished files (rsync: exit 24).
    const mid = await until(run, () => countFiles(path.join(dst, 'flat')) > 0);
    expect(mid, 'the copy finished before files could be removed: make the tree bigger').toBe(true);
    run.child.kill('SIGSTOP');
    await stopped(run.child.pid as number);
    const copied = new Set(fs.readdirSync(path.join(dst, 'flat')));
    let removed = 0;
    for (const n of fs.readdirSync(path.join(src, 'flat'))) {
      if (!copied.has(n)) {
        fs.unlinkSync(path.join(src, 'flat', n));
        removed++;
      }
    }
    run.child.kill('SIGCONT');
    const r = await run.done;
    expect(removed, 'nothing left to remove').toBeGreaterThan(0);
    expect(r.code, show(r)).toBe(24);
    expect(r.stderr, show(r)).toMatch(/vanished/);
    expect(findTempFiles(dst, src)).toEqual([]);
    // Directory mtimes changed under it (we deleted files), so compare everything but times. A file whose
    // copy was already in flight (io_uring work continues while the process is stopped) may be in dst.
    const diffs = formatDiffs(compareTrees(src, dst, { times: false, xattrs: false, acls: false }));
    expect(diffs.filter((l) => !/^flat\/f\d+: extra in dst$/.test(l))).toEqual([]);
  });

  it('a missing source operand: the same exit code as rsync, the path named, the other source copied', async () => {
    const d = dir('missing-arg');
    const src = path.join(d, 'src');
    makeSmallTree(src, 5);
    const missing = path.join(d, 'no-such-source');
    const rs = spawnSync('rsync', ['-a', `${src}/`, missing, `${d}/rsync-dst/`], { encoding: 'utf8' });
    const r = await runCli(['-a', eng, `${src}/`, missing, `${d}/dst/`]);
    expect(r.code, show(r)).toBe(rs.status);
    expect(r.stderr, show(r)).toContain(missing);
    expectExactCopy(src, `${d}/dst`, e.name, { withXattrs: false });
  });
});
