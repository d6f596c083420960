// --write-batch, --only-write-batch and --read-batch against rsync 3.5, both ways: a batch arsync writes
// is applied by rsync's --read-batch to a copy of the old destination, a batch rsync writes (incremental
// list, delta tokens against the old files) is applied by arsync's, and arsync reads its own (also from
// standard input). Each compares the trees (bytes, modes, times, owners, hard links), the exit codes, the
// -i lines and the FILE.sh script with rsync's; then rsync's refusals and errors.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { BIN, fidelity, runCli, type EngineName } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { bytes, clone, put, stampTree, statSnapshot, snapshotDiff } from '../helpers/differential.js';
import { fakeRsh } from '../helpers/fake-rsh.js';

afterAll(() => removeTemps());

const BIG = bytes(300_000, 11);

/** A source and an older destination: a changed big file (a delta's basis), new files, a hard-link pair, a symlink, a stale file. */
function setup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a.txt', 'alpha\n');
  const big = Buffer.from(BIG);
  big.write('CHANGED', 150_000);
  put(src, 'big.bin', big);
  put(src, 'exec.sh', '#!/bin/sh\necho hi\n', 0o755);
  put(src, 'empty', '');
  put(src, 'sub/deep/c.txt', 'deep\n');
  put(src, 'sub/b.txt', 'bee\n');
  fs.linkSync(path.join(src, 'sub/b.txt'), path.join(src, 'hard'));
  fs.symlinkSync('a.txt', path.join(src, 'link'));
  stampTree(src);
  const old = path.join(root, 'old');
  put(old, 'a.txt', 'old alpha\n');
  put(old, 'big.bin', BIG);
  put(old, 'stale', 'stale\n');
  put(old, 'sub/b.txt', 'bee\n');
  stampTree(old, 1_600_000_000);
}

