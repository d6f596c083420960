// A source file that shrinks after the open's fstat (rsync's source-change-size-continues test): rsync's
// diagnosis and exit code, the later files still copied, and rsync's redo: the shrunk file warned about
// ("failed verification -- update discarded (will try again)"), copied once more after the pass as the
// source holds it by then, under the file list's mtime (run/redo.ts). The sync and
// node engines meet it through an LD_PRELOAD shim that truncates the file just before its first read
// (test/helpers/shrink-read.c: the calls each engine reads with, and rsync's read(), so rsync runs under
// the same fault); the uring engine reads through the ring, so its case cuts the file inside faultfs (a
// FUSE source whose read past an offset truncates the file there).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { findTempFiles } from '../helpers/compare.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { helperLibrary } from '../helpers/c-helper.js';
import { bytes } from '../helpers/differential.js';
import { fuseSkipReason, mountFaultFs, type FaultMount } from '../helpers/fusefs.js';
import { fakeRsh } from '../helpers/fake-rsh.js';

const mounts: FaultMount[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) m.unmount();
});
afterAll(() => removeTemps());

const MiB = 1 << 20;
const LATER = 'later file must still transfer\n';

/** rsync's case: a 1 MiB file first in the list, a small one after it. */
function sourceTree(src: string): void {
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, '01-changing.bin'), bytes(MiB, 7));
  fs.writeFileSync(path.join(src, '02-later.txt'), LATER);
}

/** stderr without the tool's name and rsync's "at main.c(...) [sender=...]" tail. */
const diagnosis = (stderr: string): string[] =>
  stderr
    .trim()
    .split('\n')
    .map((l) => l.replace(/^a?rsync( error)?:/, '$1:').replace(/ at \S+\(\d+\) \[\w+=[\d.]+\]$/, ''));

const shim = helperLibrary('shrink-read');
const fuse = fuseSkipReason();

