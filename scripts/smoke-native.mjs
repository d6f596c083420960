#!/usr/bin/env node
// Quick self-check of the native addon, independent of the TypeScript build: builds a tree in /dev/shm,
// runs every op kind through both native engines, and checks content, mode, ns mtimes, xattrs, ACLs,
// holes, symlinks, FIFOs, hard links, counters, outcomes, fd leaks, and the safety rules (planted
// destination symlinks, source swaps, ENOSPC, abort mid-file). Exits non-zero on any mismatch.
// Usage: node scripts/smoke-native.mjs [--engine=uring|sync] [--keep]
//        node scripts/smoke-native.mjs --bench [--files=20000] [--mib=1024] [--reps=3] [--dir=/dev/shm]
//                                      [--cold] [--depth=64] [--bufsize=KiB] [--bufcount=32]
// --bench times run() alone (walk and encoding excluded) for each engine on /dev/shm, alternating
// engines, fresh destination each time, and prints medians (the figures in docs/native-notes.md).

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addonPath = process.env.ARSYNC_ADDON || path.join(root, 'build', 'Release', 'arsync.node');
const addon = createRequire(import.meta.url)(addonPath);

// Mirrors of src/engine/types.ts (kept literal so this script runs without a TypeScript build).
const K = { File: 1, Symlink: 2, Special: 3, Hardlink: 4, Mkdir: 5, DirMeta: 6, Attrs: 7, Delete: 8, LinkFrom: 9, Backup: 10 };
const P = { Perms: 1, Owner: 2, Group: 4, Times: 8, Xattrs: 16, Acls: 32, Devices: 64, Specials: 128, Sparse: 256, Inplace: 512, Partial: 1024, KeepDirlinks: 2048 };
const F = { FollowSource: 1, Compare: 2, RemoveSource: 4 };
const C = { Files: 0, Dirs: 1, Bytes: 2, Symlinks: 3, Specials: 4, Hardlinks: 5, Errors: 6, Abort: 7, Skipped: 8, Deleted: 9 };
const ARCHIVE = P.Perms | P.Owner | P.Group | P.Times | P.Xattrs | P.Acls | P.Devices | P.Specials;
const S_IFMT = 0o170000;

/** Encodes a batch exactly like src/engine/batch.ts's BatchWriter. */
function encode(ops) {
  const parts = ops.map(({ kind, src = Buffer.alloc(0), dst = Buffer.alloc(0), st = {}, flags = 0 }) => {
    src = Buffer.isBuffer(src) ? src : Buffer.from(src);
    dst = Buffer.isBuffer(dst) ? dst : Buffer.from(dst);
    const b = Buffer.alloc(72 + ((src.length + dst.length + 7) & ~7));
    b.writeUInt8(kind, 0);
    b.writeUInt8(flags, 1);
    b.writeUInt32LE(src.length, 4);
    b.writeUInt32LE(dst.length, 8);
    b.writeUInt32LE((st.mode ?? 0) >>> 0, 12);
    b.writeUInt32LE((st.uid ?? 0) >>> 0, 16);
    b.writeUInt32LE((st.gid ?? 0) >>> 0, 20);
    b.writeUInt32LE((st.mtimeNsec ?? 0) >>> 0, 24);
    b.writeDoubleLE(st.size ?? 0, 32);
    b.writeDoubleLE(st.mtimeSec ?? 0, 40);
    b.writeDoubleLE(st.ino ?? 0, 48);
    b.writeDoubleLE(st.dev ?? 0, 56);
    b.writeDoubleLE(st.rdev ?? 0, 64);
    src.copy(b, 72);
    dst.copy(b, 72 + src.length);
    return b;
  });
  return new Uint8Array(Buffer.concat(parts));
}

const statOf = (m, i = 0) => {
  const o = i * 12;
  return { mode: m[o], uid: m[o + 1], gid: m[o + 2], size: m[o + 3], mtimeSec: m[o + 4], mtimeNsec: m[o + 5], ino: m[o + 6], dev: m[o + 7], nlink: m[o + 8], rdev: m[o + 9], blocks: m[o + 10], err: m[o + 11] };
};

let failed = 0;
let checks = 0;
function check(cond, what) {
  checks++;
  if (!cond) {
    failed++;
    console.error(`FAIL ${what}`);
  }
}

const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'buffer', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const fattr = (p) => {
  const r = spawnSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', p], { encoding: 'latin1' });
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('security.selinux')).sort().join('\n');
};
const fdCount = () => fs.readdirSync('/proc/self/fd').length;
const counters = () => new BigInt64Array(new SharedArrayBuffer(16 * 8));

function ctxOf(engine, dest, flags, cnt = counters(), extra = {}) {
  const c = addon.createContext({ engine, destRoot: Buffer.from(dest), flags, umask: 0o022, queueDepth: 32, bufferSize: 256 * 1024, bufferCount: 16, direct: false, counters: cnt, ...extra });
  if ('errno' in c) throw new Error(`createContext(${engine}): errno ${c.errno} ${c.syscall}`);
  return c;
}

