// Backups that cannot be made, and backups steered by planted symlinks (issue 7, items 3 and 4). Rule
// (DESIGN.md §3.7): a file whose backup cannot be made is neither replaced nor deleted; the error is
// reported and the run goes on (exit 23). A backup directory on another filesystem gets copies (rsync
// copies across devices); an empty directory at the backup name is removed (as rsync does). Nothing under
// the backup directory or in the destination is ever reached through a symlink.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { Rng, isRoot, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { findTempFiles } from '../helpers/compare.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';

const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  removeTemps();
});

/** A tmpfs of `size` at a new directory `dir` (unmounted after the file). */
function tmpfs(dir: string, size: string): string {
  fs.mkdirSync(dir, { recursive: true });
  sh(`mount -t tmpfs -o size=${size},mode=0755 tmpfs '${dir}'`);
  mounts.push(dir);
  return dir;
}

const read = (p: string): Buffer => fs.readFileSync(p);
const T_OLD = 1_600_000_000;

/** src and dst side by side: dst holds the old versions (f, sub/g, link, gone), src the new ones. */
type Old = { f: Buffer; 'sub/g': Buffer; gone: Buffer };

function pair(root: string, oldBig?: Buffer): { src: string; dst: string; old: Old } {
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(dst, 'sub'), { recursive: true });
  const old: Old = { f: Buffer.from('old f\n'), 'sub/g': Buffer.from('old g\n'), gone: Buffer.from('deleted by --delete\n') };
  for (const [rel, data] of Object.entries(old)) {
    fs.writeFileSync(path.join(dst, rel), data);
    fs.chmodSync(path.join(dst, rel), 0o640);
    fs.utimesSync(path.join(dst, rel), T_OLD, T_OLD);
  }
  fs.symlinkSync('old-target', path.join(dst, 'link'));
  fs.writeFileSync(path.join(src, 'f'), 'new f, longer\n');
  fs.writeFileSync(path.join(src, 'sub/g'), 'new g, longer\n');
  fs.symlinkSync('new-target', path.join(src, 'link'));
  if (oldBig) {
    fs.writeFileSync(path.join(dst, 'big'), oldBig);
    fs.writeFileSync(path.join(src, 'big'), new Rng(9).bytes(oldBig.length + 1000));
  }
  return { src, dst, old };
}