describeEngines((e) => {
  const engine = e.name;
  /** The shim cuts the file to this many bytes: the redo places them. */
  const CUT = 5000;
  const OLD = new Date('2011-12-13T14:15:16Z');

  for (const mode of [[], ['--no-whole-file'], ['-i', '--stats'], ['-v']]) {
    it.skipIf(engine === 'uring' || !shim)(`shrinks after the open ${mode.join(' ')}: rsync's "read errors mapping", its WARNING and redo, exit 23, the file as the source holds it (as rsync under the same shim)`, async () => {
      const tree = () => {
        const root = tempDir(`arsync-shrink-${engine}-`);
        const src = path.join(root, 'src');
        const dst = path.join(root, 'dest');
        sourceTree(src);
        for (const p of [path.join(src, '01-changing.bin'), path.join(src, '02-later.txt'), src]) fs.utimesSync(p, OLD, OLD);
        fs.mkdirSync(dst);
        return { src, dst, env: { LD_PRELOAD: shim!, ARSYNC_TEST_SHRINK: path.join(src, '01-changing.bin'), ARSYNC_TEST_SHRINK_TO: String(CUT) } };
      };
      const a = tree();
      const r = spawnSync('rsync', ['-a', ...mode, `${a.src}/`, `${a.dst}/`], { encoding: 'utf8', env: { ...process.env, ...a.env } });
      const b = tree();
      const got = await runCli(['-a', ...mode, `--engine=${engine}`, `${b.src}/`, `${b.dst}/`], { env: b.env });

      // The shim did cut the file, in both runs.
      expect(fs.statSync(path.join(a.src, '01-changing.bin')).size).toBe(CUT);
      expect(fs.statSync(path.join(b.src, '01-changing.bin')).size).toBe(CUT);
      expect(r.status, r.stderr).toBe(23);
      expect(got.code, show(got)).toBe(23);
      const line = (src: string): string => `: [sender] read errors mapping "${src}/01-changing.bin": No data available (61)`;
      const names = mode.includes('-i') || mode.includes('-v');
      const warning = names ? ['WARNING: 01-changing.bin failed verification -- update discarded (will try again).'] : [];
      const tail = ' error: some files/attrs were not transferred (see previous errors) (code 23)';
      expect(diagnosis(r.stderr)).toEqual([line(a.src), ...warning, tail]);
      expect(diagnosis(got.stderr)).toEqual([line(b.src), ...warning, tail]);
      // The same lines (the file named again for its redo), and --stats' figures counting both sends; the
      // protocol's byte counts and the times are rsync's own.
      const own = /^(Total bytes|sent |total size|File list generation time)/;
      const out = (s: string): string[] => s.split('\n').filter((l) => !own.test(l));
      expect(out(got.stdout)).toEqual(out(r.stdout));
      if (names) expect(got.stdout.split('\n').filter((l) => l.endsWith('01-changing.bin'))).toHaveLength(2);
      for (const d of [a.dst, b.dst]) {
        expect(fs.readFileSync(path.join(d, '02-later.txt'), 'utf8')).toBe(LATER);
        // The redo placed what the source held by then, with the file list's mtime.
        expect(fs.readFileSync(path.join(d, '01-changing.bin'))).toEqual(bytes(MiB, 7).subarray(0, CUT));
        expect(fs.statSync(path.join(d, '01-changing.bin')).mtime).toEqual(OLD);
      }
      expect(findTempFiles(b.dst)).toEqual([]);
    });
  }

  for (const mode of [['--inplace'], ['--partial'], ['--partial-dir=.p'], ['--delay-updates'], ['--remove-source-files'], ['--backup']]) {
    it.skipIf(engine === 'uring' || !shim)(`shrinks after the open, an old version there, -i ${mode.join(' ')}: rsync's lines, its redo, the source kept where rsync keeps it`, async () => {
      const tree = () => {
        const root = tempDir(`arsync-shrink-mode-${engine}-`);
        const src = path.join(root, 'src');
        const dst = path.join(root, 'dest');
        sourceTree(src);
        fs.mkdirSync(dst);
        fs.writeFileSync(path.join(dst, '01-changing.bin'), 'old');
        for (const p of [path.join(src, '01-changing.bin'), path.join(src, '02-later.txt'), src, path.join(dst, '01-changing.bin')]) fs.utimesSync(p, OLD, OLD);
        return { src, dst, env: { LD_PRELOAD: shim!, ARSYNC_TEST_SHRINK: path.join(src, '01-changing.bin'), ARSYNC_TEST_SHRINK_TO: String(CUT) } };
      };
      const a = tree();
      const r = spawnSync('rsync', ['-ai', ...mode, `${a.src}/`, `${a.dst}/`], { encoding: 'utf8', env: { ...process.env, ...a.env } });
      const b = tree();
      const got = await runCli(['-ai', ...mode, `--engine=${engine}`, `${b.src}/`, `${b.dst}/`], { env: b.env });
      expect(got.code, show(got)).toBe(r.status);
      const errs = (stderr: string, src: string): string[] => diagnosis(stderr).map((l) => l.replace(src, 'SRC'));
      expect(errs(got.stderr, b.src)).toEqual(errs(r.stderr, a.src));
      expect(got.stdout.split('\n').filter((l) => l.includes('.bin') || l.includes('.txt'))).toEqual(r.stdout.split('\n').filter((l) => l.includes('.bin') || l.includes('.txt')));
      expect(fs.readdirSync(b.dst).sort()).toEqual(fs.readdirSync(a.dst).sort());
      expect(fs.readdirSync(b.src).sort()).toEqual(fs.readdirSync(a.src).sort());
      expect(fs.readFileSync(path.join(b.dst, '01-changing.bin'))).toEqual(fs.readFileSync(path.join(a.dst, '01-changing.bin')));
      expect(fs.statSync(path.join(b.dst, '01-changing.bin')).size).toBe(CUT);
    });
  }

  it.skipIf(fuse !== null)(`shrinks while read (faultfs): rsync's "read errors mapping", exit 23, the later file copied, the redo places what the source holds (as rsync on the same faultfs)`, async () => {
    const run = async (tool: 'rsync' | 'arsync') => {
      const root = tempDir(`arsync-shrink-fuse-${engine}-`);
      const backing = path.join(root, 'backing');
      sourceTree(backing);
      fs.utimesSync(path.join(backing, '01-changing.bin'), OLD, OLD);
      // The read that reaches 64 KiB gets the bytes before it, then the file is cut there.
      const m = mountFaultFs(backing, path.join(root, 'mnt'), { shrink: 65536 });
      mounts.push(m);
      const dst = path.join(root, 'dest');
      // An old version is there: it is replaced only by the redo's copy.
      fs.mkdirSync(dst);
      fs.writeFileSync(path.join(dst, '01-changing.bin'), 'old\n');
      const args = ['-a', '-i', `${m.path}/`, `${dst}/`];
      if (tool === 'rsync') {
        const res = spawnSync('rsync', args, { encoding: 'utf8' });
        return { backing, m, dst, code: res.status, stdout: res.stdout, stderr: res.stderr, shown: res.stderr };
      }
      const res = await runCli([...args, `--engine=${engine}`]);
      return { backing, m, dst, code: res.code, stdout: res.stdout, stderr: res.stderr, shown: show(res) };
    };
    const r = await run('rsync');
    const got = await run('arsync');
    expect(r.code, r.shown).toBe(23);
    expect(got.code, got.shown).toBe(23);
    for (const x of [r, got]) {
      expect(diagnosis(x.stderr)).toEqual([
        `: [sender] read errors mapping "${x.m.path}/01-changing.bin": No data available (61)`,
        'WARNING: 01-changing.bin failed verification -- update discarded (will try again).',
        ' error: some files/attrs were not transferred (see previous errors) (code 23)',
      ]);
      expect(fs.statSync(path.join(x.backing, '01-changing.bin')).size).toBe(65536);
      expect(fs.readFileSync(path.join(x.dst, '02-later.txt'), 'utf8')).toBe(LATER);
      expect(fs.readFileSync(path.join(x.dst, '01-changing.bin'))).toEqual(bytes(MiB, 7).subarray(0, 65536));
      expect(fs.statSync(path.join(x.dst, '01-changing.bin')).mtime).toEqual(OLD);
      expect(findTempFiles(x.dst)).toEqual([]);
    }
    const items = (s: string): string[] => s.split('\n').filter((l) => l.includes('.bin') || l.includes('.txt'));
    expect(items(got.stdout)).toEqual(items(r.stdout));
  });

  it.skipIf(!shim)(`a push whose source shrinks after the open: rsync's "read errors mapping" by full path, exit 23, the later file sent (as rsync's client under the same shim)`, async () => {
    const tree = () => {
      const root = tempDir(`arsync-shrink-push-${engine}-`);
      const src = path.join(root, 'src');
      sourceTree(src);
      return { root, src, dst: path.join(root, 'dest'), rsh: fakeRsh(root), env: { LD_PRELOAD: shim!, ARSYNC_TEST_SHRINK: path.join(src, '01-changing.bin') } };
    };
    const a = tree();
    const r = spawnSync('rsync', ['-a', '-e', a.rsh, `${a.src}/`, `host:${a.dst}/`], { encoding: 'utf8', env: { ...process.env, ...a.env } });
    const b = tree();
    // A relative source: the message still names the file by its full path, as rsync's full_fname does.
    const got = await runCli(['-a', `--engine=${engine}`, '-e', b.rsh, 'src/', `host:${b.dst}/`], { env: b.env, cwd: b.root });
    expect(r.status, r.stderr).toBe(23);
    expect(got.code, show(got)).toBe(23);
    const line = (src: string): string => `: [sender] read errors mapping "${src}/01-changing.bin": No data available (61)`;
    expect(diagnosis(r.stderr)).toContain(line(a.src));
    expect(diagnosis(got.stderr)).toContain(line(b.src));
    expect(fs.readFileSync(path.join(b.dst, '02-later.txt'), 'utf8')).toBe(LATER);
    // rsync's redo sends what the source holds by then (nothing); arsync's redo still finds the file short
    // of the list's size, so the far side discards it: no file of the wrong size is placed either way.
    expect(fs.existsSync(path.join(b.dst, '01-changing.bin'))).toBe(false);
    expect(fs.statSync(path.join(a.dst, '01-changing.bin')).size).toBe(0);
  });
});
