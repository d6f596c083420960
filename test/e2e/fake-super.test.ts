// --fake-super against rsync 3.5 (root only: the source tree needs owners and device nodes): the
// receiver keeps owners, set-id bits, devices, FIFOs and symlinks in user.rsync.%stat records on plain
// files; a sender with --fake-super reads them back, so a backup round-trips; -M--fake-super fakes
// only the receiving side. The node engine has no xattrs and refuses the option.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { isRoot, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { differential } from '../helpers/differential.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

afterAll(() => removeTemps());

/** A tree with what only root can make: owners, a setuid file, a device, a FIFO, a symlink. */
function privTree(root: string): void {
  const src = path.join(root, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'plain'), 'plain\n');
  fs.writeFileSync(path.join(src, 'owned'), 'owned by 1234\n');
  fs.writeFileSync(path.join(src, 'sub/suid'), 'setuid\n');
  sh(`cd '${src}' && chown 1234:567 owned sub && chown 0:567 sub/suid && chmod 4755 sub/suid && mknod sub/tty c 4 5 && mkfifo -m 640 fifo && ln -s sub/suid link`);
  sh(`touch -h -d @1700000000 '${src}'/* '${src}'/sub/* '${src}/sub' '${src}'`);
}

/** Every xattr of every entry beneath dir, as getfattr prints them (sorted by path). */
function xattrs(dir: string): string {
  const r = spawnSync('getfattr', ['-R', '-h', '-d', '-m', '-', '.'], { cwd: dir, encoding: 'utf8' });
  return r.stdout
    .split('\n\n')
    .filter((b) => b.trim())
    .sort()
    .join('\n\n');
}