/** Walks src with the addon's scanDir and returns the ops that copy it (rsync -a -H order). */
function planTree(src) {
  const ops = [{ kind: K.Mkdir, src, dst: '', st: statOf(addon.lstat(Buffer.from(src))) }];
  const dirmeta = [{ kind: K.DirMeta, src, dst: Buffer.alloc(0), st: statOf(addon.lstat(Buffer.from(src))) }];
  const seen = new Map();
  const walk = (absBuf, relBuf) => {
    const r = addon.scanDir(absBuf);
    if ('errno' in r) throw new Error(`scanDir ${absBuf}: ${r.errno}`);
    let start = 0;
    let i = 0;
    for (let p = 0; p < r.names.length; p++) {
      if (r.names[p] !== 0) continue;
      const name = r.names.subarray(start, p);
      start = p + 1;
      const st = statOf(r.meta, i++);
      const abs = Buffer.concat([absBuf, Buffer.from('/'), name]);
      const rel = relBuf.length ? Buffer.concat([relBuf, Buffer.from('/'), name]) : Buffer.from(name);
      const type = st.mode & S_IFMT;
      if (type === 0o040000) {
        ops.push({ kind: K.Mkdir, src: abs, dst: rel, st });
        walk(abs, rel);
        dirmeta.unshift({ kind: K.DirMeta, src: abs, dst: rel, st });
      } else if (type === 0o100000) {
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1 && seen.has(key)) ops.push({ kind: K.Hardlink, src: seen.get(key), dst: rel, st });
        else {
          seen.set(key, rel);
          ops.push({ kind: K.File, src: abs, dst: rel, st });
        }
      } else if (type === 0o120000) ops.push({ kind: K.Symlink, src: abs, dst: rel, st });
      else ops.push({ kind: K.Special, src: abs, dst: rel, st });
    }
  };
  walk(Buffer.from(src), Buffer.alloc(0));
  return [...ops, ...dirmeta];
}

/** Compares two trees entry by entry: type, content, mode, ns mtime, owner, xattrs, links, holes. */
function compareTrees(a, b, label) {
  const la = fs.readdirSync(a, { encoding: 'buffer' }).map(String).sort();
  const lb = fs.readdirSync(b, { encoding: 'buffer' }).map(String).sort();
  check(JSON.stringify(la) === JSON.stringify(lb), `${label}: same entries in ${b} (${la} vs ${lb})`);
  for (const nameBuf of fs.readdirSync(a, { encoding: 'buffer' })) {
    const pa = Buffer.concat([Buffer.from(a + '/'), nameBuf]);
    const pb = Buffer.concat([Buffer.from(b + '/'), nameBuf]);
    const sa = fs.lstatSync(pa, { bigint: true });
    let sb;
    try {
      sb = fs.lstatSync(pb, { bigint: true });
    } catch {
      check(false, `${label}: ${pb} exists`);
      continue;
    }
    const n = `${label}: ${pb}`;
    check((sa.mode & 0o170000n) === (sb.mode & 0o170000n), `${n} type`);
    check(sa.uid === sb.uid && sa.gid === sb.gid, `${n} owner`);
    if (sa.isSymbolicLink()) {
      check(fs.readlinkSync(pa, { encoding: 'buffer' }).equals(fs.readlinkSync(pb, { encoding: 'buffer' })), `${n} link target`);
      check(sa.mtimeNs === sb.mtimeNs, `${n} symlink mtime ${sa.mtimeNs} vs ${sb.mtimeNs}`);
      continue;
    }
    check(sa.mode === sb.mode, `${n} mode ${sa.mode.toString(8)} vs ${sb.mode.toString(8)}`);
    check(sa.mtimeNs === sb.mtimeNs, `${n} mtime ${sa.mtimeNs} vs ${sb.mtimeNs}`);
    check(fattr(pa) === fattr(pb), `${n} xattrs\n${fattr(pa)}\n---\n${fattr(pb)}`);
    if (sa.isFile()) {
      check(fs.readFileSync(pa).equals(fs.readFileSync(pb)), `${n} content`);
      if (sa.blocks * 512n < sa.size) check(sb.blocks * 512n < sb.size, `${n} holes kept (${sb.blocks} blocks)`);
    }
    if (sa.isCharacterDevice() || sa.isBlockDevice()) check(sa.rdev === sb.rdev, `${n} rdev`);
    if (sa.isDirectory()) compareTrees(pa.toString('latin1') === String(pa) ? String(pa) : pa, pb, label);
  }
}

const noTemps = (dir) => {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (/^\..+\.[A-Za-z0-9]{6}$/.test(e.name)) out.push(path.join(d, e.name));
      if (e.isDirectory()) walk(path.join(d, e.name));
    }
  };
  walk(dir);
  return out;
};

