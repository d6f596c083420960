// -M values that set how rsync's local receiver writes (cli/receiver-options.ts, cli/receiver-partial-dir.ts):
// -M--partial and -M--partial-dir (the data of an interrupted file kept; waiting partials used up; the
// receiver's partial dir spared by --delete but, unlike the line's, not hidden from the sender),
// -M--delay-updates, -M--fsync and -M--preallocate. Against rsync itself on the same tree, on every engine.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { BIN, runCli, show, startCli } from '../helpers/cli.js';
import { bytes, deleteSetup, differential, put, stampTree, updateSetup } from '../helpers/differential.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

afterAll(() => removeTemps());

const PINNED = 1_000_000_000;
const HOLE = 4 * 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** updateSetup, plus the first bytes of new.txt and sub/newdir/n.txt waiting in `.pp` partial dirs. */
function partialSetup(root: string): void {
  updateSetup(root);
  const dst = path.join(root, 'dst');
  put(dst, '.pp/new.txt', 'new ');
  put(dst, 'sub/newdir/.pp/n.txt', 'new in');
  put(dst, 'logs/.pp/keep.txt', 'someone else\'s\n');
  for (const d of ['.', 'sub/newdir', 'logs']) fs.utimesSync(path.join(dst, d), PINNED, PINNED);
}

/** deleteSetup, plus `.a` and `.b` dirs on both sides: which side hides or spares each is the question. */
function twoDirsSetup(root: string): void {
  deleteSetup(root);
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  put(src, 'sub/.a/sa', 'in src .a\n');
  put(dst, '.a/old', 'old a\n');
  put(dst, '.b/old', 'old b\n');
  put(dst, 'gone-dir/.b/q', 'q\n');
  stampTree(path.join(src, 'sub/.a'));
  for (const d of ['sub', 'sub/.a']) fs.utimesSync(path.join(src, d), PINNED, PINNED);
  for (const d of ['.', '.a', '.b', 'gone-dir', 'gone-dir/.b']) fs.utimesSync(path.join(dst, d), PINNED, PINNED);
}

/** root/src: a file with a 4 MiB hole between two small runs of data; no dst. */
function holeySetup(root: string): void {
  const src = path.join(root, 'src');
  fs.mkdirSync(src, { recursive: true });
  const fd = fs.openSync(path.join(src, 'holey'), 'w');
  fs.writeSync(fd, Buffer.from('head'));
  fs.writeSync(fd, Buffer.from('tail'), 0, 4, HOLE);
  fs.closeSync(fd);
  stampTree(src);
}

const allocated = (p: string): number => fs.statSync(p).blocks * 512;
const hasStrace = spawnSync('strace', ['-V']).status === 0;

/** A temp file with data under `dir`, for at most 30 s (the copy runs at 200 KiB/s). */
async function tempFileAppears(dir: string, ended: () => boolean): Promise<boolean> {
  for (let i = 0; i < 3000; i++) {
    if (ended()) return false;
    try {
      if (fs.readdirSync(dir).some((n) => n.startsWith('.big.') && fs.statSync(path.join(dir, n)).size > 0)) return true;
    } catch {
      // not made yet
    }
    await sleep(10);
  }
  return false;
}