describeEngines((e) => {
  const engine = e.name;
  const native = it.skipIf(!isRoot || engine === 'node');

  native('-a --fake-super: the same records and plain files as rsync, and a second run changes nothing', async () => {
    const r = await differential({ engine, setup: privTree, args: ['-a', '--fake-super', 'src/', 'dst/'] });
    const dst = path.join(r.B, 'dst');
    expect(xattrs(dst)).toBe(xattrs(path.join(r.A, 'dst')));
    expect(xattrs(dst)).toContain('user.rsync.%stat="20644 4,5 0:0"');
    expect(xattrs(dst)).toContain('user.rsync.%stat="104755 0,0 0:567"');
    expect(xattrs(dst)).toContain('user.rsync.%stat="120777 0,0 0:0"');
    for (const name of ['sub/tty', 'fifo', 'link', 'sub/suid']) expect(fs.lstatSync(path.join(dst, name)).isFile(), name).toBe(true);
    expect(fs.readFileSync(path.join(dst, 'link'), 'utf8')).toBe('sub/suid');
    expect(fs.lstatSync(path.join(dst, 'sub/suid')).mode & 0o7777).toBe(0o755);
    expect(fs.lstatSync(path.join(dst, 'owned')).uid).toBe(0);
    // A re-run finds every entry as its record says: nothing to do, as rsync.
    const rs = spawnSync('rsync', ['-ai', '--fake-super', 'src/', 'dst/'], { cwd: r.A, encoding: 'utf8' });
    const ar = await runCli(['-ai', '--fake-super', `--engine=${engine}`, 'src/', 'dst/'], { cwd: r.B });
    expect([ar.code, ar.stdout], show(ar)).toEqual([rs.status, rs.stdout]);
    expect(ar.stdout).toBe('');
  });

  native('a record that does not parse: reported, the entry copied with its own stat, the run goes on and exits 23 (rsync stops with 11)', async () => {
    const root = tempDir('arsync-fake-corrupt-');
    const src = path.join(root, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'bad'), 'bad record\n');
    fs.writeFileSync(path.join(src, 'good'), 'good\n');
    fs.chmodSync(path.join(src, 'bad'), 0o640);
    sh(`setfattr -n user.rsync.%stat -v 'not a record' '${src}/bad'`);
    const rs = spawnSync('rsync', ['-a', '--fake-super', 'src/', 'rs/'], { cwd: root, encoding: 'utf8' });
    const line = `Corrupt user.rsync.%stat xattr attached to "${src}/bad": "not a record"\n`;
    expect(rs.status).toBe(11);
    expect(rs.stderr.startsWith(line), rs.stderr).toBe(true);
    const r = await runCli(['-a', '--fake-super', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr.startsWith(line), r.stderr).toBe(true);
    expect(fs.readFileSync(path.join(root, 'dst/bad'), 'utf8')).toBe('bad record\n');
    expect(fs.lstatSync(path.join(root, 'dst/bad')).mode & 0o7777).toBe(0o640);
    expect(fs.readFileSync(path.join(root, 'dst/good'), 'utf8')).toBe('good\n');
    // A destination twin's record: named by its place in the destination, as rsync's generator does.
    sh(`setfattr -x user.rsync.%stat '${src}/bad' && setfattr -n user.rsync.%stat -v 'junk' '${root}/dst/good'`);
    const again = await runCli(['-a', '--fake-super', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
    expect(again.code, show(again)).toBe(23);
    expect(again.stderr.startsWith(`Corrupt user.rsync.%stat xattr attached to "${root}/dst/good": "junk"\n`), again.stderr).toBe(true);
  });

  native('a fake-super backup restored with --fake-super -M--super is the original tree (owners, set-id bits, devices, symlinks)', async () => {
    const root = tempDir('arsync-fake-');
    privTree(root);
    for (const step of [['-a', '--fake-super', 'src/', 'bak/'], ['-a', '--fake-super', '-M--super', 'bak/', 'back/']]) {
      const r = await runCli([...step, `--engine=${engine}`], { cwd: root });
      expect(r.code, show(r)).toBe(0);
    }
    expect(formatDiffs(compareTrees(path.join(root, 'src'), path.join(root, 'back'), { owners: true }))).toEqual([]);
    expect(fs.lstatSync(path.join(root, 'back/sub/tty')).isCharacterDevice()).toBe(true);
    expect(fs.readlinkSync(path.join(root, 'back/link'))).toBe('sub/suid');
  });

  // rsync's receiver under --fake-super reads a symlink only in its record's form (a file holding the
  // target: Linux allows no user xattrs on symlinks), so a real symlink a plain run left has no target it
  // can read: it is made again as that file ("cLc"). The owners, the device and the FIFO a plain root
  // run made match the source as they are (no record needed), and stay; a set-id bit or a mode without
  // owner access moves into a record, silently (set_stat_xattr, for every entry rsync passes).
  native('--fake-super over a destination made without it: a real symlink becomes its record file, the rest stays', async () => {
    const setup = (root: string): void => {
      privTree(root);
      // A read-only file in a read-only directory, a set-gid directory: rsync's receiver puts each in its
      // form (owner access, no set-id bit on disk) and keeps the mode in a record, with no line.
      sh(`cd '${root}/src' && mkdir ro sg && echo r > ro/file && echo g > sg/g && chmod 444 ro/file && chmod 555 ro && chmod 2755 sg && touch -d @1700000000 ro/file ro sg/g sg`);
      sh(`cd '${root}' && rsync -a src/ dst/`);
    };
    const r = await differential({ engine, setup, args: ['-a', '--fake-super', 'src/', 'dst/'] });
    expect(r.arsync.stdout).toContain('cLc........ link -> sub/suid');
    const dst = path.join(r.B, 'dst');
    expect(fs.lstatSync(path.join(dst, 'link')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(dst, 'link'), 'utf8')).toBe('sub/suid');
    expect(fs.lstatSync(path.join(dst, 'fifo')).isFIFO()).toBe(true);
    expect(fs.lstatSync(path.join(dst, 'owned')).uid).toBe(1234);
    expect(fs.lstatSync(path.join(dst, 'ro/file')).mode & 0o7777).toBe(0o644);
    expect(fs.lstatSync(path.join(dst, 'sg')).mode & 0o7777).toBe(0o755);
    expect(xattrs(dst)).toBe(xattrs(path.join(r.A, 'dst')));
    expect(xattrs(dst)).toContain('user.rsync.%stat="42755 0,0 0:0"');
  });

  native('-M--fake-super fakes only the receiver: records written, the source read as it is', async () => {
    const r = await differential({ engine, setup: privTree, args: ['-a', '-M--fake-super', 'src/', 'dst/'] });
    expect(xattrs(path.join(r.B, 'dst'))).toBe(xattrs(path.join(r.A, 'dst')));
    expect(xattrs(path.join(r.B, 'dst'))).toContain('user.rsync.%stat="100644 0,0 1234:567"');
  });

  native('-A with a fake receiver: ACLs kept in user.rsync.%aacl/%dacl records byte for byte as rsync, read back by a fake sender, a dropped default ACL removed', async () => {
    const setup = (root: string): void => {
      const src = path.join(root, 'src');
      fs.mkdirSync(path.join(src, 'd'), { recursive: true });
      fs.mkdirSync(path.join(src, 'plain-dir'));
      fs.writeFileSync(path.join(src, 'f'), 'acl\n');
      fs.writeFileSync(path.join(src, 'plain'), 'none\n');
      sh(`cd '${src}' && setfacl -m u:1234:rwx,g:55:r-x f && setfacl -d -m u:1234:rwx d`);
    };
    const r = await differential({ engine, setup, args: ['-aA', '-M--fake-super', 'src/', 'dst/'] });
    const got = xattrs(path.join(r.B, 'dst'));
    expect(got).toBe(xattrs(path.join(r.A, 'dst')));
    expect(got).toMatch(/# file: f\nuser\.rsync\.%aacl=/);
    expect(got).toMatch(/# file: d\nuser\.rsync\.%dacl=/);
    expect(got).not.toMatch(/plain/);
    // Both sides fake: the records travel as they are.
    const back = await runCli(['-aA', '--fake-super', '-M--fake-super', `--engine=${engine}`, 'dst/', 'again/'], { cwd: r.B });
    expect(back.code, show(back)).toBe(0);
    expect(xattrs(path.join(r.B, 'again'))).toBe(got);
    // The source directory loses its default ACL: the next run removes the record, as rsync.
    for (const root of [r.A, r.B]) sh(`setfacl -k '${root}/src/d'`);
    spawnSync('rsync', ['-aA', '-M--fake-super', 'src/', 'dst/'], { cwd: r.A });
    const again = await runCli(['-aA', '-M--fake-super', `--engine=${engine}`, 'src/', 'dst/'], { cwd: r.B });
    expect(again.code, show(again)).toBe(0);
    expect(xattrs(path.join(r.B, 'dst'))).toBe(xattrs(path.join(r.A, 'dst')));
    expect(xattrs(path.join(r.B, 'dst'))).not.toContain('%dacl');
  });

  native('as a user who is not root (the backup case): the same records, plain files and user xattrs as rsync', async () => {
    const roots = [tempDir('arsync-fake-A-'), tempDir('arsync-fake-B-')];
    for (const root of roots) {
      privTree(root);
      sh(`setfattr -n user.note -v kept '${root}/src/plain' && chmod -R a+rwX '${root}' && chmod 1777 '${root}'`);
    }
    const rs = rsyncAs(NOBODY, ['-aiX', '--fake-super', 'src/', 'dst/'], roots[0]);
    const ar = await runCli(['-aiX', '--fake-super', `--engine=${engine}`, 'src/', 'dst/'], { cwd: roots[1], user: NOBODY });
    expect([ar.code, ar.stdout.split('\n').sort()], show(ar)).toEqual([rs.code, rs.stdout.split('\n').sort()]);
    const got = xattrs(path.join(roots[1]!, 'dst'));
    expect(got).toBe(xattrs(path.join(roots[0]!, 'dst')));
    expect(got).toContain('user.rsync.%stat="100666 0,0 1234:567"'); // chmod a+rwX above
    expect(got).toContain('user.note="kept"');
    expect(fs.lstatSync(path.join(roots[1]!, 'dst/sub/tty')).uid).toBe(NOBODY.uid);
  });

  // A re-run into an existing read-only directory of the user's: rsync's --fake-super gives its disk mode the
  // owner's bits at the visit and fills it; arsync failed there ("mkstemp ro/.x.XXXXXX failed", exit 23).
  native('as a user who is not root, into an existing read-only directory of that user\'s', async () => {
    const roots = [tempDir('arsync-fake-ro-A-'), tempDir('arsync-fake-ro-B-')];
    for (const root of roots) {
      for (const d of ['src/ro', 'dst/ro']) fs.mkdirSync(path.join(root, d), { recursive: true });
      fs.writeFileSync(path.join(root, 'src/ro/x'), 'new\n');
      fs.writeFileSync(path.join(root, 'dst/ro/x'), 'old contents\n');
      sh(`find '${root}' -exec touch -h -d @1700000000 {} + && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}' && chmod 555 '${root}/src/ro' '${root}/dst/ro' && chmod 755 '${root}'`);
    }
    const rs = rsyncAs(NOBODY, ['-ai', '--fake-super', 'src/', 'dst/'], roots[0]);
    const ar = await runCli(['-ai', '--fake-super', `--engine=${engine}`, 'src/', 'dst/'], { cwd: roots[1], user: NOBODY });
    expect([ar.code, ar.stdout, ar.stderr], show(ar)).toEqual([rs.code, rs.stdout, rs.stderr]);
    expect(ar.code).toBe(0);
    expect(fs.readFileSync(path.join(roots[1]!, 'dst/ro/x'), 'utf8')).toBe('new\n');
    expect(fs.lstatSync(path.join(roots[1]!, 'dst/ro')).mode & 0o7777).toBe(fs.lstatSync(path.join(roots[0]!, 'dst/ro')).mode & 0o7777);
    expect(xattrs(path.join(roots[1]!, 'dst'))).toBe(xattrs(path.join(roots[0]!, 'dst')));
  });

  it.skipIf(engine !== 'node')('the node engine refuses --fake-super (no xattrs), nothing written', async () => {
    const root = tempDir('arsync-fake-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src/f'), 'x');
    const r = await runCli(['-a', '--fake-super', '--engine=node', 'src/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toMatch(/--fake-super needs the native addon/);
    expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
  });
});