function makeSource(base) {
  const src = path.join(base, 'src');
  fs.mkdirSync(path.join(src, 'sub', 'deep'), { recursive: true });
  const rnd = (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 2654435761) >>> 24;
    return b;
  };
  for (const n of [0, 1, 4095, 4096, 4097, 1048576 + 3, 3 * 256 * 1024]) fs.writeFileSync(path.join(src, `f${n}`), rnd(n));
  fs.writeFileSync(path.join(src, 'sub', 'deep', 'leaf'), 'leaf\n');
  fs.writeFileSync(Buffer.from(`${src}/sub/bad-\xff\xfe-name`, 'latin1'), 'not utf-8 name\n');
  // Sparse: 8 MiB with data at 0, 4 MiB and at the end, holes between.
  const fd = fs.openSync(path.join(src, 'sparse'), 'w');
  fs.writeSync(fd, rnd(5000), 0, 5000, 0);
  fs.writeSync(fd, rnd(10000), 0, 10000, 4 << 20);
  fs.writeSync(fd, Buffer.from('end'), 0, 3, (8 << 20) - 3);
  fs.closeSync(fd);
  // Zero runs without holes (for -S).
  fs.writeFileSync(path.join(src, 'zeros'), Buffer.concat([rnd(4096), Buffer.alloc(1 << 20), rnd(100)]));
  fs.symlinkSync('f4097', path.join(src, 'link'));
  fs.symlinkSync('/nonexistent/dangling', path.join(src, 'sub', 'dangling'));
  sh('mkfifo', [path.join(src, 'fifo')]);
  sh('mknod', [path.join(src, 'null-dev'), 'c', '1', '3']);
  fs.linkSync(path.join(src, 'f4096'), path.join(src, 'sub', 'hard'));
  fs.chmodSync(path.join(src, 'f1'), 0o751);
  fs.chmodSync(path.join(src, 'f4095'), 0o4755);
  fs.chmodSync(path.join(src, 'sub', 'deep'), 0o711);
  sh('setfattr', ['-n', 'user.test', '-v', 'hello', path.join(src, 'f4097')]);
  sh('setfattr', ['-n', 'user.big', '-v', `0x${'ab'.repeat(3000)}`, path.join(src, 'f4097')]);
  sh('setfattr', ['-n', 'user.dir', '-v', 'd', path.join(src, 'sub')]);
  sh('setfattr', ['-n', 'trusted.t', '-v', 'root-only', path.join(src, 'f1')]);
  sh('setfacl', ['-m', 'u:nobody:r', path.join(src, 'f4096')]);
  sh('setfacl', ['-d', '-m', 'u:nobody:rx', path.join(src, 'sub')]);
  fs.chownSync(path.join(src, 'f0'), 65534, 65534);
  // ns mtimes, set last (deepest first) so that creating entries does not bump them.
  const t = (p, s) => sh('touch', ['-h', '-d', s, p]);
  t(path.join(src, 'f4097'), '2001-02-03 04:05:06.123456789');
  t(path.join(src, 'link'), '2002-02-03 04:05:06.987654321');
  t(path.join(src, 'fifo'), '2003-02-03 04:05:06.000000001');
  t(path.join(src, 'sub', 'deep'), '2004-02-03 04:05:06.5');
  t(path.join(src, 'sub'), '2005-02-03 04:05:06.25');
  return src;
}

function copyTree(engine, src, dst, flags = ARCHIVE) {
  fs.mkdirSync(dst, { recursive: true });
  const ops = planTree(src);
  const cnt = counters();
  const ctx = ctxOf(engine, dst, flags, cnt);
  const outcomes = new Uint8Array(ops.length);
  const fails = addon.run(ctx, encode(ops), outcomes);
  addon.closeContext(ctx);
  return { ops, fails, cnt, outcomes };
}

function testTree(engine, base, src) {
  const dst = path.join(base, `dst-${engine}`);
  const fds = fdCount();
  const { ops, fails, cnt, outcomes } = copyTree(engine, src, dst);
  check(fails.length === 0, `${engine}: no failures (${JSON.stringify(fails.map((f) => [f.index, f.errno, f.syscall, String(f.path)]))})`);
  compareTrees(src, dst, engine);
  check(noTemps(dst).length === 0, `${engine}: no temp files left`);
  const st = (p) => fs.lstatSync(path.join(dst, p));
  check(st('f4096').ino === st('sub/hard').ino, `${engine}: hard link kept`);
  const files = ops.filter((o) => o.kind === K.File).length;
  check(cnt[C.Files] === BigInt(files), `${engine}: files counter ${cnt[C.Files]} = ${files}`);
  const bytes = ops.filter((o) => o.kind === K.File).reduce((s, o) => s + o.st.size, 0);
  check(cnt[C.Bytes] === BigInt(bytes), `${engine}: bytes counter ${cnt[C.Bytes]} = ${bytes}`);
  check(cnt[C.Symlinks] === 2n && cnt[C.Specials] === 2n && cnt[C.Hardlinks] === 1n, `${engine}: link/special counters`);
  check(outcomes.every((o) => o === 1), `${engine}: every outcome Done`);
  check(fdCount() === fds, `${engine}: no fd leak after the tree copy (${fds} -> ${fdCount()})`);

  // A second run over a complete destination replaces everything in place (temp + rename).
  const again = copyTree(engine, src, dst);
  check(again.fails.length === 0, `${engine}: re-run over a complete destination`);
  compareTrees(src, dst, `${engine} re-run`);

  // -S: zero runs become holes.
  const sdst = path.join(base, `dst-${engine}-S`);
  const s = copyTree(engine, src, sdst, ARCHIVE | P.Sparse);
  check(s.fails.length === 0, `${engine} -S: no failures`);
  const z = fs.statSync(path.join(sdst, 'zeros'));
  check(z.blocks * 512 < 1 << 20, `${engine} -S: zero run became a hole (${z.blocks} blocks)`);
  check(fs.readFileSync(path.join(sdst, 'zeros')).equals(fs.readFileSync(path.join(src, 'zeros'))), `${engine} -S: content`);
}