describeEngines((e) => {
  const engine = e.name;

  it('-M--partial-dir=.pp: the waiting partials used up and their dirs removed, another kept, as rsync\'s receiver', async () => {
    await differential({
      engine,
      setup: partialSetup,
      args: ['-a', '-M--partial-dir=.pp', 'src/', 'dst/'],
      volatile: ['dst/sub/newdir'],
      after: ({ B }) => {
        expect(fs.existsSync(path.join(B, 'dst/.pp'))).toBe(false);
        expect(fs.existsSync(path.join(B, 'dst/sub/newdir/.pp'))).toBe(false);
        expect(fs.readFileSync(path.join(B, 'dst/logs/.pp/keep.txt'), 'utf8')).toBe('someone else\'s\n');
      },
    });
  });

  it('-M--partial-dir=.a with --delete: the receiver spares dst/.a, and a source .a is sent (the sender has no rule)', async () => {
    await differential({
      engine,
      setup: twoDirsSetup,
      args: ['-a', '--delete', '-M--partial-dir=.a', 'src/', 'dst/'],
      after: ({ B }) => {
        expect(fs.readFileSync(path.join(B, 'dst/.a/old'), 'utf8')).toBe('old a\n');
        expect(fs.readFileSync(path.join(B, 'dst/sub/.a/sa'), 'utf8')).toBe('in src .a\n');
        expect(fs.existsSync(path.join(B, 'dst/.b'))).toBe(false);
      },
    });
  });

  for (const opt of ['--partial-dir=.pp', '-M--partial-dir=.pp']) {
    it(`${opt}: an empty .pp beside a written file is kept (only a used-up partial file's dir goes), as rsync`, async () => {
      await differential({
        engine,
        setup: (root) => {
          updateSetup(root);
          fs.mkdirSync(path.join(root, 'dst/sub/.pp'));
          fs.utimesSync(path.join(root, 'dst/sub'), PINNED, PINNED);
        },
        args: ['-a', opt, 'src/', 'dst/'],
        volatile: ['dst/sub/.pp'],
        after: ({ B }) => expect(fs.readdirSync(path.join(B, 'dst/sub/.pp'))).toEqual([]),
      });
    });
  }

  it('--partial-dir=.a -M--partial-dir=.b --delete: .a hidden from the sender but deleted, .b spared, as rsync', async () => {
    await differential({
      engine,
      setup: twoDirsSetup,
      args: ['-a', '--delete', '--partial-dir=.a', '-M--partial-dir=.b', 'src/', 'dst/'],
      after: ({ B }) => {
        expect(fs.existsSync(path.join(B, 'dst/.a'))).toBe(false);
        expect(fs.existsSync(path.join(B, 'dst/sub/.a'))).toBe(false);
        expect(fs.readFileSync(path.join(B, 'dst/.b/old'), 'utf8')).toBe('old b\n');
        // perishable: no help to a dir --delete removes
        expect(fs.existsSync(path.join(B, 'dst/gone-dir'))).toBe(false);
      },
    });
  });

  it('--delete-excluded -M--partial-dir=.b: the receiver\'s rule turns sender-side and spares nothing, as rsync', async () => {
    await differential({
      engine,
      setup: twoDirsSetup,
      args: ['-a', '--delete', '--delete-excluded', '-M--partial-dir=.b', 'src/', 'dst/'],
      after: ({ B }) => expect(fs.existsSync(path.join(B, 'dst/.b'))).toBe(false),
    });
  });

  it('--partial-dir=.a -M--delay-updates: files wait in the inherited .a; .a spared by --delete', async () => {
    await differential({
      engine,
      setup: twoDirsSetup,
      args: ['-a', '--delete', '--partial-dir=.a', '-M--delay-updates', 'src/', 'dst/'],
      // the top's updated files waited in it
      volatile: ['dst/.a'],
      after: ({ B }) => {
        expect(fs.readFileSync(path.join(B, 'dst/.a/old'), 'utf8')).toBe('old a\n');
        expect(fs.readdirSync(path.join(B, 'dst/sub')).filter((n) => n === '.a' || n === '.~tmp~')).toEqual([]);
      },
    });
  });

  it('RSYNC_PARTIAL_DIR with -M--partial: not the receiver\'s partial dir (rsync reads it on the client only)', async () => {
    const before = process.env['RSYNC_PARTIAL_DIR'];
    process.env['RSYNC_PARTIAL_DIR'] = '.pp';
    try {
      await differential({
        engine,
        setup: partialSetup,
        args: ['-a', '-M--partial', 'src/', 'dst/'],
        volatile: ['dst/sub/newdir'],
        after: ({ B }) => expect(fs.readFileSync(path.join(B, 'dst/.pp/new.txt'), 'utf8')).toBe('new '),
      });
    } finally {
      if (before === undefined) delete process.env['RSYNC_PARTIAL_DIR'];
      else process.env['RSYNC_PARTIAL_DIR'] = before;
    }
  });

  for (const out of ['-v', '-i']) {
    it(`-M--delay-updates ${out} --delete: rsync's lines (the whole list first), no .~tmp~ left`, async () => {
      await differential({
        engine,
        setup: deleteSetup,
        args: [out, '-a', '--delete', '-M--delay-updates', 'src/', 'dst/'],
        noItemize: true,
        after: ({ B }) => {
          const left = fs.readdirSync(path.join(B, 'dst'), { recursive: true }).filter((n) => String(n).endsWith('.~tmp~'));
          expect(left).toEqual([]);
        },
      });
    });
  }

  it('-M--fsync: the same result as rsync, and an fsync for each file written', async () => {
    const r = await differential({ engine, setup: updateSetup, args: ['-a', '-M--fsync', 'src/', 'dst/'] });
    if (!hasStrace) return;
    const count = (args: string[]): number => {
      const root = tempDir('arsync-mfsync-');
      updateSetup(root);
      const log = path.join(root, 'strace.log');
      const t = spawnSync('strace', ['-f', '-qq', '-e', 'trace=fsync', '-o', log, process.execPath, BIN, `--engine=${engine}`, ...args, 'src/', 'dst/'], { cwd: root });
      expect(t.status).toBe(0);
      return fs.readFileSync(log, 'utf8').split('\n').filter((l) => /\bfsync\(/.test(l)).length;
    };
    const written = r.arsync.stdout.split('\n').filter((l) => l.startsWith('>f')).length;
    expect(written).toBeGreaterThan(3);
    expect(count(['-a', '-M--fsync'])).toBeGreaterThanOrEqual(written);
    expect(count(['-a'])).toBe(0);
  });

  it('-M--preallocate: a sparse source arrives fully allocated, as rsync\'s receiver leaves it', async () => {
    await differential({
      engine,
      setup: holeySetup,
      args: ['-a', '-M--preallocate', 'src/', 'dst/'],
      after: ({ A, B }) => {
        if (allocated(path.join(A, 'src/holey')) >= HOLE) return; // no holes on this filesystem
        expect(allocated(path.join(A, 'dst/holey')), 'rsync').toBeGreaterThanOrEqual(HOLE);
        expect(allocated(path.join(B, 'dst/holey')), 'arsync').toBeGreaterThanOrEqual(HOLE);
      },
    });
  });

  it.each([
    ['-M--partial', 'd/big'],
    ['-M--partial-dir=.pp', 'd/.pp/big'],
  ])('interrupted mid-file (SIGINT) with %s: the data so far kept at %s, as rsync\'s receiver keeps it', async (opt, kept) => {
    const full = bytes(3_000_000, 9);
    const roots: Record<string, string> = {};
    const args = ['-a', opt, '--bwlimit=200', 'src/', 'dst/'];
    /** A root with the 3 MB source and no dst yet. */
    const fresh = (): string => {
      const root = tempDir(`arsync-mpart-sig-${engine}-`);
      put(path.join(root, 'src'), 'd/big', full);
      return root;
    };
    // rsync's run does not depend on the engine: the first engine's serves all (its tree stays until afterAll).
    const rsyncRun = sameForEveryEngine(opt, async () => {
      const root = fresh();
      const dir = path.join(root, 'dst/d');
      const child = spawn('rsync', args, { cwd: root, stdio: 'ignore' });
      const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
      expect(await tempFileAppears(dir, () => child.exitCode !== null), 'rsync: a temp file with data appeared').toBe(true);
      child.kill('SIGINT');
      const code = await exited;
      // Its receiver, a process of its own, moves the partial data after the client has gone.
      for (let i = 0; i < 500 && fs.readdirSync(dir).some((n) => n.startsWith('.big.')); i++) await sleep(10);
      return { root, code };
    });
    for (const tool of ['rsync', 'arsync']) {
      let root: string;
      let code: number | null;
      if (tool === 'rsync') {
        ({ root, code } = await rsyncRun);
      } else {
        root = fresh();
        const dir = path.join(root, 'dst/d');
        const run = startCli([...args, `--engine=${engine}`], { cwd: root });
        expect(await tempFileAppears(dir, () => run.child.exitCode !== null), 'arsync: a temp file with data appeared').toBe(true);
        run.child.kill('SIGINT');
        const r = await run.done;
        code = r.code;
        expect(r.stderr, show(r)).toMatch(/\(code 20\)/);
      }
      roots[tool] = root;
      const dir = path.join(root, 'dst/d');
      expect(code, tool).toBe(20);
      const part = fs.readFileSync(path.join(root, 'dst', kept));
      expect(part.length, tool).toBeGreaterThan(0);
      expect(part.length, tool).toBeLessThan(full.length);
      expect(part.equals(full.subarray(0, part.length)), `${tool}: the kept data is a prefix of the source`).toBe(true);
      expect(fs.readdirSync(dir).filter((n) => n.startsWith('.big.')), `${tool}: no temp file left`).toEqual([]);
      if (kept !== 'd/big') expect(fs.existsSync(path.join(dir, 'big')), tool).toBe(false);
    }
    // The next run, with the same -M value, completes it.
    const again = await runCli(['-a', opt, `--engine=${engine}`, 'src/', 'dst/'], { cwd: roots['arsync'] });
    expect(again.code, show(again)).toBe(0);
    expect(fs.readFileSync(path.join(roots['arsync']!, 'dst/d/big')).equals(full)).toBe(true);
    expect(fs.readdirSync(path.join(roots['arsync']!, 'dst/d'))).toEqual(['big']);
  });
});
