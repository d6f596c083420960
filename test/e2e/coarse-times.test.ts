// Coarse destinations (issue 9) on a real FUSE filesystem: exfat-fuse on a loop device. Its daemon (on
// libfuse 2) keeps whole seconds, and drops a time change that names only the mtime; the quick check
// must compare at the granularity the probe finds, and every engine must leave the source's mtimes on
// disk, so that a re-sync copies nothing. Differential against rsync with --modify-window=1, what
// rsync users pass for FAT-like destinations, on a second image of the same kind.
//
// fusefat (vfat) is not tested: its daemon segfaults when asked to set the root directory's times,
// under rsync itself as under arsync (Debian's fusefat 0.1a).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, expect, it } from 'vitest';
import { isRoot, removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show, type CliResult } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Why exfat-fuse cannot be mounted here, or null. */
function skipReason(): string | null {
  if (!isRoot) return 'mounting a loop device needs root';
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse on this machine';
  const tools: [string, string][] = [
    ['mount.exfat-fuse', 'exfat-fuse'],
    ['mkfs.exfat', 'exfatprogs'],
    ['losetup', 'mount'],
  ];
  for (const [cmd, pkg] of tools) {
    if (!has(cmd)) return `${cmd} is missing (apt-get install ${pkg})`;
  }
  // A container may have the tools but no loop devices or no FUSE mounts: try the whole thing once.
  const base = tempDir('arsync-coarse-probe-');
  try {
    mountExfat(base, 'probe');
    return null;
  } catch (err) {
    return `exfat-fuse cannot be mounted here: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    for (const f of cleanups.splice(0).reverse()) f();
  }
}

const cleanups: (() => void)[] = [];
const skip = skipReason();

afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});
afterAll(() => removeTemps());

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A fresh exFAT filesystem on a loop device, mounted through exfat-fuse; unmounted after the test. */
function mountExfat(base: string, name: string): string {
  // The image lives on disk, not /dev/shm: the loop device reads it back through the page cache either way.
  const img = path.join(base, `${name}.img`);
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 32 * 1024 * 1024);
  run('mkfs.exfat', [img]);
  const dev = run('losetup', ['-f', '--show', img]).trim();
  cleanups.push(() => void spawnSync('losetup', ['-d', dev]));
  const mnt = path.join(base, name);
  fs.mkdirSync(mnt);
  run('mount.exfat-fuse', ['-o', 'allow_other', dev, mnt]);
  cleanups.push(() => {
    if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
  });
  const type = run('stat', ['-f', '-c', '%T', mnt]).trim();
  if (!/fuse/.test(type)) throw new Error(`${mnt} is ${type}, not a FUSE mount`);
  return mnt;
}

/** A source whose times all have a fraction of a second (which exFAT through exfat-fuse drops). */
function makeSource(base: string): string {
  const src = path.join(base, 'src');
  fs.mkdirSync(path.join(src, 'd', 'e'), { recursive: true });
  const files: [string, string, number][] = [
    ['a.txt', 'alpha\n', 1_600_000_000.123],
    ['b.bin', 'x'.repeat(70_000), 1_600_000_100.987],
    ['d/c.txt', 'charlie\n', 1_600_000_200.5],
    ['d/e/f.txt', '', 1_600_000_300.25],
  ];
  for (const [rel, data, t] of files) {
    fs.writeFileSync(path.join(src, rel), data);
    fs.utimesSync(path.join(src, rel), t, t);
  }
  for (const [rel, t] of [['d/e', 1_600_001_000.75], ['d', 1_600_002_000.75], ['', 1_600_003_000.75]] as const) {
    fs.utimesSync(path.join(src, rel), t, t);
  }
  return src;
}

/** Every entry beneath `root`: type, size, bytes' length and content digest, mtime in whole seconds. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const n of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.lstatSync(path.join(root, r));
      const sec = Math.floor(st.mtimeMs / 1000);
      if (st.isDirectory()) {
        out[`${r}/`] = `dir mtime=${sec}`;
        walk(r);
      } else {
        out[r] = `file size=${st.size} mtime=${sec} data=${fs.readFileSync(path.join(root, r)).toString('base64').slice(0, 40)}`;
      }
    }
  };
  walk('');
  return out;
}

function transferred(r: CliResult): number {
  const m = /Number of regular files transferred: (\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no --stats line in\n${show(r)}`);
  return Number(m[1]);
}

/** The -i lines of a run (everything before --stats' figures), in order. */
function itemized(out: string): string[] {
  return out.split('\n').filter((l) => /^[.<>ch*][fdLDS]/.test(l));
}

