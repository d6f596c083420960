// Batches written in a push and a pull, in the cases rsync 3.5's client writes and arsync used to refuse:
// --only-write-batch both ways, -H in a pull. Each case runs rsync's client and arsync's with the same
// options through the fake remote shell against rsync 3.5 as the server, then compares what the runs
// leave (the destination, untouched under --only-write-batch), the exit codes, the FILE.sh scripts and
// the batches, by applying each with rsync's --read-batch and arsync's to copies of the old destination
// (a batch holds the session's random seed and times: the bytes differ from run to run).

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

const BIG = bytes(300_000, 7);

/**
 * A source and an older destination: a changed big file (a delta's basis), new files, hard-link groups
 * (whose later member the destination has, changed or up to date, and one across directories), a
 * symlink, a stale file.
 */
function setup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a.txt', 'alpha\n');
  const big = Buffer.from(BIG);
  big.write('CHANGED', 150_000);
  put(src, 'big.bin', big);
  put(src, 'sub/deep/c.txt', 'deep\n');
  put(src, 'sub/b.txt', 'bee\n');
  fs.linkSync(path.join(src, 'sub/b.txt'), path.join(src, 'hard'));
  fs.linkSync(path.join(src, 'sub/deep/c.txt'), path.join(src, 'zz'));
  fs.linkSync(path.join(src, 'a.txt'), path.join(src, 'sub/deep/a2'));
  put(src, 'n1', 'new group\n');
  fs.linkSync(path.join(src, 'n1'), path.join(src, 'n2'));
  fs.symlinkSync('a.txt', path.join(src, 'link'));
  stampTree(src);
  const old = path.join(root, 'old');
  put(old, 'a.txt', 'old alpha\n');
  put(old, 'big.bin', BIG);
  put(old, 'stale', 'stale\n');
  put(old, 'sub/b.txt', 'bee\n');
  put(old, 'zz', 'old deep\n');
  stampTree(old, 1_600_000_000);
  // The new group's later member already there, up to date: no data for that group at all.
  fs.copyFileSync(path.join(src, 'n2'), path.join(old, 'n2'));
  // (touch -r: the nanoseconds exactly, which a Date would round.)
  expect(spawnSync('touch', ['-r', path.join(src, 'n2'), path.join(old, 'n2')]).status).toBe(0);
}

