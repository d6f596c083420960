// Trees nested deeper than PATH_MAX (4096 bytes from the root): the native engines copy them exactly, with
// every operation relative to a directory fd held on the way down (docs/native-contract.md, "Paths longer
// than PATH_MAX"); the node engine copies what it can reach and fails each entry it cannot with rsync's
// exit 23 (the other cases are for the native engines). rsync itself refuses such paths ("filename overflows max-path len"),
// so the judge here is compareTrees, which reads long paths through held directory fds (helpers/longpath.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { archiveFlags, BIN, fidelity, LOCK, REPO, runCli, show, type CliResult } from '../helpers/cli.js';
import { compareTrees, findTempFiles, formatDiffs } from '../helpers/compare.js';
import { describeEngines } from '../helpers/e2e.js';
import { makeDeepTree, reach, releaseLongPaths } from '../helpers/longpath.js';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { showPath } from '../../src/util/errors.js';
import { PATH_MAX } from '../../src/model/path-max.js';

/** About three times PATH_MAX below the source root. */
const DEPTH = 3 * PATH_MAX;

const roots: string[] = [];
afterAll(() => {
  // fs.rmSync names whole paths and cannot remove these trees; GNU rm walks them by fd.
  for (const r of roots) spawnSync('rm', ['-rf', r]);
  removeTemps();
});

function setup(): { root: string; src: string; dst: string } {
  const root = tempDir('arsync-deep-');
  roots.push(root);
  const src = path.join(root, 'src');
  fs.mkdirSync(src);
  makeDeepTree(src, DEPTH);
  return { root, src, dst: path.join(root, 'dst') };
}

/** The CLI with openat2 failing ENOSYS (seccomp), as on kernels before 5.6 and older container profiles. */
function runWithoutOpenat2(args: string[]): Promise<CliResult> {
  const argv = ['-s', LOCK, 'python3', path.join(REPO, 'test', 'helpers', 'noopenat2.py'), process.execPath, BIN, ...args];
  return new Promise((resolve) => {
    const child = spawn('flock', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, argv: ['noopenat2.py', 'arsync', ...args] }));
  });
}

const abs = (root: string, rel: Buffer): Buffer => Buffer.concat([Buffer.from(root + '/'), rel]);

/** Write `data` to the file at rel (any depth) and give it this mtime. */
function rewrite(root: string, rel: Buffer, data: string, sec: number): void {
  const p = reach(abs(root, rel));
  fs.writeFileSync(p, data);
  fs.utimesSync(p, sec, sec);
  releaseLongPaths();
}

function exists(root: string, rel: Buffer): boolean {
  try {
    fs.lstatSync(reach(abs(root, rel)));
    return true;
  } catch {
    return false;
  } finally {
    releaseLongPaths();
  }
}