function testSafety(engine, base, src) {
  const dst = path.join(base, `safe-${engine}`);
  const outside = path.join(base, `outside-${engine}`);
  fs.mkdirSync(dst, { recursive: true });
  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(path.join(outside, 'victim'), 'precious');
  fs.symlinkSync(outside, path.join(dst, 'sub'));
  fs.symlinkSync(path.join(outside, 'victim'), path.join(dst, 'victimlink'));
  const fst = statOf(addon.lstat(Buffer.from(path.join(src, 'f4097'))));
  const lst = statOf(addon.lstat(Buffer.from(path.join(src, 'link'))));
  const ops = [
    { kind: K.File, src: path.join(src, 'f4097'), dst: 'sub/victim', st: fst },
    { kind: K.File, src: path.join(src, 'f4097'), dst: 'sub/new', st: fst },
    { kind: K.Mkdir, dst: 'sub/dir', st: { mode: 0o40755 } },
    { kind: K.Symlink, src: path.join(src, 'link'), dst: 'sub/l', st: lst },
    { kind: K.DirMeta, src, dst: 'sub', st: { mode: 0o40777 } },
    { kind: K.Delete, dst: 'sub/victim', st: { mode: 0o100644 } },
    { kind: K.Attrs, src: path.join(src, 'f4097'), dst: 'sub/victim', st: { ...fst, mode: 0o100777 } },
    { kind: K.File, src: path.join(src, 'f4097'), dst: '../escape', st: fst },
    { kind: K.File, src: path.join(src, 'f4097'), dst: '/abs', st: fst },
    // The last component may be a symlink: it is replaced, never written through.
    { kind: K.File, src: path.join(src, 'f4097'), dst: 'victimlink', st: fst },
  ];
  const ctx = ctxOf(engine, dst, ARCHIVE);
  const fails = addon.run(ctx, encode(ops));
  addon.closeContext(ctx);
  if (process.env.DBG) console.log(fails.map((f) => [f.index, f.errno, f.syscall, String(f.path), f.onDest]));
  const failed = new Set(fails.map((f) => f.index));
  for (let i = 0; i < 9; i++) check(failed.has(i), `${engine}: planted symlink op ${i} (${ops[i].dst}) fails`);
  check(!failed.has(9), `${engine}: a symlink at the target name is replaced`);
  check(fs.readdirSync(outside).join() === 'victim', `${engine}: nothing created outside (${fs.readdirSync(outside)})`);
  check(fs.readFileSync(path.join(outside, 'victim'), 'utf8') === 'precious', `${engine}: outside file untouched`);
  check((fs.statSync(path.join(outside, 'victim')).mode & 0o777) !== 0o777, `${engine}: outside mode untouched`);
  check(fs.lstatSync(path.join(dst, 'victimlink')).isFile(), `${engine}: target symlink replaced by a file`);
  check(fails.some((f) => f.errno === os.constants.errno.ELOOP && f.onDest && f.syscall === 'open'), `${engine}: ELOOP on open reported`);

  // -K: a symlink to a directory inside the destination may be followed; one pointing out may not.
  fs.mkdirSync(path.join(dst, 'real'));
  fs.symlinkSync('real', path.join(dst, 'inlink'));
  const k = ctxOf(engine, dst, ARCHIVE | P.KeepDirlinks);
  const kf = addon.run(k, encode([
    { kind: K.File, src: path.join(src, 'f1'), dst: 'inlink/f1', st: statOf(addon.lstat(Buffer.from(path.join(src, 'f1')))) },
    { kind: K.File, src: path.join(src, 'f1'), dst: 'sub/f1', st: statOf(addon.lstat(Buffer.from(path.join(src, 'f1')))) },
  ]));
  addon.closeContext(k);
  check(kf.length === 1 && kf[0].index === 1, `${engine} -K: inside link followed, outside link refused (${JSON.stringify(kf.map((f) => [f.index, f.errno]))})`);
  check(fs.existsSync(path.join(dst, 'real', 'f1')) && !fs.existsSync(path.join(outside, 'f1')), `${engine} -K: wrote only inside`);
}