function rsync(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('rsync', args, { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectSameTree(want: string, got: string, engine: EngineName, ctx: string, hardlinks = true): void {
  const diffs = compareTrees(want, got, { mtimeToleranceNs: fidelity(engine).mtimeToleranceNs, xattrs: false, acls: false, hardlinks });
  expect(formatDiffs(diffs), ctx).toEqual([]);
}

/** rsync's script with arsync's program, batch name, --engine and destination put in. */
function scriptOf(root: string, rsyncScript: string, engine: EngineName, rdst: string, dst: string): string {
  return fs
    .readFileSync(path.join(root, rsyncScript), 'utf8')
    .replace("'rsync'", `'${BIN}'`)
    .replace("'R'", "'P'")
    .replace(` \${1:-'${rdst}'}`, ` --engine='${engine}' \${1:-'${dst}'}`);
}

describeEngines((e) => {
  const engine = e.name;
  const eng = `--engine=${engine}`;

  /**
   * Both batches applied by both tools to copies of the old destination: every result is the tree
   * `want` (the source as a real run leaves it), with exit 0 and rsync's hard links.
   */
  async function applyBoth(root: string, opts: string[], want: string): Promise<void> {
    let n = 0;
    for (const batch of ['P', 'R']) {
      for (const reader of ['rsync', 'arsync']) {
        const d = `copy${n++}`;
        clone(path.join(root, 'old'), path.join(root, d));
        const args = [...opts, `--read-batch=${batch}`, `${d}/`];
        const r = reader === 'rsync' ? rsync(args, root) : await runCli([...args, eng], { cwd: root });
        expect(r.code, `${reader} reads ${batch}: ${r.stderr}`).toBe(0);
        expectSameTree(want, path.join(root, d), engine, `${reader} reads ${batch}`);
        if (!opts.includes('-aH')) continue;
        const ino = (p: string): number => fs.statSync(path.join(root, d, p)).ino;
        expect(ino('hard'), `${reader} reads ${batch}`).toBe(ino('sub/b.txt'));
        expect(ino('n2'), `${reader} reads ${batch}`).toBe(ino('n1'));
        expect(ino('zz'), `${reader} reads ${batch}`).toBe(ino('sub/deep/c.txt'));
      }
    }
  }

  it('--only-write-batch in a push: the far side is told and left untouched, the data goes into the batch alone; both tools apply both batches', async () => {
    const root = tempDir(`arsync-rbatch-opush-${engine}-`);
    setup(root);
    for (const d of ['dst', 'rdst', 'want']) clone(path.join(root, 'old'), path.join(root, d));
    const rsh = fakeRsh(root);
    const before = statSnapshot(path.join(root, 'dst'));
    const rbefore = statSnapshot(path.join(root, 'rdst'));
    const ours = await runCli(['-e', rsh, '--only-write-batch=P', '-aHv', '--delete', 'src/', `localhost:${root}/dst/`, eng], { cwd: root });
    const theirs = rsync(['-e', rsh, '--only-write-batch=R', '-aHv', '--delete', 'src/', `localhost:${root}/rdst/`], root);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stderr).toBe('');
    expect(snapshotDiff(before, statSnapshot(path.join(root, 'dst')))).toEqual([]);
    expect(snapshotDiff(rbefore, statSnapshot(path.join(root, 'rdst')))).toEqual([]);
    expect(ours.stdout).toMatch(/speedup is [\d.,]+ \(BATCH ONLY\)\n$/);
    expect(fs.readFileSync(path.join(root, 'P.sh'), 'utf8')).toBe(scriptOf(root, 'R.sh', engine, `${root}/rdst/`, `${root}/dst/`));
    // The batch holds a delta of big.bin against the far side's old file, as rsync's does.
    expect(fs.statSync(path.join(root, 'P')).size).toBeLessThan(20_000);
    expect(rsync(['-aH', '--delete', 'src/', 'want/'], root).code).toBe(0);
    await applyBoth(root, ['-aH', '--delete'], path.join(root, 'want'));
  });

  it('--only-write-batch in a pull: the destination is left untouched (a missing one not made), the data goes into the batch; both tools apply both batches', async () => {
    const root = tempDir(`arsync-rbatch-opull-${engine}-`);
    setup(root);
    for (const d of ['dst', 'rdst', 'want']) clone(path.join(root, 'old'), path.join(root, d));
    const rsh = fakeRsh(root);
    const before = statSnapshot(path.join(root, 'dst'));
    const rbefore = statSnapshot(path.join(root, 'rdst'));
    const ours = await runCli(['-e', rsh, '--only-write-batch=P', '-av', '--delete', `localhost:${root}/src/`, 'dst/', eng], { cwd: root });
    const theirs = rsync(['-e', rsh, '--only-write-batch=R', '-av', '--delete', `localhost:${root}/src/`, 'rdst/'], root);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(snapshotDiff(before, statSnapshot(path.join(root, 'dst')))).toEqual([]);
    expect(snapshotDiff(rbefore, statSnapshot(path.join(root, 'rdst')))).toEqual([]);
    expect(ours.stdout).toMatch(/speedup is [\d.,]+ \(BATCH ONLY\)\n$/);
    expect(fs.readFileSync(path.join(root, 'P.sh'), 'utf8')).toBe(scriptOf(root, 'R.sh', engine, 'rdst/', 'dst/'));
    expect(rsync(['-a', '--delete', 'src/', 'want/'], root).code).toBe(0);
    await applyBoth(root, ['-a', '--delete'], path.join(root, 'want'));
    // Onto a destination that does not exist: neither tool makes it.
    const fresh = await runCli(['-e', rsh, '--only-write-batch=P2', '-a', `localhost:${root}/src/`, 'none/', eng], { cwd: root });
    expect(fresh.code, fresh.stderr).toBe(rsync(['-e', rsh, '--only-write-batch=R2', '-a', `localhost:${root}/src/`, 'rnone/'], root).code);
    expect(fs.existsSync(path.join(root, 'none'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'rnone'))).toBe(false);
    const d = path.join(root, 'fromnone');
    expect(rsync(['-a', '--read-batch=P2', 'fromnone/'], root).code).toBe(0);
    expectSameTree(path.join(root, 'src'), d, engine, 'rsync reads the batch of a pull to a new destination', false);
  });

  // -R's implied directories come without their contents: reading such a batch with --delete deletes
  // nothing in them (rsync's reader keeps dst/a/precious; arsync's deleted it before session 51).
  it('--read-batch of a -R pull with --delete: nothing deleted in an implied directory, as rsync\'s reader', async () => {
    const root = tempDir(`arsync-rbatch-implied-${engine}-`);
    put(path.join(root, 'src'), 'a/b/f', 'f\n');
    for (const d of ['dst', 'mine', 'theirs']) {
      put(path.join(root, d), 'a/precious', 'keep me\n');
      put(path.join(root, d), 'a/b/old', 'old\n');
    }
    const rsh = fakeRsh(root);
    const w = await runCli(['-e', rsh, '--write-batch=B', '-aR', '--delete', `localhost:${root}/src/./a/b`, 'dst/', eng], { cwd: root });
    expect(w.code, w.stderr).toBe(0);
    const ours = await runCli(['-aR', '--delete', '--read-batch=B', 'mine/', eng], { cwd: root });
    const theirs = rsync(['-aR', '--delete', '--read-batch=B', 'theirs/'], root);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    for (const d of ['dst', 'mine', 'theirs']) {
      expect(fs.readFileSync(path.join(root, d, 'a/precious'), 'utf8'), d).toBe('keep me\n');
      expect(fs.existsSync(path.join(root, d, 'a/b/old')), d).toBe(false);
      expect(fs.readFileSync(path.join(root, d, 'a/b/f'), 'utf8'), d).toBe('f\n');
    }
  });

  it("-H in a pull: a group's data is asked for under the member rsync's reader wants (the first the destination has, else the last); both tools apply both batches", async () => {
    const root = tempDir(`arsync-rbatch-hpull-${engine}-`);
    setup(root);
    for (const d of ['dst', 'rdst', 'odst', 'want']) clone(path.join(root, 'old'), path.join(root, d));
    const rsh = fakeRsh(root);
    const ours = await runCli(['-e', rsh, '--write-batch=P', '-aH', '--delete', `localhost:${root}/src/`, 'dst/', eng], { cwd: root });
    const theirs = rsync(['-e', rsh, '--write-batch=R', '-aH', '--delete', `localhost:${root}/src/`, 'rdst/'], root);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(fs.readFileSync(path.join(root, 'P.sh'), 'utf8')).toBe(scriptOf(root, 'R.sh', engine, 'rdst/', 'dst/'));
    expectSameTree(path.join(root, 'rdst'), path.join(root, 'dst'), engine, 'the pull');
    await applyBoth(root, ['-aH', '--delete'], path.join(root, 'rdst'));
    // rsync reads ours without a word of a skipped or missing update.
    clone(path.join(root, 'old'), path.join(root, 'quiet'));
    const r = rsync(['-aH', '--delete', '-v', '--read-batch=P', 'quiet/'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/batched update/);
    // And --only-write-batch with -H.
    const before = statSnapshot(path.join(root, 'odst'));
    const only = await runCli(['-e', rsh, '--only-write-batch=P', '-aH', '--delete', `localhost:${root}/src/`, 'odst/', eng], { cwd: root });
    expect(only.code, only.stderr).toBe(0);
    expect(snapshotDiff(before, statSnapshot(path.join(root, 'odst')))).toEqual([]);
    clone(path.join(root, 'old'), path.join(root, 'oapplied'));
    const o = rsync(['-aH', '--delete', '-v', '--read-batch=P', 'oapplied/'], root);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout + o.stderr).not.toMatch(/batched update/);
    expectSameTree(path.join(root, 'rdst'), path.join(root, 'oapplied'), engine, 'rsync reads the --only-write-batch -H batch');
  });

  it("-z in a push and a pull, --write-batch and --only-write-batch: zlib's token stream (zlib negotiated, as rsync's client does for a batch); both tools apply both batches", async () => {
    const root = tempDir(`arsync-rbatch-z-${engine}-`);
    setup(root);
    // Literal text after a matched block that repeats the text before it: zlibx's stream (the matched
    // data not in the compressor's window) differs there from zlib's, which a batch's reader expects.
    const text = Buffer.from(Array.from({ length: 1000 }, (_, i) => `${i + 1}\n`).join(''));
    const block = bytes(50_000, 3);
    put(path.join(root, 'src'), 'z.bin', Buffer.concat([text, block, text]));
    put(path.join(root, 'old'), 'z.bin', block);
    stampTree(path.join(root, 'src'));
    stampTree(path.join(root, 'old'), 1_600_000_000);
    const rsh = fakeRsh(root);
    expect(rsync(['-aH', '--delete', 'src/', 'want/'], root).code).toBe(0);
    for (const mode of ['write', 'only-write']) {
      for (const way of ['push', 'pull']) {
        const ctx = `--${mode}-batch -z in a ${way}`;
        for (const d of ['dst', 'rdst']) {
          fs.rmSync(path.join(root, d), { recursive: true, force: true });
          clone(path.join(root, 'old'), path.join(root, d));
        }
        const ends = (d: string): string[] => (way === 'push' ? ['src/', `localhost:${root}/${d}/`] : way === 'pull' ? [`localhost:${root}/src/`, `${d}/`] : ['src/', `${d}/`]);
        const ours = await runCli(['-e', rsh, `--${mode}-batch=P`, '-azH', '--delete', ...ends('dst'), eng], { cwd: root });
        const theirs = rsync(['-e', rsh, `--${mode}-batch=R`, '-azH', '--delete', ...ends('rdst')], root);
        expect(theirs.code, `${ctx}: ${theirs.stderr}`).toBe(0);
        expect(ours.code, `${ctx}: ${ours.stderr}`).toBe(0);
        // The stream flags: -z's bit (8) set in both.
        expect(fs.readFileSync(path.join(root, 'P')).readInt32LE(0), ctx).toBe(fs.readFileSync(path.join(root, 'R')).readInt32LE(0));
        expect(fs.readFileSync(path.join(root, 'P.sh'), 'utf8'), ctx).toBe(scriptOf(root, 'R.sh', engine, way === 'push' ? `${root}/rdst/` : 'rdst/', way === 'push' ? `${root}/dst/` : 'dst/'));
        if (mode === 'write') expectSameTree(path.join(root, 'rdst'), path.join(root, 'dst'), engine, ctx);
        else expectSameTree(path.join(root, 'old'), path.join(root, 'dst'), engine, ctx);
        for (const d of ['copy0', 'copy1', 'copy2', 'copy3']) fs.rmSync(path.join(root, d), { recursive: true, force: true });
        await applyBoth(root, ['-aH', '--delete'], path.join(root, 'want'));
      }
    }
  });

  it("-X in a pull and a push, --write-batch and --only-write-batch: every entry whose xattrs change is named in the batch (rsync's reader sets them only there); both tools apply both batches; the node engine refuses -X", async () => {
    const root = tempDir(`arsync-rbatch-x-${engine}-`);
    const src = path.join(root, 'src');
    const old = path.join(root, 'old');
    const long = 'L'.repeat(100);
    const setx = (p: string, n: string, v: string): void => void expect(spawnSync('setfattr', ['-n', n, '-v', v, p]).status).toBe(0);
    for (const f of ['f1', 'f2', 'f3']) put(src, f, `${f}\n`);
    put(src, 'd/in', 'in\n');
    for (const f of ['f1', 'f2', 'f3', 'd']) setx(path.join(src, f), 'user.m', 'v');
    setx(path.join(src, 'f1'), 'user.long', long);
    setx(path.join(src, 'f2'), 'user.long', long);
    stampTree(src);
    // f1 changed (with a stale name), f3 and d/in the same bytes and times but without the xattrs, d there bare.
    put(old, 'f1', 'old\n');
    setx(path.join(old, 'f1'), 'user.stale', 's');
    put(old, 'f3', 'f3\n');
    put(old, 'd/in', 'in\n');
    stampTree(old, 1_600_000_000);
    for (const f of ['f3', 'd/in', 'd']) expect(spawnSync('touch', ['-r', path.join(src, f), path.join(old, f)]).status).toBe(0);
    // Every entry's names and values, by entry (getfattr lists a tree in its directory order).
    const xattrsOf = (d: string): string =>
      spawnSync('getfattr', ['-d', '-R', '.'], { cwd: d, encoding: 'utf8' })
        .stdout.split('\n\n')
        .map((b) => b.trim())
        .filter(Boolean)
        .sort()
        .join('\n\n');
    const rsh = fakeRsh(root);
    for (const mode of ['write', 'only-write']) {
      for (const way of ['pull', 'push', 'local']) {
        const ctx = `--${mode}-batch -X in a ${way}`;
        for (const d of ['dst', 'rdst', 'copy0', 'copy1', 'copy2', 'copy3']) fs.rmSync(path.join(root, d), { recursive: true, force: true });
        for (const d of ['dst', 'rdst']) clone(old, path.join(root, d));
        const ends = (d: string): string[] => (way === 'push' ? ['src/', `localhost:${root}/${d}/`] : [`localhost:${root}/src/`, `${d}/`]);
        const ours = await runCli(['-e', rsh, `--${mode}-batch=P`, '-aX', ...ends('dst'), eng], { cwd: root });
        const theirs = rsync(['-e', rsh, `--${mode}-batch=R`, '-aX', ...ends('rdst')], root);
        expect(theirs.code, `${ctx}: ${theirs.stderr}`).toBe(0);
        if (engine === 'node') {
          expect(ours.code, ctx).toBe(1);
          expect(ours.stderr).toContain('-X/--xattrs needs the native addon');
          continue;
        }
        expect(ours.code, `${ctx}: ${ours.stderr}`).toBe(0);
        expect(xattrsOf(path.join(root, 'dst')), ctx).toBe(xattrsOf(path.join(root, mode === 'write' ? 'rdst' : 'old')));
        let n = 0;
        for (const batch of ['P', 'R']) {
          for (const reader of ['rsync', 'arsync']) {
            const d = `copy${n++}`;
            clone(old, path.join(root, d));
            const args = ['-aX', `--read-batch=${batch}`, `${d}/`];
            const r = reader === 'rsync' ? rsync(args, root) : await runCli([...args, eng], { cwd: root });
            expect(r.code, `${ctx}: ${reader} reads ${batch}: ${r.stderr}`).toBe(0);
            expect(xattrsOf(path.join(root, d)), `${ctx}: ${reader} reads ${batch}`).toBe(xattrsOf(src));
            expectSameTree(src, path.join(root, d), engine, `${ctx}: ${reader} reads ${batch}`);
          }
        }
      }
    }
  });

  it("-A in a pull, a push and a local copy, --write-batch and --only-write-batch: the ACL lists in the batch; both tools apply both batches (rsync's incremental one's names inline); the node engine refuses -A", async () => {
    const root = tempDir(`arsync-rbatch-a-${engine}-`);
    const src = path.join(root, 'src');
    const old = path.join(root, 'old');
    const setfacl = (args: string[], p: string): void => void expect(spawnSync('setfacl', [...args, p]).status).toBe(0);
    for (const f of ['f1', 'f2', 'f3']) put(src, f, `${f}\n`);
    put(src, 'd/in', 'in\n');
    setfacl(['-m', 'u:nobody:rw'], path.join(src, 'f1'));
    setfacl(['-m', 'u:nobody:r'], path.join(src, 'f3'));
    setfacl(['-d', '-m', 'u:nobody:rx'], path.join(src, 'd'));
    setfacl(['-m', 'g:daemon:rx'], path.join(src, 'd'));
    stampTree(src);
    // f1 changed, f3 and d/in the same bytes and times but without the ACLs.
    put(old, 'f1', 'old\n');
    put(old, 'f3', 'f3\n');
    put(old, 'd/in', 'in\n');
    stampTree(old, 1_600_000_000);
    for (const f of ['f3', 'd/in', 'd']) expect(spawnSync('touch', ['-r', path.join(src, f), path.join(old, f)]).status).toBe(0);
    const aclsOf = (d: string): string =>
      spawnSync('getfacl', ['-R', '-p', '.'], { cwd: d, encoding: 'utf8' })
        .stdout.split('\n\n')
        .map((b) => b.trim())
        .filter(Boolean)
        .sort()
        .join('\n\n');
    const rsh = fakeRsh(root);
    for (const mode of ['write', 'only-write']) {
      for (const way of ['pull', 'push']) {
        const ctx = `--${mode}-batch -A in a ${way}`;
        for (const d of ['dst', 'rdst', 'copy0', 'copy1', 'copy2', 'copy3']) fs.rmSync(path.join(root, d), { recursive: true, force: true });
        for (const d of ['dst', 'rdst']) clone(old, path.join(root, d));
        const ends = (d: string): string[] => (way === 'push' ? ['src/', `localhost:${root}/${d}/`] : [`localhost:${root}/src/`, `${d}/`]);
        const ours = await runCli(['-e', rsh, `--${mode}-batch=P`, '-aA', ...ends('dst'), eng], { cwd: root });
        const theirs = rsync(['-e', rsh, `--${mode}-batch=R`, '-aA', ...ends('rdst')], root);
        expect(theirs.code, `${ctx}: ${theirs.stderr}`).toBe(0);
        if (engine === 'node') {
          // (The node engine has no ACL calls: -A is refused as in any pull or push.)
          expect(ours.code, ctx).toBe(1);
          expect(ours.stderr).toContain('-A/--acls needs the native addon');
          expect(fs.existsSync(path.join(root, 'P')), ctx).toBe(false);
          continue;
        }
        expect(ours.code, `${ctx}: ${ours.stderr}`).toBe(0);
        expect(aclsOf(path.join(root, 'dst')), ctx).toBe(aclsOf(path.join(root, mode === 'write' ? 'rdst' : 'old')));
        let n = 0;
        for (const batch of ['P', 'R']) {
          for (const reader of ['rsync', 'arsync']) {
            const d = `copy${n++}`;
            clone(old, path.join(root, d));
            const args = ['-aA', `--read-batch=${batch}`, `${d}/`];
            const r = reader === 'rsync' ? rsync(args, root) : await runCli([...args, eng], { cwd: root });
            expect(r.code, `${ctx}: ${reader} reads ${batch}: ${r.stderr}`).toBe(0);
            expect(aclsOf(path.join(root, d)), `${ctx}: ${reader} reads ${batch}`).toBe(aclsOf(src));
            expectSameTree(src, path.join(root, d), engine, `${ctx}: ${reader} reads ${batch}`);
          }
        }
      }
    }
  });
});
