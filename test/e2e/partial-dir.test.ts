// --partial-dir, RSYNC_PARTIAL_DIR and --delay-updates: a partial file waiting in the partial dir is
// used up by the next run (a relative partial dir removed once empty, an absolute one kept); updated
// files wait in `.~tmp~` (or the partial dir) and are all renamed into place at the end, with rsync's
// output; the relative partial dir is hidden from the transfer and spared by --delete (but not kept
// alive inside a directory --delete removes); a run interrupted mid-file keeps its partial data where
// rsync keeps it. Against rsync on the same tree where rsync runs the same command, on every engine.

import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { isRoot, removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show, startCli } from '../helpers/cli.js';
import { deleteSetup, differential, put, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

const PINNED = 1_000_000_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Deterministic bytes that no prefix of another file shares by chance. */
function data(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** updateSetup, plus a stale file planted in `.~tmp~` for an updated file, older than the source's. */
function stagedSetup(root: string): void {
  updateSetup(root);
  put(path.join(root, 'dst'), 'sub/.~tmp~/c.txt', 'stale staged junk\n');
  const st = path.join(root, 'dst/sub/.~tmp~');
  fs.utimesSync(path.join(st, 'c.txt'), PINNED, PINNED);
  fs.utimesSync(st, PINNED, PINNED);
  fs.utimesSync(path.join(root, 'dst/sub'), PINNED, PINNED);
  // and one for a file that is up to date: rsync removes it, and the staging dir with it
  put(path.join(root, 'dst'), 'sub/deep/.~tmp~/e.txt', 'stale staged junk\n');
  fs.utimesSync(path.join(root, 'dst/sub/deep/.~tmp~'), PINNED, PINNED);
  fs.utimesSync(path.join(root, 'dst/sub/deep'), PINNED, PINNED);
}

/** updateSetup, plus the first part of new.txt's and sub/newdir/n.txt's data waiting in `.pp` partial dirs. */
function partialSetup(root: string, pdir = '.pp'): void {
  updateSetup(root);
  const dst = path.join(root, 'dst');
  put(dst, `${pdir}/new.txt`, 'new ');
  fs.mkdirSync(path.join(dst, 'sub/newdir'), { recursive: true });
  put(dst, `sub/newdir/${pdir}/n.txt`, 'new in');
  // a partial dir holding nothing for the files beside it: kept as it is
  put(dst, `logs/${pdir}/keep.txt`, 'someone else\'s\n');
  // a partial file for a file that is up to date: removed, and its dir with it (rsync's generator)
  put(dst, `sub/deep/${pdir}/e.txt`, 'stale\n');
  for (const d of ['.', 'sub/newdir', 'logs', 'sub/deep']) fs.utimesSync(path.join(dst, d), PINNED, PINNED);
}

/** No `.~tmp~` left anywhere under `dir`. */
function stagingLeft(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.name === '.~tmp~') out.push(path.join(e.parentPath, e.name));
  return out;
}

describeEngines((e) => {
  const engine = e.name;

  it('--delay-updates: the same result and -v/-i output as rsync, no .~tmp~ left', async () => {
    await differential({
      engine,
      setup: updateSetup,
      args: ['-av', '--delay-updates', 'src/', 'dst/'],
      after: ({ B }) => expect(stagingLeft(path.join(B, 'dst'))).toEqual([]),
    });
  });

  it('--delay-updates over a stale file planted in .~tmp~: overwritten, the staging dir removed, as rsync', async () => {
    await differential({
      engine,
      setup: stagedSetup,
      args: ['-a', '--delay-updates', 'src/', 'dst/'],
      after: ({ A, B }) => {
        for (const r of [A, B]) expect(stagingLeft(path.join(r, 'dst')), r).toEqual([]);
        expect(fs.readFileSync(path.join(B, 'dst/sub/c.txt'), 'utf8')).toBe(fs.readFileSync(path.join(B, 'src/sub/c.txt'), 'utf8'));
      },
    });
  });

  it.each([
    [['--backup', '--suffix=.bak']],
    [['-H']],
    [['--remove-source-files']],
    [['--delete-during', '-v']],
  ])('--delay-updates with %j: the same result and output as rsync', async (opts) => {
    await differential({
      engine,
      setup: (root) => {
        updateSetup(root);
        const src = path.join(root, 'src');
        // a hard-linked pair, changed since the last sync
        put(src, 'hl1', 'linked content, now longer\n');
        fs.linkSync(path.join(src, 'hl1'), path.join(src, 'hl2'));
      },
      args: ['-a', '--delay-updates', ...opts, 'src/', 'dst/'],
      ...(opts[0] === '--remove-source-files' ? { sourceChanges: true, pristine: false, volatileDirsUnder: ['src'] } : {}),
      // --backup without --backup-dir implies -O: directory times are those of the run.
      ...(opts[0] === '--backup' ? { volatileDirsUnder: ['dst'] } : {}),
      after: ({ B }) => expect(stagingLeft(path.join(B, 'dst'))).toEqual([]),
    });
  });

  it('--delay-updates under ulimit -n 32 (ops retried after EMFILE): every file still put into place', async () => {
    const root = tempDir(`arsync-pdir-emfile-${engine}-`);
    const src = path.join(root, 'src');
    for (let d = 0; d < 20; d++) for (let f = 0; f < 150; f++) put(src, `d${d}/f${f}`, `${d} ${f}\n`);
    const r = await runCli(['-a', '--delay-updates', '--queue-depth=256', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root, ulimitN: 32 });
    expect(r.code, show(r)).toBe(0);
    expect(stagingLeft(path.join(root, 'dst'))).toEqual([]);
    for (let d = 0; d < 20; d++) expect(fs.readdirSync(path.join(root, `dst/d${d}`)).length, `d${d}`).toBe(150);
  });

  it('--delay-updates -n: nothing written, the same lines as rsync', async () => {
    await differential({ engine, setup: updateSetup, args: ['-avn', '--delay-updates', 'src/', 'dst/'] });
  });

  // A partial dir that cannot be made: rsync's receiver says so in its own line (no errno), discards the
  // finished file and goes on, --delete included; it exits 0, arsync 23 (a file was not transferred:
  // README, "Differences from rsync"). arsync named a mkdir of the file's own path, and stopped --delete.
  it('--delay-updates with a partial dir that cannot be made: rsync\'s line, the file discarded, --delete done; exit 23', async () => {
    const root = tempDir('arsync-pdir-fail-');
    const make = (d: string): void => {
      put(d, 'src/a', 'new a\n');
      put(d, 'src/sub/b', 'new b\n');
      put(d, 'dst/a', 'the old a\n');
      put(d, 'dst/gone', 'extra\n');
    };
    const A = path.join(root, 'A');
    const B = path.join(root, 'B');
    make(A);
    make(B);
    const args = ['-a', '--delete', '--delay-updates', `--partial-dir=${root}/missing/pd`, 'src/', 'dst/'];
    const rs = spawnSync('rsync', args, { cwd: A, encoding: 'utf8' });
    const r = await runCli([...args, `--engine=${engine}`], { cwd: B });
    expect(rs.status, rs.stderr).toBe(0);
    expect(r.code, show(r)).toBe(23);
    const lines = (t: string): string[] => t.split('\n').filter((l) => l.startsWith('Unable to create partial-dir')).sort();
    expect(lines(rs.stderr)).toEqual(['Unable to create partial-dir for a -- discarding completed file.', 'Unable to create partial-dir for sub/b -- discarding completed file.']);
    expect(lines(r.stderr), show(r)).toEqual(lines(rs.stderr));
    for (const d of [A, B]) {
      expect(fs.readFileSync(path.join(d, 'dst/a'), 'utf8'), d).toBe('the old a\n');
      expect(fs.existsSync(path.join(d, 'dst/gone')), `${d}: --delete`).toBe(false);
      expect(fs.existsSync(path.join(d, 'dst/sub/b')), d).toBe(false);
      expect(fs.readdirSync(path.join(d, 'dst')).filter((n) => n.startsWith('.')), `${d}: temp files`).toEqual([]);
    }
  });

  it('--partial-dir=.pp: the waiting partials used up and their dirs removed, an unrelated one kept, as rsync', async () => {
    await differential({
      engine,
      setup: (root) => partialSetup(root),
      args: ['-a', '--partial-dir=.pp', 'src/', 'dst/'],
      volatile: ['dst/sub/newdir'],
      after: ({ B }) => {
        expect(fs.existsSync(path.join(B, 'dst/.pp'))).toBe(false);
        expect(fs.existsSync(path.join(B, 'dst/sub/newdir/.pp'))).toBe(false);
        expect(fs.readFileSync(path.join(B, 'dst/logs/.pp/keep.txt'), 'utf8')).toBe('someone else\'s\n');
        expect(fs.existsSync(path.join(B, 'dst/sub/deep/.pp'))).toBe(false);
      },
    });
  });

  it('--partial-dir with --delete: the partial dirs are spared, one alone in a deleted directory goes with it, as rsync', async () => {
    await differential({
      engine,
      setup: (root) => {
        deleteSetup(root);
        const dst = path.join(root, 'dst');
        put(dst, '.pp/x', 'x\n');
        put(dst, 'gone-dir/.pp/q', 'q\n');
        for (const d of ['.', 'gone-dir']) fs.utimesSync(path.join(dst, d), PINNED, PINNED);
      },
      args: ['-a', '--delete', '--partial-dir=.pp', 'src/', 'dst/'],
      after: ({ B }) => {
        expect(fs.readFileSync(path.join(B, 'dst/.pp/x'), 'utf8')).toBe('x\n');
        expect(fs.existsSync(path.join(B, 'dst/gone-dir'))).toBe(false);
      },
    });
  });

  it('a source directory named like the relative partial dir is not sent, as rsync', async () => {
    await differential({
      engine,
      setup: (root) => {
        updateSetup(root);
        put(path.join(root, 'src'), 'sub/.pp/hidden.txt', 'not sent\n');
      },
      args: ['-a', '--partial-dir=.pp', 'src/', 'dst/'],
      after: ({ B }) => expect(fs.existsSync(path.join(B, 'dst/sub/.pp'))).toBe(false),
    });
  });

  it('RSYNC_PARTIAL_DIR is the partial dir under --partial, and ignored without it, as rsync', async () => {
    const before = process.env['RSYNC_PARTIAL_DIR'];
    process.env['RSYNC_PARTIAL_DIR'] = '.pp';
    try {
      await differential({
        engine,
        setup: (root) => partialSetup(root),
        args: ['-a', '--partial', 'src/', 'dst/'],
        volatile: ['dst/sub/newdir'],
        after: ({ B }) => expect(fs.existsSync(path.join(B, 'dst/.pp'))).toBe(false),
      });
      await differential({
        engine,
        setup: (root) => partialSetup(root),
        args: ['-a', 'src/', 'dst/'],
        volatile: ['dst/sub/newdir'],
        after: ({ B }) => expect(fs.readFileSync(path.join(B, 'dst/.pp/new.txt'), 'utf8')).toBe('new '),
      });
    } finally {
      if (before === undefined) delete process.env['RSYNC_PARTIAL_DIR'];
      else process.env['RSYNC_PARTIAL_DIR'] = before;
    }
  });

  it('--partial-dir=ABS: the partial file there used up, the directory kept (the operator\'s); --delay-updates through it', async () => {
    const root = tempDir(`arsync-pdir-abs-${engine}-`);
    const src = path.join(root, 'src');
    const pd = path.join(root, 'partials');
    put(src, 'd1/d2/f3', data(300_000, 3));
    put(src, 'top.txt', 'top\n');
    put(pd, 'f3', data(300_000, 3).subarray(0, 100_000));
    put(pd, 'other', 'not for any file here\n');
    const r = await runCli(['-a', `--partial-dir=${pd}`, `--engine=${engine}`, `${src}/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.readFileSync(path.join(root, 'dst/d1/d2/f3')).equals(data(300_000, 3))).toBe(true);
    expect(fs.readdirSync(pd)).toEqual(['other']);
    // A partial file for a file that is now up to date is removed too (rsync's generator).
    put(pd, 'f3', 'stale\n');
    const again = await runCli(['-a', `--partial-dir=${pd}`, `--engine=${engine}`, `${src}/`, `${root}/dst/`]);
    expect(again.code, show(again)).toBe(0);
    expect(fs.readdirSync(pd)).toEqual(['other']);
    // --delay-updates through an absolute partial dir it makes itself (rsync: mode 0700), left there empty.
    const pd2 = path.join(root, 'made');
    fs.appendFileSync(path.join(src, 'top.txt'), 'more\n');
    const r2 = await runCli(['-a', '--delay-updates', `--partial-dir=${pd2}`, `--engine=${engine}`, `${src}/`, `${root}/dst/`]);
    expect(r2.code, show(r2)).toBe(0);
    expect(fs.readFileSync(path.join(root, 'dst/top.txt'), 'utf8')).toBe('top\nmore\n');
    expect(fs.readdirSync(pd2)).toEqual([]);
    expect(fs.statSync(pd2).mode & 0o777).toBe(0o700);
  });

  it.each([
    ['another user\'s', 65534, [], false],
    ['another user\'s, with --insecure-links', 65534, ['--insecure-links'], true],
    ['the operator\'s own', -1, [], true],
  ] as const)('--delay-updates --partial-dir=ABS through %s symlink: followed only where rsync 3.5 follows it', async (_label, owner, extra, followed) => {
    if (owner >= 0 && !isRoot) return;
    const root = tempDir(`arsync-pdir-link-${engine}-`);
    put(path.join(root, 'src'), 'f0', 'payload\n');
    fs.mkdirSync(path.join(root, 'outside'));
    fs.mkdirSync(path.join(root, 'plant'));
    fs.symlinkSync(path.join(root, 'outside'), path.join(root, 'plant/opd'));
    if (owner >= 0) fs.lchownSync(path.join(root, 'plant/opd'), owner, owner);
    const r = await runCli(['-a', '--delay-updates', `--partial-dir=${root}/plant/opd/sub`, ...extra, `--engine=${engine}`, 'src/', 'dest/'], { cwd: root });
    expect(fs.existsSync(path.join(root, 'outside/sub')), show(r)).toBe(followed);
    if (followed) {
      expect(r.code, show(r)).toBe(0);
      expect(fs.readFileSync(path.join(root, 'dest/f0'), 'utf8')).toBe('payload\n');
      expect(fs.readdirSync(path.join(root, 'outside/sub'))).toEqual([]);
    } else {
      // rsync: "Unable to create partial-dir for f0 -- discarding completed file."; arsync fails the file (23).
      expect(r.code, show(r)).toBe(23);
      expect(r.stderr).toContain('refusing to follow a symlink owned by an untrusted user');
      expect(fs.existsSync(path.join(root, 'dest/f0'))).toBe(false);
    }
  });

  it.each([
    [['--inplace', '--partial-dir=x'], '--inplace cannot be used with --partial-dir'],
    [['--inplace', '--delay-updates'], '--inplace cannot be used with --delay-updates'],
    [['--append', '--partial-dir=x'], '--append cannot be used with --partial-dir'],
  ])('%j: rsync\'s usage error, exit 1, nothing written', async (opts, message) => {
    const root = tempDir(`arsync-pdir-usage-${engine}-`);
    put(path.join(root, 'src'), 'f', 'f\n');
    const r = await runCli([...opts, '-a', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toContain(`arsync: ${message}\n`);
    expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
  });

  it.each([
    ['--partial', 'd/big'],
    ['--partial-dir=.pp', 'd/.pp/big'],
  ])('interrupted mid-file (SIGINT) with %s: the data so far kept at %s; the next run completes it', async (opt, kept) => {
    const root = tempDir(`arsync-pdir-sig-${engine}-`);
    const full = data(3_000_000, 9);
    put(path.join(root, 'src'), 'd/big', full);
    // 200 KiB/s: the copy lasts 15 s, far longer than the wait for its first bytes.
    const run = startCli(['-a', opt, '--bwlimit=200', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
    const dir = path.join(root, 'dst/d');
    let caught = false;
    for (let i = 0; i < 3000 && !caught; i++) {
      if (run.child.exitCode !== null) break;
      try {
        caught = fs.readdirSync(dir).some((n) => n.startsWith('.big.') && fs.statSync(path.join(dir, n)).size > 0);
      } catch {
        // not made yet
      }
      if (!caught) await sleep(10);
    }
    expect(caught, 'a temp file with data appeared').toBe(true);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, show(r)).toBe(20);
    const part = fs.readFileSync(path.join(root, 'dst', kept));
    expect(part.length).toBeGreaterThan(0);
    expect(part.length).toBeLessThan(full.length);
    expect(part.equals(full.subarray(0, part.length)), 'the kept data is a prefix of the source').toBe(true);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.big.')), 'no temp file left').toEqual([]);
    if (kept !== 'd/big') expect(fs.existsSync(path.join(root, 'dst/d/big'))).toBe(false);
    // Under the target's name, rsync gives it mtime 0 (so that -u does not take it for a newer file).
    else expect(fs.statSync(path.join(root, 'dst/d/big')).mtimeMs).toBe(0);
    const again = await runCli(['-a', opt, `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
    expect(again.code, show(again)).toBe(0);
    expect(fs.readFileSync(path.join(root, 'dst/d/big')).equals(full)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['big']);
  });
});