function rsync(args: string[], cwd: string, input?: Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('rsync', args, { cwd, encoding: 'utf8', ...(input ? { input } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The -i lines (and rsync's notes), sorted: the two tools print them in their own orders. */
const items = (out: string): string[] =>
  out
    .split('\n')
    .filter((l) => l && !/^(sent |total size|Setting the |receiving file list|sending incremental)/.test(l))
    .sort();

function expectSameTree(want: string, got: string, engine: EngineName, ctx: string): void {
  const diffs = compareTrees(want, got, { mtimeToleranceNs: fidelity(engine).mtimeToleranceNs, xattrs: false, acls: false });
  expect(formatDiffs(diffs), ctx).toEqual([]);
}

describeEngines((e) => {
  const engine = e.name;
  const eng = `--engine=${engine}`;

  it('arsync --write-batch: the copy rsync makes, a FILE.sh like rsync\'s, and rsync --read-batch applies the batch to the old destination', async () => {
    const root = tempDir(`arsync-batch-w-${engine}-`);
    setup(root);
    clone(path.join(root, 'old'), path.join(root, 'dst'));
    clone(path.join(root, 'old'), path.join(root, 'rdst'));
    clone(path.join(root, 'old'), path.join(root, 'copy1'));
    clone(path.join(root, 'old'), path.join(root, 'copy2'));
    const opts = ['-aH', '--delete', '-i'];
    const ours = await runCli(['--write-batch=B', ...opts, 'src/', 'dst/', eng], { cwd: root });
    const theirs = rsync(['--write-batch=R', ...opts, 'src/', 'rdst/'], root);
    expect(ours.code, ours.stderr).toBe(0);
    expect(theirs.code).toBe(0);
    expect(items(ours.stdout)).toEqual(items(theirs.stdout));
    expectSameTree(path.join(root, 'rdst'), path.join(root, 'dst'), engine, 'the copy');
    // The script: rsync's words, with the batch's and destination's names ours, and our program as it was run.
    const sh = fs.readFileSync(path.join(root, 'B.sh'), 'utf8');
    // (--engine is one of the options, kept in the script as rsync keeps every option.)
    expect(sh.replace(` --engine='${engine}'`, '')).toBe(fs.readFileSync(path.join(root, 'R.sh'), 'utf8').replace("'rsync'", `'${BIN}'`).replace("'R'", "'B'").replace("'rdst/'", "'dst/'"));
    expect(sh).toBe(`'${BIN}' --read-batch='B' '-aH' '--delete' '-i' --engine='${engine}' \${1:-'dst/'}\n`);
    expect(fs.statSync(path.join(root, 'B.sh')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(root, 'B')).mode & 0o777).toBe(0o600);
    // rsync applies each batch to a copy of the old destination, alike.
    const r1 = rsync(['-aH', '--delete', '-i', '--read-batch=B', 'copy1/'], root);
    const r2 = rsync(['-aH', '--delete', '-i', '--read-batch=R', 'copy2/'], root);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr).toBe('');
    expect(items(r1.stdout)).toEqual(items(r2.stdout));
    expectSameTree(path.join(root, 'dst'), path.join(root, 'copy1'), engine, 'rsync --read-batch of our batch');
    expect(fs.statSync(path.join(root, 'copy1/hard')).ino).toBe(fs.statSync(path.join(root, 'copy1/sub/b.txt')).ino);
    expect(fs.existsSync(path.join(root, 'copy1/stale'))).toBe(false);
  });

  it("rsync --write-batch (incremental list, delta tokens): arsync --read-batch makes rsync's tree and prints rsync's lines", async () => {
    const root = tempDir(`arsync-batch-r-${engine}-`);
    setup(root);
    for (const d of ['rdst', 'copy1', 'copy2', 'copy3']) clone(path.join(root, 'old'), path.join(root, d));
    const w = rsync(['--write-batch=R', '-aH', '--delete', '--stats', 'src/', 'rdst/'], root);
    expect(w.code).toBe(0);
    // A delta: most of big.bin came from the old file's blocks, so the batch is far smaller than it.
    expect(w.stdout).toMatch(/Matched data: 29\d,\d{3} bytes/);
    expect(fs.statSync(path.join(root, 'R')).size).toBeLessThan(20_000);
    const theirs = rsync(['-aH', '--delete', '-i', '--read-batch=R', 'copy1/'], root);
    const ours = await runCli(['-aH', '--delete', '-i', '--read-batch=R', 'copy2/', eng], { cwd: root });
    expect(ours.code, ours.stderr).toBe(theirs.code);
    expect(ours.stderr).toBe('');
    expect(items(ours.stdout)).toEqual(items(theirs.stdout));
    expectSameTree(path.join(root, 'copy1'), path.join(root, 'copy2'), engine, 'arsync --read-batch of rsync\'s batch');
    expect(fs.readFileSync(path.join(root, 'copy2/big.bin'))).toEqual(fs.readFileSync(path.join(root, 'src/big.bin')));
    expect(fs.statSync(path.join(root, 'copy2/hard')).ino).toBe(fs.statSync(path.join(root, 'copy2/sub/b.txt')).ino);
    // -v: rsync's notes about the options the batch sets.
    const v = await runCli(['-v', '--read-batch=R', 'copy3/', eng], { cwd: root });
    const rv = rsync(['-v', '--read-batch=R', 'copy1/'], root);
    expect(v.code).toBe(rv.code);
    const notes = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('Setting the ') || l.startsWith('Incompatible'));
    expect(notes(v.stdout + v.stderr)).toEqual(notes(rv.stdout + rv.stderr));
  });

  it("--read-batch --delete-before under --info=flist2: the delete pass's file-list progress, as rsync's receiving client draws it", async () => {
    const root = tempDir(`arsync-batch-flist-${engine}-`);
    setup(root);
    for (const d of ['rdst', 'copy1', 'copy2']) clone(path.join(root, 'old'), path.join(root, d));
    expect(rsync(['--write-batch=R', '-a', '--delete-before', 'src/', 'rdst/'], root).code).toBe(0);
    const args = ['-a', '--delete-before', '-v', '--info=flist2', '--read-batch=R'];
    const theirs = rsync([...args, 'copy1/'], root);
    const ours = await runCli([...args, 'copy2/', eng], { cwd: root });
    expect(ours.code, ours.stderr).toBe(theirs.code);
    // The deletion changes the root's time: rsync's receiver, another process, prints its "./" anywhere
    // in the pass's output (arsync after it).
    const rate = (out: string): string => out.replace(/ [\d,.]+ bytes\/sec$/m, ' …').replace('./\n', '');
    expect(rate(ours.stdout)).toBe(rate(theirs.stdout));
    expect(ours.stdout).toContain(`11 files to consider\n 0 files...\r\ndeleting stale\n 0 files...\r\n${' '.repeat(20)}\r`);
    expectSameTree(path.join(root, 'copy1'), path.join(root, 'copy2'), engine, '--read-batch --delete-before');
  });

  it('rsync --write-batch --no-i-r -z: arsync reads the whole list and the compressed tokens', async () => {
    const root = tempDir(`arsync-batch-z-${engine}-`);
    setup(root);
    for (const d of ['rdst', 'copy']) clone(path.join(root, 'old'), path.join(root, d));
    expect(rsync(['--write-batch=R', '--no-i-r', '-z', '-a', 'src/', 'rdst/'], root).code).toBe(0);
    const ours = await runCli(['-a', '--read-batch=R', 'copy/', eng], { cwd: root });
    expect(ours.code, ours.stderr).toBe(0);
    expectSameTree(path.join(root, 'rdst'), path.join(root, 'copy'), engine, '-z batch');
  });

  it('arsync writes -z, reads its own batch, and reads one from standard input', async () => {
    const root = tempDir(`arsync-batch-self-${engine}-`);
    setup(root);
    for (const d of ['dst', 'copy1', 'copy2', 'copy3']) clone(path.join(root, 'old'), path.join(root, d));
    const w = await runCli(['--write-batch=B', '-z', '-a', 'src/', 'dst/', eng], { cwd: root });
    expect(w.code, w.stderr).toBe(0);
    const self = await runCli(['-a', '--read-batch=B', 'copy1/', eng], { cwd: root });
    expect(self.code, self.stderr).toBe(0);
    expectSameTree(path.join(root, 'dst'), path.join(root, 'copy1'), engine, 'arsync reads its own batch');
    const r = rsync(['-a', '--read-batch=B', 'copy2/'], root);
    expect(r.code, r.stderr).toBe(0);
    expectSameTree(path.join(root, 'dst'), path.join(root, 'copy2'), engine, "rsync reads arsync's -z batch");
    const stdin = spawnSync('sh', ['-c', `node ${JSON.stringify(path.resolve('dist/bin.js'))} -a --read-batch=- copy3/ ${eng} < B`], { cwd: root, encoding: 'utf8' });
    expect(stdin.status, stdin.stderr).toBe(0);
    expectSameTree(path.join(root, 'dst'), path.join(root, 'copy3'), engine, '--read-batch=-');
  });

  it('--checksum-seed: the batch holds the seed given, as rsync\'s does, and rsync applies it', async () => {
    const root = tempDir(`arsync-batch-seed-${engine}-`);
    setup(root);
    for (const d of ['dst', 'rdst', 'copy']) clone(path.join(root, 'old'), path.join(root, d));
    const w = await runCli(['--write-batch=B', '--checksum-seed=1234', '-a', 'src/', 'dst/', eng], { cwd: root });
    expect(w.code, w.stderr).toBe(0);
    expect(rsync(['--write-batch=R', '--checksum-seed=1234', '-a', 'src/', 'rdst/'], root).code).toBe(0);
    // The header: the stream flags and the protocol (two int32), the compatibility flags (a varint: 0x80
    // and one more byte here), then the seed.
    const seed = (f: string): number => {
      const b = fs.readFileSync(path.join(root, f));
      expect(b[8]! & 0xc0, f).toBe(0x80);
      return b.readInt32LE(10);
    };
    expect(seed('R')).toBe(1234);
    expect(seed('B')).toBe(1234);
    const r = rsync(['-a', '--read-batch=B', 'copy/'], root);
    expect(r.code, r.stderr).toBe(0);
    expectSameTree(path.join(root, 'dst'), path.join(root, 'copy'), engine, "rsync reads arsync's seeded batch");
  });

  it('--only-write-batch leaves the destination as it was, says (BATCH ONLY), and its batch applies', async () => {
    const root = tempDir(`arsync-batch-only-${engine}-`);
    setup(root);
    for (const d of ['dst', 'rdst', 'copy', 'copy2']) clone(path.join(root, 'old'), path.join(root, d));
    const before = statSnapshot(path.join(root, 'dst'));
    const ours = await runCli(['--only-write-batch=B', '-av', 'src/', 'dst/', eng], { cwd: root });
    const theirs = rsync(['--only-write-batch=R', '-av', 'src/', 'rdst/'], root);
    expect(ours.code, ours.stderr).toBe(theirs.code);
    expect(snapshotDiff(before, statSnapshot(path.join(root, 'dst')))).toEqual([]);
    expect(ours.stdout).toMatch(/speedup is [\d.,]+ \(BATCH ONLY\)\n/);
    expect(items(ours.stdout)).toEqual(items(theirs.stdout));
    // Each tool's batch, applied by rsync to a copy of the old destination, makes the same tree.
    const r = rsync(['-a', '--read-batch=B', 'copy/'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(rsync(['-a', '--read-batch=R', 'copy2/'], root).code).toBe(0);
    expectSameTree(path.join(root, 'copy2'), path.join(root, 'copy'), engine, 'the only-written batch applied');
    expect(fs.readFileSync(path.join(root, 'copy/big.bin'))).toEqual(fs.readFileSync(path.join(root, 'src/big.bin')));
  });

  it('--write-batch in a pull records the sender\'s stream: rsync --read-batch applies it, and so does arsync', async () => {
    const root = tempDir(`arsync-batch-pull-${engine}-`);
    setup(root);
    for (const d of ['dst', 'rdst', 'copy1', 'copy2']) clone(path.join(root, 'old'), path.join(root, d));
    const rsh = fakeRsh(root);
    const ours = await runCli(['-e', rsh, '--write-batch=P', '-a', `localhost:${root}/src/`, 'dst/', eng], { cwd: root });
    expect(ours.code, ours.stderr).toBe(0);
    expect(rsync(['-e', rsh, '--write-batch=R', '-a', `localhost:${root}/src/`, 'rdst/'], root).code).toBe(0);
    expectSameTree(path.join(root, 'rdst'), path.join(root, 'dst'), engine, 'the pull');
    expect(fs.readFileSync(path.join(root, 'P.sh'), 'utf8')).toBe(
      fs.readFileSync(path.join(root, 'R.sh'), 'utf8').replace("'rsync'", `'${BIN}'`).replace("'R'", "'P'").replace(" ${1:-'rdst/'}", ` --engine='${engine}' \${1:-'dst/'}`),
    );
    const r = rsync(['-a', '--read-batch=P', 'copy1/'], root);
    expect(r.code, r.stderr).toBe(0);
    expectSameTree(path.join(root, 'dst'), path.join(root, 'copy1'), engine, "rsync reads a pull's batch");
    const a = await runCli(['-a', '--read-batch=P', 'copy2/', eng], { cwd: root });
    expect(a.code, a.stderr).toBe(0);
    expectSameTree(path.join(root, 'dst'), path.join(root, 'copy2'), engine, "arsync reads a pull's batch");
    // (test/e2e/batch-remote.test.ts has -z, -H, -X, -A and --only-write-batch in a pull and a push.)
  });

  it("--write-batch in a push records what this side sends: rsync's script, and both tools apply the batch", async () => {
    const root = tempDir(`arsync-batch-push-${engine}-`);
    setup(root);
    for (const d of ['dst', 'rdst', 'copy1', 'copy2']) clone(path.join(root, 'old'), path.join(root, d));
    const rsh = fakeRsh(root);
    const ours = await runCli(['-e', rsh, '--write-batch=P', '-aH', '--delete', 'src/', `localhost:${root}/dst/`, eng], { cwd: root });
    expect(ours.code, ours.stderr).toBe(0);
    expect(rsync(['-e', rsh, '--write-batch=R', '-aH', '--delete', 'src/', `localhost:${root}/rdst/`], root).code).toBe(0);
    expectSameTree(path.join(root, 'rdst'), path.join(root, 'dst'), engine, 'the push');
    expect(fs.readFileSync(path.join(root, 'P.sh'), 'utf8')).toBe(
      fs.readFileSync(path.join(root, 'R.sh'), 'utf8').replace("'rsync'", `'${BIN}'`).replace("'R'", "'P'").replace(` \${1:-'${root}/rdst/'}`, ` --engine='${engine}' \${1:-'${root}/dst/'}`),
    );
    const r = rsync(['-aH', '--delete', '-i', '--read-batch=P', 'copy1/'], root);
    expect(r.code, r.stderr).toBe(0);
    expectSameTree(path.join(root, 'dst'), path.join(root, 'copy1'), engine, "rsync reads a push's batch");
    const a = await runCli(['-aH', '--delete', '--read-batch=P', 'copy2/', eng], { cwd: root });
    expect(a.code, a.stderr).toBe(0);
    expectSameTree(path.join(root, 'dst'), path.join(root, 'copy2'), engine, "arsync reads a push's batch");
    expect(fs.statSync(path.join(root, 'copy2/hard')).ino).toBe(fs.statSync(path.join(root, 'copy2/sub/b.txt')).ino);
  });

  it('-X: the lists and their long values (each sent once) both ways; the node engine refuses -X as it does locally', async () => {
    const root = tempDir(`arsync-batch-x-${engine}-`);
    const src = path.join(root, 'src');
    for (const f of ['f1', 'f2', 'f3']) put(src, f, `${f}\n`);
    const long = 'L'.repeat(100);
    const setx = (p: string, n: string, v: string): void => void spawnSync('setfattr', ['-n', n, '-v', v, p]);
    for (const f of ['f1', 'f2', 'f3']) setx(path.join(src, f), 'user.m', 'v');
    setx(path.join(src, 'f1'), 'user.long', long);
    setx(path.join(src, 'f2'), 'user.long', long);
    stampTree(src);
    const xattrsOf = (p: string): string => spawnSync('getfattr', ['-d', '--absolute-names', p], { encoding: 'utf8' }).stdout.split('\n').slice(1).join('\n');
    const ours = await runCli(['-aX', '--only-write-batch=B', 'src/', 'wb/', eng], { cwd: root });
    expect(rsync(['-aX', '--write-batch=R', 'src/', 'rdst/'], root).code).toBe(0);
    if (engine === 'node') {
      expect(ours.code).toBe(1);
      const refused = await runCli(['-a', '--read-batch=R', 'd2/', eng], { cwd: root });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('-X/--xattrs needs the native addon');
      return;
    }
    expect(ours.code, ours.stderr).toBe(0);
    expect(fs.existsSync(path.join(root, 'wb'))).toBe(false);
    // rsync reads ours, arsync reads rsync's and its own: every file with its xattrs.
    expect(rsync(['-a', '--read-batch=B', 'd1/'], root).code).toBe(0);
    expect((await runCli(['-a', '--read-batch=R', 'd2/', eng], { cwd: root })).code).toBe(0);
    expect((await runCli(['-a', '--read-batch=B', 'd3/', eng], { cwd: root })).code).toBe(0);
    for (const d of ['d1', 'd2', 'd3']) {
      for (const f of ['f1', 'f2', 'f3']) expect(xattrsOf(path.join(root, d, f)), `${d}/${f}`).toBe(xattrsOf(path.join(root, 'rdst', f)));
    }
    expect(xattrsOf(path.join(root, 'd2/f2'))).toContain(`user.long="${long}"`);
  });

  it.skipIf(process.getuid?.() !== 0)('devices and FIFOs (as root) both ways', async () => {
    const root = tempDir(`arsync-batch-dev-${engine}-`);
    const src = path.join(root, 'src');
    put(src, 'f', 'x\n');
    expect(spawnSync('mknod', [path.join(src, 'cdev'), 'c', '1', '3']).status).toBe(0);
    expect(spawnSync('mkfifo', [path.join(src, 'fifo')]).status).toBe(0);
    stampTree(src);
    expect((await runCli(['--write-batch=B', '-a', 'src/', 'dst/', eng], { cwd: root })).code).toBe(0);
    expect(rsync(['--write-batch=R', '-a', 'src/', 'rdst/'], root).code).toBe(0);
    expect(rsync(['-a', '--read-batch=B', 'd1/'], root).code).toBe(0);
    const ours = await runCli(['-a', '--read-batch=R', 'd2/', eng], { cwd: root });
    expect(ours.code, ours.stderr).toBe(0);
    for (const d of ['dst', 'd1', 'd2']) expectSameTree(path.join(root, 'rdst'), path.join(root, d), engine, d);
    expect(fs.lstatSync(path.join(root, 'd2/cdev')).rdev).toBe(fs.lstatSync(path.join(src, 'cdev')).rdev);
    expect(fs.lstatSync(path.join(root, 'd1/fifo')).isFIFO()).toBe(true);
  });

  it("errors: a missing batch, a newer protocol, another basis, -n, both modes, a remote operand: rsync's words and codes", async () => {
    const root = tempDir(`arsync-batch-err-${engine}-`);
    setup(root);
    for (const d of ['dst', 'other']) clone(path.join(root, 'old'), path.join(root, d));
    const missing = await runCli(['-a', '--read-batch=nope', 'dst/', eng], { cwd: root });
    expect(missing.code).toBe(rsync(['-a', '--read-batch=nope', 'dst/'], root).code);
    expect(missing.stderr).toContain(`Batch file "${root}/nope" open error: No such file or directory (2)`);
    // -n: no batch is written at all (rsync turns write_batch off).
    const dry = await runCli(['--write-batch=N', '-n', '-a', 'src/', 'dst/', eng], { cwd: root });
    expect(dry.code).toBe(0);
    expect(fs.existsSync(path.join(root, 'N')) || fs.existsSync(path.join(root, 'N.sh'))).toBe(false);
    const both = await runCli(['--write-batch=X', '--read-batch=Y', '-a', 'src/', 'dst/', eng], { cwd: root });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--write-batch and --read-batch can not be used together');
    // Still refused with a remote side: a listing (test/e2e/batch-remote.test.ts has what is written).
    const remote = await runCli(['--only-write-batch=X', '-a', 'host:dst/', eng], { cwd: root });
    expect(remote.code).toBe(1);
    expect(fs.existsSync(path.join(root, 'X'))).toBe(false);
    const remoteRead = await runCli(['--read-batch=X', 'host:dst/', eng], { cwd: root });
    expect(remoteRead.code).toBe(1);
    expect(remoteRead.stderr).toContain('remote destination is not allowed with --read-batch');
    // A batch from a newer protocol: rsync's message, exit 2.
    expect(rsync(['--write-batch=R', '-a', 'src/', 'dst/'], root).code).toBe(0);
    const b = fs.readFileSync(path.join(root, 'R'));
    b.writeInt32LE(33, 4);
    fs.writeFileSync(path.join(root, 'R33'), b);
    const newer = await runCli(['-a', '--read-batch=R33', 'other/', eng], { cwd: root });
    expect(newer.code).toBe(2);
    expect(newer.stderr).toContain('The protocol version in the batch file is too new (33 > 32).');
    // Another basis than the batch's delta was made against: the file fails its sum, there is no resend
    // in the batch, the destination keeps its file (rsync 3.5 itself waits forever here).
    fs.writeFileSync(path.join(root, 'other/big.bin'), bytes(300_000, 99));
    fs.utimesSync(path.join(root, 'other/big.bin'), 1_600_000_000, 1_600_000_000);
    const bad = await runCli(['-av', '--read-batch=R', 'other/', eng], { cwd: root });
    expect(bad.code).toBe(23);
    expect(bad.stdout).toContain('WARNING: big.bin failed verification -- update discarded (may try again).\n');
    expect(bad.stderr).toContain('(No batched update for resend of "big.bin")\n');
    expect(fs.readFileSync(path.join(root, 'other/big.bin'))).toEqual(bytes(300_000, 99));
    expect(fs.readFileSync(path.join(root, 'other/a.txt'), 'utf8')).toBe('alpha\n');
  });
});