function testSources(engine, base, src) {
  const dst = path.join(base, `srcchk-${engine}`);
  fs.mkdirSync(dst, { recursive: true });
  const f = path.join(base, `moving-${engine}`);
  fs.writeFileSync(f, 'one');
  const st = statOf(addon.lstat(Buffer.from(f)));
  const ctx = ctxOf(engine, dst, ARCHIVE);
  const wrongIno = addon.run(ctx, encode([{ kind: K.File, src: f, dst: 'x', st: { ...st, ino: st.ino + 12345 } }]));
  check(wrongIno.length === 1 && wrongIno[0].errno === os.constants.errno.ESTALE && wrongIno[0].syscall === 'fstat' && !wrongIno[0].onDest, `${engine}: changed source is ESTALE/fstat`);
  fs.unlinkSync(f);
  fs.symlinkSync('/etc/passwd', f);
  const swapped = addon.run(ctx, encode([{ kind: K.File, src: f, dst: 'x', st }]));
  check(swapped.length === 1 && swapped[0].errno === os.constants.errno.ESTALE, `${engine}: source swapped for a symlink is refused`);
  fs.unlinkSync(f);
  sh('mkfifo', [f]);
  const fifo = addon.run(ctx, encode([{ kind: K.File, src: f, dst: 'x', st: { ...st, ino: 0, dev: 0 } }]));
  check(fifo.length === 1 && fifo[0].errno === os.constants.errno.ESTALE, `${engine}: a FIFO swapped in does not hang and is refused`);
  const gone = addon.run(ctx, encode([{ kind: K.File, src: f + '-missing', dst: 'x', st }]));
  check(gone.length === 1 && gone[0].errno === os.constants.errno.ENOENT && gone[0].syscall === 'open', `${engine}: vanished source is ENOENT/open`);
  check(!fs.existsSync(path.join(dst, 'x')) && noTemps(dst).length === 0, `${engine}: failed ops leave nothing`);
  // A directory in the way: empty is replaced, non-empty fails with rmdir.
  fs.mkdirSync(path.join(dst, 'empty'));
  fs.mkdirSync(path.join(dst, 'full'));
  fs.writeFileSync(path.join(dst, 'full', 'x'), '');
  const g = path.join(src, 'f4096');
  const gst = statOf(addon.lstat(Buffer.from(g)));
  const dirs = addon.run(ctx, encode([{ kind: K.File, src: g, dst: 'empty', st: gst }, { kind: K.File, src: g, dst: 'full', st: gst }]));
  check(fs.lstatSync(path.join(dst, 'empty')).isFile(), `${engine}: empty directory replaced by the file`);
  check(dirs.length === 1 && dirs[0].syscall === 'rmdir' && dirs[0].errno === os.constants.errno.ENOTEMPTY, `${engine}: non-empty directory fails with rmdir`);
  addon.closeContext(ctx);
}

