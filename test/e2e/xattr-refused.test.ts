// -X/-A onto a destination that cannot take the attributes (ramfs has no user xattrs and no ACLs, nor
// has faultfs, the tests' FUSE filesystem): the
// data is copied and renamed into place with its other attributes, each refusal is reported in rsync's
// words (`setxattr("/dst/f","user.a") failed: Operation not supported (95)`), exit 23. The node engine
// refuses -X/-A up front, so these run on the native engines only.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, expect, it } from 'vitest';
import { isRoot, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { compareTrees, findTempFiles, formatDiffs } from '../helpers/compare.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { fuseSkipReason, mountFaultFs } from '../helpers/fusefs.js';

const OLD = new Date('2001-02-03T04:05:06Z');
const THEN = new Date('2011-12-13T14:15:16Z');
const mounts: string[] = [];
const fuseSkip = fuseSkipReason();

afterEach(() => {
  for (const m of mounts.splice(0)) {
    if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
  }
});
afterAll(() => removeTemps());

/** A fresh ramfs (no user.* xattrs, no POSIX ACLs) as the destination's parent. */
function ramfs(base: string): string {
  const m = path.join(base, 'ramfs');
  fs.mkdirSync(m);
  const r = spawnSync('mount', ['-t', 'ramfs', 'ramfs', m], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount -t ramfs failed: ${r.stderr}`);
  mounts.push(m);
  return m;
}

/** Files with and without user xattrs, a directory with one, an ACL; fixed mtimes. */
function source(root: string): void {
  fs.mkdirSync(path.join(root, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(root, 'tagged'), randomBytes(5000));
  fs.writeFileSync(path.join(root, 'big'), randomBytes(9 << 20)); // the uring engine's copy_file_range size
  fs.writeFileSync(path.join(root, 'plain'), 'no attributes\n');
  fs.writeFileSync(path.join(root, 'dir', 'acl'), randomBytes(777));
  fs.writeFileSync(path.join(root, 'dir', 'inner'), 'inner\n');
  fs.writeFileSync(path.join(root, 'both'), randomBytes(4321));
  sh(`setfattr -n user.note -v hello ${root}/tagged`);
  sh(`setfattr -n user.big -v 0x${'ab'.repeat(1000)} ${root}/big`);
  sh(`setfattr -n user.dirnote -v d ${root}/dir`);
  sh(`setfacl -m u:nobody:r ${root}/dir/acl`);
  sh(`setfattr -n user.one -v 1 ${root}/both && setfattr -n user.two -v 2 ${root}/both && setfacl -m u:nobody:r ${root}/both`);
  for (const f of ['tagged', 'big', 'plain', 'both', 'dir/acl', 'dir/inner', 'dir']) fs.utimesSync(path.join(root, f), THEN, THEN);
}

/** dst equals src in everything but xattrs and ACLs. */
function expectAllButAttrs(src: string, dst: string): void {
  expect(formatDiffs(compareTrees(src, dst, { xattrs: false, acls: false })), 'compareTrees differences').toEqual([]);
  expect(findTempFiles(dst), 'temp files left behind').toEqual([]);
}

const refused = (dst: string, rel: string, attr: string): string =>
  `arsync: setxattr("${path.join(dst, rel)}","${attr}") failed: Operation not supported (95)`;

describeEngines((e) => {
  const native = e.name !== 'node' && isRoot;

  for (const mode of [[], ['--inplace'], ['--partial'], ['-W', '--sparse']]) {
    it.skipIf(!native)(`-X onto ramfs: the data lands, each refused xattr is reported, exit 23 ${mode.join(' ')}`, async () => {
      const base = tempDir('arsync-xattr-');
      const src = path.join(base, 'src');
      source(src);
      const dst = path.join(ramfs(base), 'dst');
      // An old version is replaced, not kept because its new attribute could not be set.
      fs.mkdirSync(dst);
      fs.writeFileSync(path.join(dst, 'tagged'), 'old\n');
      fs.utimesSync(path.join(dst, 'tagged'), OLD, OLD);
      const r = await runCli(['-aX', `--engine=${e.name}`, ...mode, `${src}/`, `${dst}/`]);
      expect(r.code, show(r)).toBe(23);
      const lines = r.stderr.trim().split('\n');
      expect(lines, show(r)).toContain(refused(dst, 'tagged', 'user.note'));
      expect(lines, show(r)).toContain(refused(dst, 'big', 'user.big'));
      expect(lines, show(r)).toContain(refused(dst, 'dir', 'user.dirnote'));
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expectAllButAttrs(src, dst);
    });
  }

  it.skipIf(!native || fuseSkip !== null)(`-XA onto a FUSE filesystem without xattrs: the data lands, exit 23${fuseSkip ? ` (${fuseSkip})` : ''}`, async () => {
    const base = tempDir('arsync-xattr-');
    const src = path.join(base, 'src');
    source(src);
    const backing = path.join(base, 'backing');
    fs.mkdirSync(backing);
    const mnt = mountFaultFs(backing, path.join(base, 'fuse'), { rw: true }).path;
    mounts.push(mnt);
    const dst = path.join(mnt, 'dst');
    const r = await runCli(['-aXA', `--engine=${e.name}`, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(23);
    const lines = r.stderr.trim().split('\n');
    expect(lines, show(r)).toContain(refused(dst, 'tagged', 'user.note'));
    expect(lines, show(r)).toContain(refused(dst, 'dir/acl', 'system.posix_acl_access'));
    expect(lines, show(r)).toContain(refused(dst, 'dir', 'user.dirnote'));
    // Like rsync, every refused attribute of an entry is reported, not only the first.
    for (const a of ['user.one', 'user.two', 'system.posix_acl_access']) expect(lines, show(r)).toContain(refused(dst, 'both', a));
    expectAllButAttrs(src, dst);
  });

  it.skipIf(!native)('-X: a 60 KB xattr value (tmpfs takes it) onto ext4 (one block per value): the data lands, exit 23', async () => {
    const base = tempDir('arsync-xattr-');
    const src = path.join(base, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'large-attr'), randomBytes(10_000));
    fs.writeFileSync(path.join(src, 'small-attr'), randomBytes(10_000));
    sh(`setfattr -n user.large -v 0x${'cd'.repeat(60_000)} ${src}/large-attr`);
    sh(`setfattr -n user.small -v fits ${src}/small-attr`);
    // A real ext4, on a loop device, whatever filesystem the temp directory is on.
    const img = path.join(base, 'ext4.img');
    const mnt = path.join(base, 'ext4');
    fs.mkdirSync(mnt);
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 32 << 20);
    sh(`mkfs.ext4 -q -F ${img}`);
    sh(`mount -o loop ${img} ${mnt}`);
    mounts.push(mnt);
    const dst = path.join(mnt, 'dst');
    const r = await runCli(['-aX', `--engine=${e.name}`, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr.trim().split('\n'), show(r)).toContain(
      `arsync: setxattr("${path.join(dst, 'large-attr')}","user.large") failed: No space left on device (28)`,
    );
    expectAllButAttrs(src, dst);
    // What fits is still copied.
    expect(sh(`getfattr --only-values -n user.small ${dst}/small-attr`)).toBe('fits');
  });

  it.skipIf(!native)('-A onto ramfs: the file lands with its data, mode and mtime, the ACL is reported, exit 23', async () => {
    const base = tempDir('arsync-xattr-');
    const src = path.join(base, 'src');
    source(src);
    const dst = path.join(ramfs(base), 'dst');
    const r = await runCli(['-aA', `--engine=${e.name}`, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(23);
    const lines = r.stderr.trim().split('\n');
    expect(lines, show(r)).toContain(refused(dst, 'dir/acl', 'system.posix_acl_access'));
    expect(lines, show(r)).toContain(refused(dst, 'both', 'system.posix_acl_access'));
    // -A alone: the user xattrs are not asked for, so not reported.
    expect(r.stderr).not.toContain('user.');
    expectAllButAttrs(src, dst);
  });

  it.skipIf(!native)('-c with equal content: the other attributes are still set when an xattr is refused', async () => {
    const base = tempDir('arsync-xattr-');
    const src = path.join(base, 'src');
    source(src);
    const dst = path.join(ramfs(base), 'dst');
    fs.mkdirSync(dst);
    fs.copyFileSync(path.join(src, 'tagged'), path.join(dst, 'tagged'));
    fs.chmodSync(path.join(dst, 'tagged'), 0o600);
    fs.utimesSync(path.join(dst, 'tagged'), OLD, OLD);
    const r = await runCli(['-aXc', `--engine=${e.name}`, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr.trim().split('\n'), show(r)).toContain(refused(dst, 'tagged', 'user.note'));
    expectAllButAttrs(src, dst);
  });

  it.skipIf(!native)('--remove-source-files keeps a source whose xattrs did not make it', async () => {
    const base = tempDir('arsync-xattr-');
    const src = path.join(base, 'src');
    source(src);
    const dst = path.join(ramfs(base), 'dst');
    const r = await runCli(['-aX', '--remove-source-files', `--engine=${e.name}`, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(23);
    // The copies without attributes are there; the sources that carry attributes are not removed.
    expect(fs.readFileSync(path.join(dst, 'tagged'))).toEqual(fs.readFileSync(path.join(src, 'tagged')));
    expect(fs.existsSync(path.join(src, 'tagged'))).toBe(true);
    expect(fs.existsSync(path.join(src, 'big'))).toBe(true);
    // Files without attributes to lose are moved as usual.
    expect(fs.existsSync(path.join(src, 'plain'))).toBe(false);
    expect(fs.readFileSync(path.join(dst, 'plain'), 'utf8')).toBe('no attributes\n');
  });
});
