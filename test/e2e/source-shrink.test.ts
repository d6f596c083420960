// A source file that shrinks after the open's fstat (rsync's source-change-size-continues test): rsync's
// diagnosis and exit code, nothing of the shrunk file placed, the later files still copied. The sync and
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
import { faultLib } from '../helpers/fault-lib.js';
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

const shim = faultLib('shrink-read');
const fuse = fuseSkipReason();

describeEngines((e) => {
  const engine = e.name;

  for (const mode of [[], ['--no-whole-file']]) {
    it.skipIf(engine === 'uring' || !shim)(`shrinks after the open ${mode.join(' ')}: rsync's "read errors mapping", exit 23, the later file copied, nothing placed (as rsync under the same shim)`, async () => {
      const tree = () => {
        const root = tempDir(`arsync-shrink-${engine}-`);
        const src = path.join(root, 'src');
        const dst = path.join(root, 'dest');
        sourceTree(src);
        fs.mkdirSync(dst);
        return { src, dst, env: { LD_PRELOAD: shim!, ARSYNC_TEST_SHRINK: path.join(src, '01-changing.bin') } };
      };
      const a = tree();
      const r = spawnSync('rsync', ['-a', ...mode, `${a.src}/`, `${a.dst}/`], { encoding: 'utf8', env: { ...process.env, ...a.env } });
      const b = tree();
      const got = await runCli(['-a', ...mode, `--engine=${engine}`, `${b.src}/`, `${b.dst}/`], { env: b.env });

      // The shim did cut the file, in both runs.
      expect(fs.statSync(path.join(a.src, '01-changing.bin')).size).toBe(0);
      expect(fs.statSync(path.join(b.src, '01-changing.bin')).size).toBe(0);
      expect(r.status, r.stderr).toBe(23);
      expect(got.code, show(got)).toBe(23);
      const line = (src: string): string => `: [sender] read errors mapping "${src}/01-changing.bin": No data available (61)`;
      expect(diagnosis(r.stderr)).toEqual([line(a.src), ' error: some files/attrs were not transferred (see previous errors) (code 23)']);
      expect(diagnosis(got.stderr)).toEqual([line(b.src), ' error: some files/attrs were not transferred (see previous errors) (code 23)']);
      expect(fs.readFileSync(path.join(b.dst, '02-later.txt'), 'utf8')).toBe(LATER);
      expect(fs.readFileSync(path.join(a.dst, '02-later.txt'), 'utf8')).toBe(LATER);
      // arsync places nothing of the file it could not read whole (DESIGN §3); rsync's redo pass sends it
      // again and places what the source holds by then (here, zero bytes).
      expect(fs.existsSync(path.join(b.dst, '01-changing.bin'))).toBe(false);
      expect(findTempFiles(b.dst)).toEqual([]);
    });
  }

  it.skipIf(fuse !== null)(`shrinks while read (faultfs): rsync's "read errors mapping", exit 23, the later file copied, nothing placed`, async () => {
    const root = tempDir(`arsync-shrink-fuse-${engine}-`);
    const backing = path.join(root, 'backing');
    sourceTree(backing);
    // The read that reaches 64 KiB gets the bytes before it, then the file is cut there.
    const m = mountFaultFs(backing, path.join(root, 'mnt'), { shrink: 65536 });
    mounts.push(m);
    const dst = path.join(root, 'dest');
    const got = await runCli(['-a', `--engine=${engine}`, `${m.path}/`, `${dst}/`]);
    expect(got.code, show(got)).toBe(23);
    expect(diagnosis(got.stderr)).toEqual([
      `: [sender] read errors mapping "${m.path}/01-changing.bin": No data available (61)`,
      ' error: some files/attrs were not transferred (see previous errors) (code 23)',
    ]);
    expect(fs.statSync(path.join(backing, '01-changing.bin')).size).toBe(65536);
    expect(fs.readFileSync(path.join(dst, '02-later.txt'), 'utf8')).toBe(LATER);
    expect(fs.existsSync(path.join(dst, '01-changing.bin'))).toBe(false);
    expect(findTempFiles(dst)).toEqual([]);
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