const noCrash = (r: { stdout: string; stderr: string }): void => {
  expect(r.stderr + r.stdout).not.toMatch(/internal error|\n\s+at |TypeError|RangeError/);
};

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  it.skipIf(!isRoot)('--backup-dir on another filesystem (EXDEV): the old versions are copied there, metadata kept', async () => {
    const root = tempDir('arsync-bak-exdev-');
    const { src, dst, old } = pair(root);
    const bak = tmpfs(path.join(root, 'bak'), '8m');
    const r = await runCli(['-a', '--delete', eng, `--backup-dir=${bak}`, `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(0);
    for (const [rel, data] of Object.entries(old)) {
      expect(read(path.join(bak, rel)).equals(data), `bak/${rel} holds the old bytes: ${show(r)}`).toBe(true);
      const st = fs.statSync(path.join(bak, rel));
      expect(st.mode & 0o7777, `bak/${rel} mode`).toBe(0o640);
      expect(Math.floor(st.mtimeMs / 1000), `bak/${rel} mtime`).toBe(T_OLD);
    }
    expect(fs.readlinkSync(path.join(bak, 'link'))).toBe('old-target');
    expect(read(path.join(dst, 'f')).toString()).toBe('new f, longer\n');
    expect(read(path.join(dst, 'sub/g')).toString()).toBe('new g, longer\n');
    expect(fs.readlinkSync(path.join(dst, 'link'))).toBe('new-target');
    expect(fs.existsSync(path.join(dst, 'gone')), 'gone deleted (moved to the backup)').toBe(false);
    expect(findTempFiles(bak)).toEqual([]);
  });

  it.skipIf(!isRoot)('a full backup filesystem: the file is not replaced or deleted, exit 23, no temp left', async () => {
    const root = tempDir('arsync-bak-full-');
    const oldBig = new Rng(3).bytes(400_000);
    const { src, dst, old } = pair(root, oldBig);
    const bak = tmpfs(path.join(root, 'bak'), '1m');
    // Room for the small backups (a page each), not for big's 400 kB.
    fs.writeFileSync(path.join(bak, 'filler'), Buffer.alloc(1024 * 1024 - 200 * 1024, 1));
    const r = await runCli(['-a', '--delete', eng, `--backup-dir=${bak}`, `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr, show(r)).toMatch(/ENOSPC|No space left/);
    expect(r.stderr, 'names the file').toMatch(/big/);
    // The destination keeps the old version: nothing else has it.
    expect(read(path.join(dst, 'big')).equals(oldBig), `dst/big untouched: ${show(r)}`).toBe(true);
    expect(findTempFiles(bak)).toEqual([]);
    expect(findTempFiles(dst)).toEqual([]);
    // Wherever a backup was made, the replacement went ahead; wherever not, the old file is still in dst.
    for (const [rel, data] of Object.entries(old)) {
      const backedUp = fs.existsSync(path.join(bak, rel)) && read(path.join(bak, rel)).equals(data);
      const kept = fs.existsSync(path.join(dst, rel)) && read(path.join(dst, rel)).equals(data);
      expect(backedUp || kept, `old ${rel} survives somewhere: ${show(r)}`).toBe(true);
    }
  });

  it.skipIf(!isRoot)('a full backup filesystem with --delete: a deletion whose backup fails leaves the file', async () => {
    const root = tempDir('arsync-bak-fulldel-');
    const src = path.join(root, 'src');
    const dst = path.join(root, 'dst');
    fs.mkdirSync(src);
    fs.mkdirSync(dst);
    const doomed = new Rng(4).bytes(300_000);
    fs.writeFileSync(path.join(dst, 'doomed'), doomed);
    const bak = tmpfs(path.join(root, 'bak'), '1m');
    fs.writeFileSync(path.join(bak, 'filler'), Buffer.alloc(900 * 1024, 1));
    const r = await runCli(['-a', '--delete', eng, `--backup-dir=${bak}`, `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(23);
    expect(read(path.join(dst, 'doomed')).equals(doomed), `dst/doomed kept: ${show(r)}`).toBe(true);
    expect(findTempFiles(bak)).toEqual([]);
  });

  it('a --backup-dir that names a file ends the run before anything is written, as rsync (exit 1, its words)', async () => {
    for (const given of ['afile', 'afile/', '@ABS']) {
      const out: Record<string, { code: number | null; stderr: string; dst: string[] }> = {};
      for (const tool of ['rsync', 'arsync'] as const) {
        const root = tempDir(`arsync-bkfile-${e.name}-`);
        const { src, dst } = pair(root);
        fs.writeFileSync(path.join(dst, 'afile'), 'not a directory\n');
        const dir = given === '@ABS' ? path.join(dst, 'afile') : given;
        const r = tool === 'rsync' ? spawnSync('rsync', ['-a', '-b', `--backup-dir=${dir}`, `${src}/`, `${dst}/`], { encoding: 'utf8' }) : await runCli([eng, '-a', '-b', `--backup-dir=${dir}`, `${src}/`, `${dst}/`]);
        const code = 'status' in r ? r.status : r.code;
        out[tool] = { code, stderr: r.stderr.replaceAll(root, 'ROOT').replace(/^rsync error: received SIGUSR1 \(code 19\).*\n/gm, '').replace(/^rsync error: (.*) at \S+ \[.*\]$/gm, 'arsync error: $1'), dst: fs.readdirSync(dst).sort() };
      }
      expect(out['arsync'], given).toEqual(out['rsync']);
      expect(out['arsync']!.code, given).toBe(1);
      expect(out['arsync']!.stderr, given).toMatch(/^The backup-dir is not a directory: /m);
    }
  });

  it('an empty directory at the backup name is removed and the backup made (suffix and --backup-dir)', async () => {
    const root = tempDir('arsync-bak-eisdir-');
    const { src, dst, old } = pair(root);
    fs.mkdirSync(path.join(dst, 'f~'));
    fs.mkdirSync(path.join(dst, 'sub/g~'));
    const r = await runCli(['-a', eng, '--backup', `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(0);
    expect(read(path.join(dst, 'f~')).equals(old.f), `dst/f~ is the old f: ${show(r)}`).toBe(true);
    expect(read(path.join(dst, 'sub/g~')).equals(old['sub/g'])).toBe(true);
    expect(read(path.join(dst, 'f')).toString()).toBe('new f, longer\n');

    const root2 = tempDir('arsync-bak-eisdir2-');
    const p2 = pair(root2);
    fs.mkdirSync(path.join(root2, 'bak/sub'), { recursive: true });
    fs.mkdirSync(path.join(root2, 'bak/sub/g'));
    const r2 = await runCli(['-a', eng, '--backup-dir=../bak', `${p2.src}/`, `${p2.dst}/`]);
    noCrash(r2);
    expect(r2.code, show(r2)).toBe(0);
    expect(read(path.join(root2, 'bak/sub/g')).equals(p2.old['sub/g']), show(r2)).toBe(true);
  });

  it('a non-empty directory at the backup name: the file is not replaced, exit 23', async () => {
    const root = tempDir('arsync-bak-notempty-');
    const { src, dst, old } = pair(root);
    fs.mkdirSync(path.join(dst, 'f~'));
    fs.writeFileSync(path.join(dst, 'f~/keep'), 'mine');
    const r = await runCli(['-a', eng, '--backup', `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(23);
    expect(read(path.join(dst, 'f')).equals(old.f), `dst/f untouched: ${show(r)}`).toBe(true);
    expect(read(path.join(dst, 'f~/keep')).toString()).toBe('mine');
    // The others went ahead, with their backups.
    expect(read(path.join(dst, 'sub/g')).toString()).toBe('new g, longer\n');
    expect(read(path.join(dst, 'sub/g~')).equals(old['sub/g'])).toBe(true);
    expect(findTempFiles(dst)).toEqual([]);
  });

  it('a symlink planted below the backup directory is never followed', async () => {
    const root = tempDir('arsync-bak-plant-');
    const { src, dst, old } = pair(root);
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    fs.mkdirSync(path.join(root, 'bak'));
    fs.symlinkSync(outside, path.join(root, 'bak/sub'));
    const r = await runCli(['-a', eng, '--backup-dir=../bak', `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(0);
    expect(fs.readdirSync(outside), `nothing written through the planted link: ${show(r)}`).toEqual([]);
    expect(fs.lstatSync(path.join(root, 'bak/sub')).isDirectory(), 'bak/sub is a real directory now').toBe(true);
    expect(read(path.join(root, 'bak/sub/g')).equals(old['sub/g'])).toBe(true);
    expect(read(path.join(root, 'bak/f')).equals(old.f)).toBe(true);
  });

  it('a backup directory inside the destination that is a planted symlink: refused, nothing written outside', async () => {
    const root = tempDir('arsync-bak-plantdst-');
    const { src, dst, old } = pair(root);
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(dst, '.versions'));
    const r = await runCli(['-a', eng, '--backup-dir=.versions', `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(23);
    expect(fs.readdirSync(outside), `nothing written through the planted link: ${show(r)}`).toEqual([]);
    // No backup, so no replacement.
    expect(read(path.join(dst, 'f')).equals(old.f), `dst/f untouched: ${show(r)}`).toBe(true);
    expect(read(path.join(dst, 'sub/g')).equals(old['sub/g'])).toBe(true);
  });

  it('every replacing op waits for its backup: a hard link (-H), a directory, a --link-dest link', async () => {
    const root = tempDir('arsync-bak-kinds-');
    const src = path.join(root, 'src');
    const dst = path.join(root, 'dst');
    const prev = path.join(root, 'prev');
    for (const d of [src, dst, prev]) fs.mkdirSync(d);
    // -H: h2 becomes a link to h1 (a Hardlink op); dir: a file replaced by a directory (Mkdir);
    // same: identical to prev/same, so it is hard-linked from --link-dest (LinkFrom).
    fs.writeFileSync(path.join(src, 'h1'), 'linked data\n');
    fs.utimesSync(path.join(src, 'h1'), T_OLD, T_OLD);
    fs.linkSync(path.join(src, 'h1'), path.join(src, 'h2'));
    // dst/h1 is already up to date, so it leads the group and only h2 is (re)linked.
    fs.copyFileSync(path.join(src, 'h1'), path.join(dst, 'h1'));
    fs.chmodSync(path.join(dst, 'h1'), fs.statSync(path.join(src, 'h1')).mode & 0o7777);
    fs.utimesSync(path.join(dst, 'h1'), T_OLD, T_OLD);
    fs.mkdirSync(path.join(src, 'dir'));
    fs.writeFileSync(path.join(src, 'dir/inside'), 'x');
    fs.writeFileSync(path.join(src, 'same'), 'same\n');
    fs.writeFileSync(path.join(prev, 'same'), 'same\n');
    fs.utimesSync(path.join(src, 'same'), T_OLD, T_OLD);
    fs.utimesSync(path.join(prev, 'same'), T_OLD, T_OLD);
    const olds: Record<string, string> = { h2: 'old h2\n', dir: 'old file where a dir goes\n', same: 'old same\n' };
    for (const [n, data] of Object.entries(olds)) {
      fs.writeFileSync(path.join(dst, n), data);
      // A non-empty directory at each backup name: every backup fails.
      fs.mkdirSync(path.join(dst, `${n}~`));
      fs.writeFileSync(path.join(dst, `${n}~/keep`), 'mine');
    }
    const r = await runCli(['-aH', eng, '--backup', `--link-dest=${prev}`, `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(23);
    for (const [n, data] of Object.entries(olds)) {
      expect.soft(fs.lstatSync(path.join(dst, n)).isFile(), `dst/${n} still the old file: ${show(r)}`).toBe(true);
      expect.soft(read(path.join(dst, n)).toString(), `dst/${n} untouched: ${show(r)}`).toBe(data);
      expect(read(path.join(dst, `${n}~/keep`)).toString()).toBe('mine');
    }
    expect(read(path.join(dst, 'h1')).toString()).toBe('linked data\n');
    expect(findTempFiles(dst)).toEqual([]);
  });

  it('a backup directory made under --backup-dir gets its destination twin\'s mode (a private dir stays private)', async () => {
    const root = tempDir('arsync-bak-mode-');
    const { src, dst, old } = pair(root);
    fs.chmodSync(path.join(src, 'sub'), 0o700);
    fs.chmodSync(path.join(dst, 'sub'), 0o700);
    const r = await runCli(['-a', eng, '--backup-dir=../bak', `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(0);
    expect(fs.statSync(path.join(root, 'bak/sub')).mode & 0o7777, show(r)).toBe(0o700);
    expect(read(path.join(root, 'bak/sub/g')).equals(old['sub/g'])).toBe(true);
  });

  it('--inplace --backup: the backup is a separate copy of the old bytes', async () => {
    const root = tempDir('arsync-bak-inplace-');
    const { src, dst, old } = pair(root);
    const r = await runCli(['-a', eng, '--inplace', '--backup', `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(0);
    expect(read(path.join(dst, 'f~')).equals(old.f), show(r)).toBe(true);
    expect(read(path.join(dst, 'f')).toString()).toBe('new f, longer\n');
  });

  it('a backup directory that is the destination itself, with an empty suffix, never costs the file', async () => {
    // rsync refuses the spellings it can see (exit 1); a symlink to the destination is caught by the
    // engines (the backup name would be the file itself), so the file is kept and reported (exit 23).
    const root = tempDir('arsync-bak-self-');
    for (const dir of ['', '.', 'DST']) {
      const { src, dst, old } = pair(path.join(root, `spelled${dir.length}`));
      const r = await runCli(['-a', eng, `--backup-dir=${dir === 'DST' ? dst : dir}`, `${src}/`, `${dst}/`]);
      noCrash(r);
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr).toMatch(/--suffix cannot be empty when --backup-dir is the same as the dest dir/);
      expect(read(path.join(dst, 'f')).equals(old.f), show(r)).toBe(true);
    }
    const { src, dst, old } = pair(path.join(root, 'linked'));
    fs.symlinkSync(dst, path.join(root, 'linked', 'alias'));
    const r = await runCli(['-a', eng, '--delete', '--backup-dir=../alias', `${src}/`, `${dst}/`]);
    noCrash(r);
    expect(r.code, show(r)).toBe(23);
    for (const rel of ['f', 'sub/g', 'gone'] as const) expect(read(path.join(dst, rel)).equals(old[rel]), `${rel}: ${show(r)}`).toBe(true);
    expect(findTempFiles(dst, src)).toEqual([]);
  });
});