function testOps(engine, base, src) {
  const dst = path.join(base, `ops-${engine}`);
  fs.mkdirSync(path.join(dst, 'bk'), { recursive: true });
  const cnt = counters();
  const ctx = ctxOf(engine, dst, ARCHIVE, cnt);
  const f = path.join(src, 'f4097');
  const st = statOf(addon.lstat(Buffer.from(f)));
  // Compare: equal content → Equal (attrs set), different content → copied.
  fs.writeFileSync(path.join(dst, 'same'), fs.readFileSync(f));
  fs.writeFileSync(path.join(dst, 'diff'), Buffer.alloc(4097, 1));
  fs.writeFileSync(path.join(dst, 'todel'), 'x');
  fs.writeFileSync(path.join(dst, 'tobackup'), 'old');
  fs.writeFileSync(path.join(dst, 'attrs'), fs.readFileSync(f));
  sh('setfattr', ['-n', 'user.stale', '-v', 'x', path.join(dst, 'attrs')]);
  const outcomes = new Uint8Array(9);
  const fails = addon.run(ctx, encode([
    { kind: K.File, src: f, dst: 'same', st, flags: F.Compare },
    { kind: K.File, src: f, dst: 'diff', st, flags: F.Compare },
    { kind: K.Delete, dst: 'todel', st: { mode: 0o100644 } },
    { kind: K.Delete, dst: 'missing', st: { mode: 0o100644 } },
    { kind: K.LinkFrom, src: f, dst: 'linked', st },
    { kind: K.Backup, src: path.join(dst, 'bk', 'tobackup~'), dst: 'tobackup', st },
    { kind: K.Backup, src: path.join(base, `outside-bk-${engine}`), dst: 'f-none', st },
    { kind: K.Attrs, src: f, dst: 'attrs', st },
    { kind: K.File, src: path.join(src, 'link'), dst: 'followed', st: statOf(addon.lstat(Buffer.from(f))), flags: F.FollowSource },
  ]), outcomes);
  check(fails.length === 0, `${engine}: op kinds run (${JSON.stringify(fails.map((x) => [x.index, x.errno, x.syscall]))})`);
  check(JSON.stringify([...outcomes]) === JSON.stringify([2, 1, 1, 1, 1, 1, 1, 1, 1]), `${engine}: outcomes ${[...outcomes]}`);
  const same = fs.lstatSync(path.join(dst, 'same'), { bigint: true });
  check(same.mtimeNs === fs.lstatSync(f, { bigint: true }).mtimeNs, `${engine}: Equal sets times`);
  check(fattr(path.join(dst, 'same')).includes('user.test'), `${engine}: Equal sets xattrs`);
  check(fs.readFileSync(path.join(dst, 'diff')).equals(fs.readFileSync(f)), `${engine}: Compare copies different content`);
  check(!fs.existsSync(path.join(dst, 'todel')) && cnt[C.Deleted] === 1n, `${engine}: Delete`);
  check(fs.statSync(path.join(dst, 'linked')).ino === fs.statSync(f).ino, `${engine}: LinkFrom links the outside file`);
  check(fs.readFileSync(path.join(dst, 'bk', 'tobackup~'), 'utf8') === 'old' && !fs.existsSync(path.join(dst, 'tobackup')), `${engine}: Backup inside the destination`);
  const a = fattr(path.join(dst, 'attrs'));
  check(!a.includes('user.stale') && a.includes('user.test'), `${engine}: Attrs makes xattrs equal`);
  check(fs.readFileSync(path.join(dst, 'followed')).equals(fs.readFileSync(f)), `${engine}: FollowSource copies the link target`);
  // xattrDiff / readlinkDest / scanDest
  check(addon.xattrDiff(ctx, Buffer.from(f), Buffer.from('attrs'), P.Xattrs | P.Acls) === 0, `${engine}: xattrDiff equal`);
  fs.writeFileSync(path.join(dst, 'plain'), '');
  check(addon.xattrDiff(ctx, Buffer.from(f), Buffer.from('plain'), P.Xattrs) === 1, `${engine}: xattrDiff differs`);
  check(addon.xattrDiff(ctx, Buffer.from(path.join(src, 'f4096')), Buffer.from('plain'), P.Acls | P.Xattrs) === 2, `${engine}: xattrDiff ACLs differ`);
  fs.symlinkSync('some/target', path.join(dst, 'sl'));
  check(String(addon.readlinkDest(ctx, Buffer.from('sl'))) === 'some/target', `${engine}: readlinkDest`);
  const sd = addon.scanDest(ctx, Buffer.from(''));
  check(!('errno' in sd) && String(sd.names).split('\0').includes('attrs'), `${engine}: scanDest`);
  check(addon.scanDest(ctx, Buffer.from('nope')).errno === os.constants.errno.ENOENT, `${engine}: scanDest ENOENT`);
  // --inplace: the target's inode is kept and its tail is cut.
  fs.writeFileSync(path.join(dst, 'inpl'), Buffer.alloc(10000, 7));
  const ino = fs.statSync(path.join(dst, 'inpl')).ino;
  const ip = ctxOf(engine, dst, ARCHIVE | P.Inplace);
  check(addon.run(ip, encode([{ kind: K.File, src: f, dst: 'inpl', st }])).length === 0, `${engine}: inplace runs`);
  addon.closeContext(ip);
  check(fs.statSync(path.join(dst, 'inpl')).ino === ino && fs.readFileSync(path.join(dst, 'inpl')).equals(fs.readFileSync(f)), `${engine}: inplace content and inode`);
  // Large files: copy_file_range (>= 8 MiB) and --direct (O_DIRECT, block-padded tail) paths.
  const large = path.join(base, `large-${engine}`);
  const lb = Buffer.alloc((9 << 20) + 4099);
  for (let i = 0; i < lb.length; i += 512) lb[i] = (i >> 9) & 255;
  fs.writeFileSync(large, lb);
  const lst = statOf(addon.lstat(Buffer.from(large)));
  for (const direct of [false, true]) {
    const dc = ctxOf(engine, dst, ARCHIVE, counters(), { direct, bufferSize: 1 << 20, bufferCount: 8 });
    const r = addon.run(dc, encode([{ kind: K.File, src: large, dst: `large-${direct}`, st: lst }]));
    addon.closeContext(dc);
    check(r.length === 0 && fs.readFileSync(path.join(dst, `large-${direct}`)).equals(lb), `${engine}: large file, direct=${direct}`);
  }
  // --remove-source-files
  const rs = path.join(base, `rs-${engine}`);
  fs.writeFileSync(rs, 'bye');
  const rst = statOf(addon.lstat(Buffer.from(rs)));
  check(addon.run(ctx, encode([{ kind: K.File, src: rs, dst: 'rs', st: rst, flags: F.RemoveSource }])).length === 0 && !fs.existsSync(rs), `${engine}: RemoveSource`);
  addon.closeContext(ctx);
}

function testEnospc(engine, base, src) {
  const mnt = path.join(base, `small-${engine}`);
  fs.mkdirSync(mnt);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status !== 0) {
    console.log(`skip ${engine}: ENOSPC (cannot mount a small tmpfs here)`);
    return;
  }
  try {
    fs.writeFileSync(path.join(mnt, 'big'), 'old target');
    const f = path.join(src, 'f1048579');
    const ctx = ctxOf(engine, mnt, ARCHIVE);
    const fails = addon.run(ctx, encode([{ kind: K.File, src: f, dst: 'big', st: statOf(addon.lstat(Buffer.from(f))) }]));
    addon.closeContext(ctx);
    check(fails.length === 1 && fails[0].errno === os.constants.errno.ENOSPC && fails[0].onDest, `${engine}: ENOSPC reported (${JSON.stringify(fails.map((x) => [x.errno, x.syscall]))})`);
    check(fs.readFileSync(path.join(mnt, 'big'), 'utf8') === 'old target', `${engine}: ENOSPC keeps the old target`);
    check(fs.readdirSync(mnt).join() === 'big', `${engine}: ENOSPC leaves no temp file (${fs.readdirSync(mnt)})`);
  } finally {
    spawnSync('umount', [mnt]);
  }
}