describeEngines((e) => {
  const engine = e.name;
  const native = engine !== 'node';
  const flags = archiveFlags(engine);
  const f = fidelity(engine);
  const cmp = { xattrs: f.xattrs, acls: f.acls, mtimeToleranceNs: f.mtimeToleranceNs };

  // The native engines resolve long paths a chunk at a time (longpath.c) and must copy exactly. The node
  // engine reaches most entries through held directory descriptors (/proc/self/fd/N/name) but still
  // names some by whole path: it must copy what it can and fail each entry it cannot reach (exit 23,
  // ENAMETOOLONG), never an internal error.
  it(native ? 'copies a tree nested to 3 x PATH_MAX exactly' : 'copies the tree, or fails only the entries beyond PATH_MAX with exit 23', async () => {
    const { src, dst } = setup();
    const r = await runCli([`--engine=${engine}`, ...flags, `${src}/`, `${dst}/`]);
    expect(r.stderr).not.toMatch(/internal error|TypeError|RangeError|\n\s+at /);
    expect(findTempFiles(dst, src)).toEqual([]);
    if (native || r.code === 0) {
      expect(r.code, show(r)).toBe(0);
      expect(formatDiffs(compareTrees(src, dst, cmp))).toEqual([]);
      return;
    }
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr).toMatch(/File name too long \(36\)/);
    // Every difference is an entry that could not be named whole on one side or the other.
    const diffs = compareTrees(src, dst, cmp);
    const unreachable = (rel: Buffer): boolean => abs(src, rel).length >= PATH_MAX || abs(dst, rel).length >= PATH_MAX;
    const other = diffs.filter((d) => !unreachable(d.path));
    expect(formatDiffs(other), 'differences on entries whose paths fit').toEqual([]);
    for (const d of diffs) expect(d.what, showPath(d.path)).toBe('missing in dst');
  });

  it.runIf(native)('a re-sync of the deep tree finds deep changes, deletes deep extras, and is then a no-op', async () => {
    const { src, dst } = setup();
    const first = await runCli([`--engine=${engine}`, ...flags, `${src}/`, `${dst}/`]);
    expect(first.code, show(first)).toBe(0);
    const { bottom } = makeDeepTreeInfo(src);
    const file = Buffer.concat([bottom, Buffer.from('/bottom')]);
    rewrite(src, file, 'changed at the bottom\n', 1_600_000_000);
    // The parent's mtime moved with the rewrite on neither side; an extra file does move dst's.
    const extra = Buffer.concat([bottom, Buffer.from('/extra')]);
    fs.writeFileSync(reach(abs(dst, extra)), 'extraneous\n');
    releaseLongPaths();
    const r = await runCli([`--engine=${engine}`, ...flags, '--delete', '-i', `${src}/`, `${dst}/`]);
    expect(r.stderr).toBe('');
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/\*deleting .*\/extra\n/);
    expect(r.stdout).toMatch(/>f\.st\.{6} .*\/bottom\n/);
    expect(exists(dst, extra)).toBe(false);
    expect(formatDiffs(compareTrees(src, dst, cmp))).toEqual([]);
    const again = await runCli([`--engine=${engine}`, ...flags, '--delete', '-i', `${src}/`, `${dst}/`]);
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toBe('');
  });

  it.runIf(native)('a symlink planted in the destination beyond PATH_MAX never redirects a write', async () => {
    const { root, src, dst } = setup();
    const first = await runCli([`--engine=${engine}`, ...flags, `${src}/`, `${dst}/`]);
    expect(first.code, show(first)).toBe(0);
    // A directory about 2 x PATH_MAX down (below it the chain is resolved in chunks) becomes a symlink to
    // a directory outside; then a file below it changes in the source.
    const { bottom } = makeDeepTreeInfo(src);
    const parts = bottom.toString('latin1').split('/');
    const mid = Buffer.from(parts.slice(0, Math.ceil((2 * PATH_MAX) / 204)).join('/'), 'latin1');
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'file'), 'outside, must stay\n');
    const moved = Buffer.concat([mid, Buffer.from('.moved')]);
    fs.renameSync(reach(abs(dst, mid)), reach(abs(dst, moved)));
    fs.symlinkSync(outside, reach(abs(dst, mid)));
    releaseLongPaths();
    const below = Buffer.concat([mid, Buffer.from('/file')]);
    rewrite(src, below, 'changed below the planted link\n', 1_650_000_000);
    const r = await runCli([`--engine=${engine}`, ...flags, '--delete', `${src}/`, `${dst}/`]);
    expect(fs.readdirSync(outside)).toEqual(['file']);
    expect(fs.readFileSync(path.join(outside, 'file'), 'utf8')).toBe('outside, must stay\n');
    // rsync replaces the symlink with the source's directory and succeeds.
    expect(r.code, show(r)).toBe(0);
    expect(fs.lstatSync(reach(abs(dst, mid))).isDirectory()).toBe(true);
    releaseLongPaths();
    expect(formatDiffs(compareTrees(src, dst, cmp))).toEqual([]);
  });

  for (const noOpenat2 of [false, true]) {
    const run = (args: string[]): Promise<CliResult> => (noOpenat2 ? runWithoutOpenat2(args) : runCli(args));
    const how = noOpenat2 ? ' (without openat2: the O_NOFOLLOW component walk)' : '';
    it.runIf(native)(`an attacker swapping a directory on the way beyond PATH_MAX for a symlink never redirects a write${how}`, async () => {
      const { root, src, dst } = setup();
      const first = await run([`--engine=${engine}`, ...flags, `${src}/`, `${dst}/`]);
      expect(first.code, show(first)).toBe(0);
      expect(formatDiffs(compareTrees(src, dst, cmp))).toEqual([]);
      const { bottom } = makeDeepTreeInfo(src);
      const parts = bottom.toString('latin1').split('/');
      // Level 10 lies in the first chunk (levels 0-19, < PATH_MAX) of every destination path deeper than
      // PATH_MAX, so those resolve through it link by link. `outside` mirrors the levels below it down to
      // level 20: a resolution that followed the planted link would find its way in there and write.
      const at = 10;
      const parent = parts.slice(0, at).join('/');
      const name = parts[at]!;
      const outside = path.join(root, 'outside');
      const mirror = path.join(outside, ...parts.slice(at + 1, 21));
      fs.mkdirSync(mirror, { recursive: true });
      fs.writeFileSync(path.join(outside, 'file'), 'outside, must stay\n');
      fs.writeFileSync(path.join(mirror, 'file'), 'outside, must stay\n');
      const snap = path.join(root, 'outside-snap');
      spawnSync('cp', ['-a', outside, snap]);
      // Every file changes, so every op below the attacked directory resolves a path through it.
      spawnSync('find', [src, '-type', 'f', '-exec', 'touch', '-d', '@1700000000', '{}', '+']);
      const stop = path.join(root, 'stop');
      // The attacker works fd-relative (the path is too long to name): rename the real directory away,
      // plant a symlink to `outside` in its place, put the directory back; over and over.
      const script = [
        'import os, sys, time',
        'fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)',
        'for c in sys.argv[2].split("/") if sys.argv[2] else []:',
        '    n = os.open(c, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd); os.close(fd); fd = n',
        'name, aside, end = sys.argv[3], sys.argv[3] + ".real", time.time() + 60',
        'swaps = 0',
        'while not os.path.exists(sys.argv[5]) and time.time() < end:',
        '    os.rename(name, aside, src_dir_fd=fd, dst_dir_fd=fd)',
        '    os.symlink(sys.argv[4], name, dir_fd=fd)',
        '    time.sleep(0.0005)',
        // arsync may have replaced the link by a directory of its own meanwhile: moved aside as junk
        // (the final --delete run removes it).
        '    try:',
        '        os.unlink(name, dir_fd=fd)',
        '    except IsADirectoryError:',
        '        os.rename(name, "%s.junk%d" % (name, swaps), src_dir_fd=fd, dst_dir_fd=fd)',
        '    except FileNotFoundError:',
        '        pass',
        '    os.rename(aside, name, src_dir_fd=fd, dst_dir_fd=fd)',
        '    swaps += 1',
        '    if swaps == 1:',
        '        print("ready", flush=True)',
        'print(swaps)',
      ].join('\n');
      const attacker = spawn('python3', ['-c', script, dst, parent, name, outside, stop], { stdio: ['ignore', 'pipe', 'pipe'] });
      let swaps = '';
      let aerr = '';
      const exited = new Promise<number | null>((res) => attacker.on('exit', (code) => res(code)));
      attacker.stderr.on('data', (d: Buffer) => (aerr += d.toString()));
      // The run starts once the attacker is at work (a fast run could otherwise end before it begins).
      await new Promise<void>((res) => {
        attacker.stdout.on('data', (d: Buffer) => {
          swaps += d.toString();
          if (swaps.startsWith('ready')) res();
        });
        void exited.then(() => res());
      });
      const r = await run([`--engine=${engine}`, ...flags, `${src}/`, `${dst}/`]);
      fs.writeFileSync(stop, '');
      expect(await exited, aerr).toBe(0);
      expect(Number(swaps.trim().split('\n').pop()), 'the attacker ran').toBeGreaterThan(1);

      expect(formatDiffs(compareTrees(snap, outside)), 'outside changed').toEqual([]);
      expect(findTempFiles(outside), 'temp files outside').toEqual([]);
      expect(r.stderr).not.toMatch(/internal error|TypeError|RangeError|\n\s+at /);
      expect([0, 23], show(r)).toContain(r.code);
      // Once the attacker has stopped, a re-run completes the copy exactly.
      const again = await run([`--engine=${engine}`, ...flags, '--delete', `${src}/`, `${dst}/`]);
      expect(again.code, show(again)).toBe(0);
      expect(formatDiffs(compareTrees(src, dst, cmp))).toEqual([]);
      expect(findTempFiles(dst, src)).toEqual([]);
    });
  }

  it.runIf(native)('-L copies what a symlink beyond PATH_MAX points to', async () => {
    const { src, dst } = setup();
    const { bottom } = makeDeepTreeInfo(src);
    // Dangling links (every level's "link", the bottom's "blink") are errors, as in rsync ("symlink has no
    // referent"; past PATH_MAX, rsync's line for a name that long); the working one at the bottom becomes a
    // copy of its target.
    const r = await runCli([`--engine=${engine}`, '-rtL', `${src}/`, `${dst}/`]);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines.pop()).toMatch(/\(code 23\)$/);
    for (const l of lines) expect(l).toMatch(/^(symlink has no referent: ".*\/b?link"|filename overflows max-path len by \d+: .*\/b?link)$/);
    expect(lines.filter((l) => /\/blink"?$/.test(l))).toHaveLength(1);
    expect(r.code, show(r)).toBe(23);
    const flink = reach(abs(dst, Buffer.concat([bottom, Buffer.from('/flink')])));
    expect(fs.lstatSync(flink).isFile()).toBe(true);
    expect(fs.readFileSync(flink)).toEqual(Buffer.alloc(300_000, 0x61));
    releaseLongPaths();
  });

  it.runIf(native)('-c, --backup and --remove-source-files work on entries beyond PATH_MAX', async () => {
    const { src, dst } = setup();
    const first = await runCli([`--engine=${engine}`, ...flags, `${src}/`, `${dst}/`]);
    expect(first.code, show(first)).toBe(0);
    const { bottom } = makeDeepTreeInfo(src);
    const file = Buffer.concat([bottom.subarray(0, bottom.lastIndexOf(0x2f)), Buffer.from('/file')]);
    // Same size and mtime, other bytes: only -c finds it.
    const st = fs.lstatSync(reach(abs(src, file)));
    const old = fs.readFileSync(reach(abs(src, file)));
    const changed = Buffer.from(old.toString('latin1').replace(/l/g, 'L'), 'latin1');
    fs.writeFileSync(reach(abs(src, file)), changed);
    fs.utimesSync(reach(abs(src, file)), st.atime, st.mtime);
    releaseLongPaths();
    const r = await runCli([`--engine=${engine}`, ...flags, '-c', '--backup', '--remove-source-files', `${src}/`, `${dst}/`]);
    expect(r.stderr).toBe('');
    expect(r.code, show(r)).toBe(0);
    expect(fs.readFileSync(reach(abs(dst, file)))).toEqual(changed);
    expect(fs.readFileSync(reach(abs(dst, Buffer.concat([file, Buffer.from('~')]))))).toEqual(old);
    releaseLongPaths();
    // Every regular file was sent or already there: all are removed from the source, at every depth.
    expect(exists(src, file)).toBe(false);
    expect(exists(src, Buffer.concat([bottom, Buffer.from('/bottom')]))).toBe(false);
  });

  // -L: a link to a directory is followed through its own path, which the kernel resolves in one call. rsync
  // stops at any name past PATH_MAX ("filename overflows max-path len by N: NAME", exit 23, the rest
  // copied); arsync copies real directories at any depth and fails only a link it cannot follow there,
  // with rsync's line, never an internal error.
  it('-L with a link to a directory past PATH_MAX: rsync\'s overflow line for it, exit 23, the rest copied', async () => {
    const { root, src, dst } = setup();
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'o'), 'outside\n');
    const { bottom } = makeDeepTreeInfo(src);
    const deepLink = Buffer.concat([bottom, Buffer.from('/dirlink')]);
    fs.symlinkSync(outside, reach(abs(src, deepLink)));
    releaseLongPaths();
    fs.symlinkSync(outside, path.join(src, 'toplink'));
    const r = await runCli([`--engine=${engine}`, '-rL', `${src}/`, `${dst}/`]);
    expect(r.stderr).not.toMatch(/internal error|TypeError|RangeError|\n\s+at /);
    expect(r.code, show(r)).toBe(23);
    const over = abs(src, deepLink).length - 4095;
    expect(r.stderr.split('\n')).toContain(`filename overflows max-path len by ${over}: ${showPath(abs(src, deepLink))}`);
    expect(fs.readFileSync(path.join(dst, 'toplink/o'), 'utf8')).toBe('outside\n');
    expect(exists(dst, deepLink)).toBe(false);
    if (native) expect(exists(dst, Buffer.concat([bottom, Buffer.from('/bottom')]))).toBe(true);
  });
});

/** The deepest directory of a tree made by makeDeepTree (found again by walking down its d... chain). */
function makeDeepTreeInfo(root: string): { bottom: Buffer } {
  let rel = Buffer.alloc(0);
  for (;;) {
    const here = reach(rel.length ? abs(root, rel) : Buffer.from(root));
    const next = fs.readdirSync(here, { encoding: 'buffer' }).find((n) => n.length > 200);
    if (!next) break;
    rel = rel.length ? Buffer.concat([rel, Buffer.from('/'), next]) : next;
  }
  releaseLongPaths();
  return { bottom: rel };
}