function rsync(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('rsync', args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A file of the source rewritten with other bytes of the same size, its mtime moved on by `by` seconds. */
function rewriteSameSize(file: string, by: number): void {
  const st = fs.statSync(file);
  const data = fs.readFileSync(file);
  fs.writeFileSync(file, Buffer.from(data.map((b) => (b === 0x41 ? 0x42 : 0x41))));
  fs.utimesSync(file, st.atime, new Date(st.mtimeMs + by * 1000));
}

describeEngines((e) => {
  const engine = `--engine=${e.name}`;

  it.skipIf(skip !== null)(`exfat-fuse: -rt keeps mtimes, a re-sync copies nothing, a same-size change is copied${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    const base = tempDir('arsync-coarse-');
    const src = makeSource(base);
    const dst = mountExfat(base, 'dst');

    const first = await runCli(['-rt', engine, `${src}/`, `${dst}/`]);
    expect(first.code, show(first)).toBe(0);
    // Every entry holds the source's time to the second (exfat-fuse keeps no fraction).
    expect(tree(dst)).toEqual(tree(src));
    expect(fs.readdirSync(dst).filter((n) => n.startsWith('.'))).toEqual([]);

    const again = await runCli(['-rti', '--stats', engine, `${src}/`, `${dst}/`]);
    expect(again.code, show(again)).toBe(0);
    expect(itemized(again.stdout), show(again)).toEqual([]);
    expect(transferred(again), show(again)).toBe(0);

    // Same size, new bytes, mtime two seconds later: beyond the granularity, so it is copied.
    rewriteSameSize(path.join(src, 'd/c.txt'), 2);
    const changed = await runCli(['-rti', '--stats', engine, `${src}/`, `${dst}/`]);
    expect(changed.code, show(changed)).toBe(0);
    expect(itemized(changed.stdout), show(changed)).toEqual(['>f..t...... d/c.txt']);
    expect(transferred(changed), show(changed)).toBe(1);
    expect(tree(dst)).toEqual(tree(src));

    // An attribute-only fix (--size-only leaves the data, -t sets the time): it holds, and is not redone.
    fs.utimesSync(path.join(dst, 'a.txt'), 1_500_000_000, 1_500_000_000);
    const attrs = await runCli(['-rti', '--size-only', engine, `${src}/`, `${dst}/`]);
    expect(attrs.code, show(attrs)).toBe(0);
    expect(itemized(attrs.stdout), show(attrs)).toEqual(['.f..t...... a.txt']);
    expect(tree(dst)).toEqual(tree(src));
    const none = await runCli(['-rti', '--size-only', engine, `${src}/`, `${dst}/`]);
    expect(itemized(none.stdout), show(none)).toEqual([]);
  });

  it.skipIf(skip !== null)(`exfat-fuse: the same lines, exit codes and trees as rsync --modify-window=1${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    const base = tempDir('arsync-coarse-');
    const src = makeSource(base);
    const theirs = mountExfat(base, 'rsync');
    const ours = mountExfat(base, 'arsync');
    const steps: [string, () => void][] = [
      ['copy', () => undefined],
      ['re-sync', () => undefined],
      ['same-size change', () => rewriteSameSize(path.join(src, 'b.bin'), 3)],
      // The new file and its directory get fixed past times: left at "now", the directory's time would be
      // within --modify-window of the moment each tool writes into it, and whether it is set would depend
      // on which side of a second boundary rsync and arsync happened to run.
      ['new file', () => {
        fs.writeFileSync(path.join(src, 'd/e/g.txt'), 'golf\n');
        fs.utimesSync(path.join(src, 'd/e/g.txt'), 1_600_000_400.5, 1_600_000_400.5);
        fs.utimesSync(path.join(src, 'd/e'), 1_600_001_500.25, 1_600_001_500.25);
      }],
    ];
    for (const [step, change] of steps) {
      change();
      const args = ['-rti', '--modify-window=1'];
      const r = rsync([...args, `${src}/`, `${theirs}/`]);
      const a = await runCli([...args, engine, `${src}/`, `${ours}/`]);
      expect(a.code, `${step}\n${show(a)}`).toBe(r.code);
      expect(itemized(a.stdout), `${step}\n${show(a)}\nrsync:\n${r.stdout}${r.stderr}`).toEqual(itemized(r.stdout));
      expect(tree(ours), step).toEqual(tree(theirs));
    }
  });
});