/** Abort from another thread while a worker copies a large file: the temp file must disappear. */
async function testAbort(engine, base) {
  const big = path.join(base, `abort-src-${engine}`);
  const fd = fs.openSync(big, 'w');
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  for (let i = 0; i < 512; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  const dst = path.join(base, `abort-${engine}`);
  fs.mkdirSync(dst);
  const cnt = counters();
  const w = new Worker(fileURLToPath(import.meta.url), { workerData: { role: 'abort', engine, big, dst, cnt } });
  await new Promise((r) => w.once('message', r)); // started
  while (Atomics.load(cnt, C.Bytes) === 0n) await new Promise((r) => setTimeout(r, 1));
  Atomics.store(cnt, C.Abort, 1n);
  const res = await new Promise((r) => w.once('message', r));
  await w.terminate();
  check(res.fails === 0, `${engine}: aborted ops are not failures`);
  check(res.outcome === 0, `${engine}: aborted op outcome is NotRun`);
  check(fs.readdirSync(dst).length === 0, `${engine}: abort leaves no temp file (${fs.readdirSync(dst)})`);
  check(Atomics.load(cnt, C.Bytes) < 512n << 20n, `${engine}: abort stopped the copy early`);
}

/** Contexts on several threads at once, each with its own ring. */
async function testThreads(engine, base, src) {
  const ws = [0, 1, 2].map((i) => new Worker(fileURLToPath(import.meta.url), { workerData: { role: 'tree', engine, src, dst: path.join(base, `thr-${engine}-${i}`) } }));
  const res = await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
  await Promise.all(ws.map((w) => w.terminate()));
  check(res.every((r) => r === 0), `${engine}: trees copied from 3 threads at once (${res})`);
  for (let i = 0; i < 3; i++) compareTrees(src, path.join(base, `thr-${engine}-${i}`), `${engine} thread ${i}`);
}

/** Under `ulimit -n 48` opens hit EMFILE: the engine drains, drops its cached fd and retries. */
function testEmfile(engine, base) {
  const dst = path.join(base, `emfile-${engine}`);
  fs.mkdirSync(dst);
  const me = fileURLToPath(import.meta.url);
  const r = spawnSync('sh', ['-c', `ulimit -n 48 && exec "${process.execPath}" "${me}" --emfile-child ${engine} "${path.join(base, 'many-src')}" "${dst}"`], { encoding: 'utf8' });
  check(r.status === 0, `${engine}: EMFILE child ran (${r.status} ${r.stderr.slice(0, 300)})`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
  check(out.fails === 0 && out.files === 2000, `${engine}: under ulimit -n 48 every file still copies (${JSON.stringify(out)})`);
}

/** Many small files in several batches: no fd leaks, counters add up. */
function testMany(engine, base) {
  const src = path.join(base, `many-src`);
  if (!fs.existsSync(src)) {
    fs.mkdirSync(src);
    for (let d = 0; d < 20; d++) {
      fs.mkdirSync(path.join(src, `d${d}`));
      for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(src, `d${d}`, `f${i}`), Buffer.alloc((i * 97) % 9000, i));
    }
  }
  const dst = path.join(base, `many-${engine}`);
  fs.mkdirSync(dst);
  const fds = fdCount();
  const cnt = counters();
  const ctx = ctxOf(engine, dst, ARCHIVE, cnt);
  const ops = planTree(src);
  for (let i = 0; i < ops.length; i += 500) {
    const f = addon.run(ctx, encode(ops.slice(i, i + 500)));
    check(f.length === 0, `${engine}: many-files batch ${i}`);
  }
  addon.closeContext(ctx);
  check(cnt[C.Files] === 2000n, `${engine}: 2000 files counted (${cnt[C.Files]})`);
  check(fdCount() === fds, `${engine}: no fd leak after 2000 files (${fds} -> ${fdCount()})`);
  compareTrees(src, dst, `${engine} many`);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function bench() {
  const arg = (k, d) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
  const nfiles = arg('files', 20000);
  const mib = arg('mib', 1024);
  const reps = arg('reps', 3);
  const depth = arg('depth', 64);
  const bufsize = arg('bufsize', 1024) * 1024;
  const bufcount = arg('bufcount', 32);
  const dirArg = process.argv.find((a) => a.startsWith('--dir='))?.slice(6) ?? '/dev/shm';
  // --cold: drop the page cache before each run (root only), for the real-disk cold-cache case.
  const cold = process.argv.includes('--cold');
  const base = fs.mkdtempSync(path.join(dirArg, 'arsync-nbench-'));
  const flags = P.Perms | P.Owner | P.Group | P.Times | P.Devices | P.Specials;
  try {
    const small = path.join(base, 'small');
    let total = 0;
    for (let d = 0; d < nfiles / 200; d++) {
      fs.mkdirSync(path.join(small, `d${d}`), { recursive: true });
      for (let i = 0; i < 200; i++) {
        const n = 1 + ((d * 200 + i) * 7919) % 8192;
        total += n;
        fs.writeFileSync(path.join(small, `d${d}`, `f${i}`), Buffer.alloc(n, i));
      }
    }
    const big = path.join(base, 'big');
    fs.mkdirSync(big);
    const fd = fs.openSync(path.join(big, 'one'), 'w');
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 255;
    for (let i = 0; i < mib; i++) fs.writeSync(fd, chunk);
    fs.closeSync(fd);
    const engines = (process.argv.find((a) => a.startsWith('--engine='))?.slice(9) ?? 'sync,uring').split(',');
    for (const [label, src, bytes] of [[`${nfiles} files 1B-8KiB (${(total / 2 ** 20).toFixed(0)} MiB)`, small, total], [`one ${mib} MiB file`, big, mib * 2 ** 20]]) {
      const ops = planTree(src);
      const batches = [];
      for (let i = 0; i < ops.length; i += 1000) batches.push(encode(ops.slice(i, i + 1000)));
      const times = Object.fromEntries(engines.map((e) => [e, []]));
      const cpu = Object.fromEntries(engines.map((e) => [e, []]));
      for (let r = 0; r < reps; r++) {
        for (const engine of engines) {
          const dst = path.join(base, `dst-${engine}`);
          fs.rmSync(dst, { recursive: true, force: true });
          fs.mkdirSync(dst);
          if (cold) {
            execFileSync('sync');
            fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
          }
          const ctx = ctxOf(engine, dst, flags, counters(), { queueDepth: depth, bufferSize: bufsize, bufferCount: bufcount });
          const t0 = process.hrtime.bigint();
          const c0 = process.cpuUsage(); // all threads, io_uring's io-wq workers included
          for (const b of batches) if (addon.run(ctx, b).length) throw new Error(`${engine}: failures`);
          times[engine].push(Number(process.hrtime.bigint() - t0) / 1e6);
          const c1 = process.cpuUsage(c0);
          cpu[engine].push((c1.user + c1.system) / 1000);
          addon.closeContext(ctx);
        }
      }
      console.log(label);
      for (const engine of engines) {
        const ms = median(times[engine]);
        // The machine is shared: the fastest run and the CPU time say more than the median wall time.
        const best = Math.min(...times[engine]);
        console.log(`  ${engine.padEnd(6)} wall median ${ms.toFixed(0).padStart(5)} ms, best ${best.toFixed(0).padStart(5)} ms (${(bytes / 2 ** 20 / (best / 1000)).toFixed(0)} MiB/s), cpu median ${median(cpu[engine]).toFixed(0).padStart(5)} ms`);
      }
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

if (isMainThread && process.argv.includes('--bench')) {
  bench();
  process.exit(0);
}

if (isMainThread && process.argv[2] === '--emfile-child') {
  const [, , , engine, src, dst] = process.argv;
  const cnt = counters();
  const ctx = ctxOf(engine, dst, ARCHIVE, cnt, { queueDepth: 64 });
  const ops = planTree(src);
  let fails = 0;
  const seen = new Set();
  for (let i = 0; i < ops.length; i += 1000) {
    const f = addon.run(ctx, encode(ops.slice(i, i + 1000)));
    fails += f.length;
    for (const x of f) seen.add(`${x.errno}/${x.syscall}`);
  }
  addon.closeContext(ctx);
  console.log(JSON.stringify({ fails, files: Number(cnt[C.Files]), errors: [...seen] }));
  process.exit(0);
}

if (!isMainThread) {
  const { role, engine } = workerData;
  if (role === 'abort') {
    const ctx = ctxOf(engine, workerData.dst, ARCHIVE, workerData.cnt, { bufferSize: 64 * 1024, bufferCount: 4 });
    parentPort.postMessage('started');
    const outcomes = new Uint8Array(1);
    const fails = addon.run(ctx, encode([{ kind: K.File, src: workerData.big, dst: 'big', st: statOf(addon.lstat(Buffer.from(workerData.big))) }]), outcomes);
    addon.closeContext(ctx);
    parentPort.postMessage({ fails: fails.length, outcome: outcomes[0] });
  } else {
    const { fails } = copyTree(engine, workerData.src, workerData.dst);
    parentPort.postMessage(fails.length);
  }
} else {
  const only = process.argv.find((a) => a.startsWith('--engine='))?.slice(9);
  const keep = process.argv.includes('--keep');
  const engines = only ? [only] : ['sync', 'uring'];
  const probe = addon.uringProbe();
  console.log(`uringProbe() = ${probe}`);
  if (probe !== 0 && engines.includes('uring')) {
    console.log('io_uring unavailable here: testing the sync engine only');
    engines.splice(engines.indexOf('uring'), 1);
  }
  if (process.geteuid() !== 0) console.log('note: not root; owner and trusted.* checks are weaker');
  const base = fs.mkdtempSync('/dev/shm/arsync-smoke-');
  try {
    const src = makeSource(base);
    for (const engine of engines) {
      testTree(engine, base, src);
      testSafety(engine, base, src);
      testSources(engine, base, src);
      testOps(engine, base, src);
      testEnospc(engine, base, src);
      testMany(engine, base);
      testEmfile(engine, base);
      await testAbort(engine, base);
      await testThreads(engine, base, src);
    }
  } finally {
    if (!keep) fs.rmSync(base, { recursive: true, force: true });
    else console.log(`kept ${base}`);
  }
  console.log(`${checks - failed}/${checks} checks passed`);
  process.exit(failed ? 1 : 0);
}
