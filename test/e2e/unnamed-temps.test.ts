// New files made unnamed (native/temp.c temp_open_new, docs/native-contract.md "Unnamed new files"): on
// the native engines a new regular file is created O_TMPFILE in its directory and linked to its name only
// once whole, so no temp name appears and a run killed mid-file leaves nothing; a name that exists by then
// (a replacement, an entry planted since the planner looked) goes the named way, a temp then a rename over
// it, never through a symlink; a filesystem whose close can report an error (FUSE) keeps the named way.
// The node engine always makes named temps. Checked on every engine: the tree against rsync's dry run,
// the calls under strace, and the file a SIGKILL finds open.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTemps, rmrf, tempDir } from '../helpers/tree.js';
import { findTempFiles } from '../helpers/compare.js';
import { runCli, show, startCli } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';
import { fuseSkipReason, mountFaultFs } from '../helpers/fusefs.js';
import { helperLibrary } from '../helpers/c-helper.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;

/** f_type of the filesystems temp.c makes unnamed files on: tmpfs, ext2/3/4, XFS, btrfs. */
const UNNAMED_FS = [0x01021994, 0xef53, 0x58465342, 0x9123683e];

let base: string;
let src: string;
/** The regular files of src, relative. */
const files: string[] = [];

beforeAll(() => {
  base = tempDir('arsync-unnamed-');
  src = path.join(base, 'src');
  const put = (rel: string, data: Buffer, mode: number): void => {
    const p = path.join(src, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
    fs.chmodSync(p, mode);
    fs.utimesSync(p, 1_650_000_000, 1_650_000_000.5);
    files.push(rel);
  };
  for (let i = 0; i < 8; i++) put(`a/f${i}`, Buffer.alloc(i * 997, 0x61 + i), [0o644, 0o600, 0o755, 0o4755, 0o400][i % 5]!);
  put('b/c/empty', Buffer.alloc(0), 0o644);
  put('b/c/big', Buffer.alloc(300_000, 7), 0o640);
  fs.symlinkSync('f1', path.join(src, 'a', 'link'));
  // As root, files of another owner (set-id bits given after the chown, which clears them): the new
  // file is chowned, then its mode set, the set-id bit kept.
  if (process.geteuid?.() === 0) {
    for (const [f, mode] of [['a/f3', 0o4755], ['a/f6', 0o2750]] as const) {
      fs.chownSync(path.join(src, f), 65534, 65534);
      fs.chmodSync(path.join(src, f), mode);
    }
  }
});
afterAll(() => removeTemps());

/** The lines of an strace log. */
const lines = (log: string): string[] => fs.readFileSync(log, 'utf8').split('\n');
const re = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A link of an unnamed file to `name`, with its result ("0" or "-1 EEXIST"). */
const linkedUnnamed = (calls: string[], name: string, result: string): boolean =>
  calls.some((l) => new RegExp(`linkat\\(\\d+, "", \\d+, "${re(name)}", AT_EMPTY_PATH\\) = ${re(result)}`).test(l));
/** A rename of one of `name`'s temp names over it. */
const renamedOver = (calls: string[], name: string): boolean => {
  const stem = re(name.startsWith('.') ? name.slice(1) : name);
  // The node engine names both by a path (/proc/self/fd/N/...), the native ones relative to a directory fd.
  return calls.some((l) => new RegExp(`rename(at2?)?\\(.*"(?:[^"]*/)?\\.${stem}\\.[A-Za-z0-9]{6}", .*"(?:[^"]*/)?${re(name)}"`).test(l));
};

/** A directory's names, or undefined once it is gone (the process exited). */
function readdirOr(dir: string): string[] | undefined {
  try {
    return fs.readdirSync(dir);
  } catch {
    return undefined;
  }
}

/** A symlink's target, or undefined once it is gone (the fd closed). */
function readlinkOr(link: string): string | undefined {
  try {
    return fs.readlinkSync(link);
  } catch {
    return undefined;
  }
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const native = e.name !== 'node';
  const caseDir = (name: string): string => {
    const d = path.join(base, `${name}-${e.name}`);
    rmrf(d);
    fs.mkdirSync(d);
    return d;
  };
  const unnamedHere = (dir: string): boolean => native && UNNAMED_FS.includes(Number(fs.statfsSync(dir).type));

  it.skipIf(!hasStrace)('a fresh copy: each new file linked in whole on the native engines, renamed from a temp on node', async () => {
    const d = caseDir('fresh');
    const dst = path.join(d, 'dst');
    const log = path.join(d, 'strace');
    const r = await runCli(['-a', eng, `${src}/`, `${dst}/`], { strace: { calls: 'openat,linkat,rename,renameat,renameat2', log } });
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(src, dst, e.name);
    expect(findTempFiles(dst)).toEqual([]);
    const calls = lines(log);
    const unnamed = unnamedHere(d);
    for (const f of files) {
      const name = path.basename(f);
      expect(linkedUnnamed(calls, name, '0'), `${f}: linked in unnamed\n${calls.join('\n')}`).toBe(unnamed);
      expect(renamedOver(calls, name), `${f}: renamed from a temp`).toBe(!unnamed);
    }
    // The symlink is made by name on every engine.
    expect(renamedOver(calls, 'link')).toBe(true);
  });

  it.skipIf(!hasStrace)('names that exist: replaced through a temp and a rename, a symlink there never followed', async () => {
    const d = caseDir('replace');
    const dst = path.join(d, 'dst');
    const victim = path.join(d, 'victim');
    fs.writeFileSync(victim, 'victim\n');
    fs.mkdirSync(path.join(dst, 'a'), { recursive: true });
    fs.writeFileSync(path.join(dst, 'a', 'f1'), 'older, other bytes');
    fs.symlinkSync(victim, path.join(dst, 'a', 'f2'));
    const log = path.join(d, 'strace');
    const r = await runCli(['-a', eng, `${src}/`, `${dst}/`], { strace: { calls: 'openat,linkat,rename,renameat,renameat2', log } });
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(src, dst, e.name);
    expect(findTempFiles(dst)).toEqual([]);
    expect(fs.readFileSync(victim, 'utf8')).toBe('victim\n');
    const calls = lines(log);
    // f1 existed: on the native engines its unnamed file met EEXIST and took a temp name first.
    expect(linkedUnnamed(calls, 'f1', '-1 EEXIST'), calls.join('\n')).toBe(unnamedHere(d));
    expect(renamedOver(calls, 'f1')).toBe(true);
  });

  it('a run killed mid-file: the file it was writing is unnamed on the native engines, and nothing is left', async () => {
    const d = caseDir('kill');
    const from = path.join(d, 'src');
    const dst = path.join(d, 'dst');
    fs.mkdirSync(from);
    fs.writeFileSync(path.join(from, 'slow'), Buffer.alloc(4 << 20, 0x5a));
    // 500 KB/s: the file takes about 8 s, so it is open when the kill comes.
    const run = startCli(['-a', '--bwlimit=500', eng, `${from}/`, `${dst}/`]);
    const pid = run.child.pid!;
    let open: string | undefined;
    for (let i = 0; i < 400 && open === undefined; i++) {
      await new Promise((res) => setTimeout(res, 25));
      const fds = readdirOr(`/proc/${pid}/fd`);
      if (fds === undefined) break;
      for (const fd of fds) {
        const to = readlinkOr(`/proc/${pid}/fd/${fd}`);
        if (to?.startsWith(`${dst}/`)) open = to;
      }
    }
    run.child.kill('SIGKILL');
    const r = await run.done;
    expect(r.signal, show(r)).toBe('SIGKILL');
    expect(open, 'the destination file was seen open').toBeDefined();
    if (unnamedHere(d)) {
      // An O_TMPFILE inode: no name, shown by its number.
      expect(open).toMatch(/\/#\d+ \(deleted\)$/);
      expect(fs.readdirSync(dst)).toEqual([]);
    } else {
      expect(path.basename(open!)).toMatch(/^\.slow\.[A-Za-z0-9]{6}$/);
      // Killed, a named temp stays, as rsync's does; the real name never holds part of the file.
      expect(fs.readdirSync(dst)).toEqual([path.basename(open!)]);
    }
  });

  // Kernels before 6.10 link a file by its descriptor only for CAP_DAC_READ_SEARCH (Debian 12's 6.1 as
  // any user but root), and a chroot may have no /proc: the shim answers both as such a kernel would.
  // temp.c asks once, before the first file's data is written, and makes every file by name.
  it.skipIf(!helperLibrary('no-flink'))('no link by descriptor and no /proc: every file made by name, exit 0, the same tree', async () => {
    const d = caseDir('no-flink');
    const dst = path.join(d, 'dst');
    const r = await runCli(['-a', eng, `${src}/`, `${dst}/`], { env: { LD_PRELOAD: helperLibrary('no-flink')! } });
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toBe('');
    expectExactCopy(src, dst, e.name);
    expect(findTempFiles(dst)).toEqual([]);
  });

  describe.skipIf(fuseSkipReason() !== null || !hasStrace)('on FUSE', () => {
    it('a destination on a FUSE mount gets named temps (its close can fail), the same tree', async () => {
      const d = caseDir('fuse');
      const backing = path.join(d, 'backing');
      fs.mkdirSync(backing);
      const m = mountFaultFs(backing, path.join(d, 'mnt'), { rw: true });
      try {
        const dst = path.join(m.path, 'dst');
        const log = path.join(d, 'strace');
        const r = await runCli(['-a', eng, `${src}/`, `${dst}/`], { strace: { calls: 'openat,linkat,rename,renameat,renameat2', log } });
        expect(r.code, show(r)).toBe(0);
        const calls = lines(log);
        expect(calls.filter((l) => l.includes('O_TMPFILE'))).toEqual([]);
        for (const f of files) expect(renamedOver(calls, path.basename(f)), f).toBe(true);
        for (const f of files) expect(fs.readFileSync(path.join(dst, f)).equals(fs.readFileSync(path.join(src, f))), f).toBe(true);
      } finally {
        m.unmount();
      }
    });
  });
});
