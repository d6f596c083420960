// rsync 3.5's operator-path rule (issue 7, item 9): a path the operator gives may pass through a symlink
// only when root or the running user owns it. Each path is tried through a symlink owned by `nobody`
// (refused, nothing read or written through it), one owned by root (followed), and with
// --insecure-links (followed). Runs as root, the case the rule protects.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show, type CliResult } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { spawnAs } from '../helpers/as-user.js';
import { spawnSync } from 'node:child_process';
import { normaliseOutput } from '../helpers/normalise.js';

const NOBODY = 65534;
const REFUSAL = 'refusing to follow a symlink owned by an untrusted user';
const isRoot = process.getuid?.() === 0;
const T = 1_600_000_000;

let base: string;
beforeAll(() => {
  base = tempDir('arsync-oppath-');
  // The attacker in the race test runs as nobody and must reach its own directory.
  fs.chmodSync(base, 0o755);
});
afterAll(() => removeTemps());

/** Everything below `dir`, as relative paths (sorted). */
function listing(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  let n = 0;

  /**
   * A fresh case: src/f ("source\n"), outside/ (where a planted link leads; holds what the test
   * puts there), and attacker/ with `link` -> outside owned by `owner`.
   */
  function setup(owner: 'nobody' | 'root'): { d: string; src: string; outside: string; link: string } {
    const d = path.join(base, `${e.name}-${n++}`);
    const src = path.join(d, 'src');
    const outside = path.join(d, 'outside');
    fs.mkdirSync(src, { recursive: true });
    fs.mkdirSync(outside);
    fs.mkdirSync(path.join(d, 'attacker'));
    fs.writeFileSync(path.join(src, 'f'), 'source\n');
    // Whole seconds, so that a twin can be given exactly the same mtime.
    fs.utimesSync(path.join(src, 'f'), T, T);
    const link = path.join(d, 'attacker', 'link');
    fs.symlinkSync(outside, link);
    if (owner === 'nobody') fs.lchownSync(link, NOBODY, NOBODY);
    return { d, src, outside, link };
  }

  const run = (args: string[], cwd?: string): Promise<CliResult> => runCli([eng, ...args], cwd ? { cwd } : {});

  const expectRefused = (r: CliResult, code: number, also?: RegExp): void => {
    expect(r.code, show(r)).toBe(code);
    expect(r.stderr, show(r)).toContain(REFUSAL);
    if (also) expect(r.stderr, show(r)).toMatch(also);
    expect(r.stderr, show(r)).not.toMatch(/internal error|\n\s+at /);
  };

  it.skipIf(!isRoot)('destination through another user\'s symlink: exit 3, nothing written there', async () => {
    const { src, outside, link } = setup('nobody');
    const r = await run(['-a', `${src}/`, `${link}/`]);
    expectRefused(r, 3, /change_dir ".*attacker\/link" failed: Too many levels of symbolic links/);
    expect(listing(outside)).toEqual([]);
    // A missing directory beneath it is not made either (rsync 3.5 makes it, then refuses).
    const r2 = await run(['-a', `${src}/`, `${link}/sub/`]);
    expectRefused(r2, 3);
    expect(listing(outside)).toEqual([]);
    // A parent of the destination counts too, also for a single file copied to a new name.
    const r3 = await run(['-a', path.join(src, 'f'), path.join(link, 'g')]);
    expectRefused(r3, 3);
    expect(listing(outside)).toEqual([]);
  });

  it.skipIf(!isRoot)('destination through a root-owned symlink, or with --insecure-links: followed', async () => {
    const own = setup('root');
    const r = await run(['-a', `${own.src}/`, `${own.link}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.readFileSync(path.join(own.outside, 'f'), 'utf8')).toBe('source\n');

    const other = setup('nobody');
    const r2 = await run(['-a', '--insecure-links', `${other.src}/`, `${other.link}/`]);
    expect(r2.code, show(r2)).toBe(0);
    expect(r2.stderr).not.toContain(REFUSAL);
    expect(fs.readFileSync(path.join(other.outside, 'f'), 'utf8')).toBe('source\n');
  });

  it.skipIf(!isRoot)("as an ordinary user: their own and root's symlinks are followed, another user's is refused", async () => {
    const { d, src, outside } = setup('nobody');
    fs.chmodSync(path.join(src, 'f'), 0o644);
    for (const p of [d, src, outside, path.join(d, 'attacker')]) fs.chownSync(p, NOBODY, NOBODY);
    const links = { self: NOBODY, root: 0, other: 4242 };
    for (const [name, owner] of Object.entries(links)) {
      const l = path.join(d, 'attacker', name);
      fs.symlinkSync(outside, l);
      fs.lchownSync(l, owner, owner);
    }
    const asNobody = { user: { uid: NOBODY, gid: NOBODY } };
    const other = await runCli([eng, '-r', `${src}/`, `${path.join(d, 'attacker/other')}/`], asNobody);
    expectRefused(other, 3);
    expect(listing(outside)).toEqual([]);
    for (const name of ['self', 'root']) {
      const r = await runCli([eng, '-r', `${src}/`, `${path.join(d, 'attacker', name)}/`], asNobody);
      expect(r.code, show(r)).toBe(0);
      expect(fs.readFileSync(path.join(outside, 'f'), 'utf8')).toBe('source\n');
      fs.rmSync(path.join(outside, 'f'));
    }
  });

  it.skipIf(!isRoot)('--backup-dir through another user\'s symlink: exit 11 before anything is replaced', async () => {
    const { d, src, outside, link } = setup('nobody');
    const dst = path.join(d, 'dst');
    fs.mkdirSync(dst);
    fs.writeFileSync(path.join(dst, 'f'), 'old\n');
    const r = await run(['-a', '-I', `--backup-dir=${link}/bk`, `${src}/`, `${dst}/`]);
    expectRefused(r, 11, /backup-dir ".*attacker\/link\/bk" failed/);
    expect(listing(outside)).toEqual([]);
    expect(fs.readFileSync(path.join(dst, 'f'), 'utf8')).toBe('old\n');

    const r2 = await run(['-a', '-I', '--insecure-links', `--backup-dir=${link}/bk`, `${src}/`, `${dst}/`]);
    expect(r2.code, show(r2)).toBe(0);
    expect(fs.readFileSync(path.join(outside, 'bk', 'f'), 'utf8')).toBe('old\n');
    expect(fs.readFileSync(path.join(dst, 'f'), 'utf8')).toBe('source\n');
  });

  it('--backup-dir through the operator\'s own symlinks: followed outside the destination (an absolute parent), as rsync 3.5 does; a link inside the destination is never followed (stricter than rsync), with and without --inplace', async () => {
    for (const inplace of [[], ['--inplace']]) {
      const { d, src, outside } = setup('root');
      const dst = path.join(d, 'dst');
      fs.mkdirSync(dst);
      fs.writeFileSync(path.join(dst, 'f'), 'old\n');
      // A relative --backup-dir names a symlink inside the destination, owned by the running user: it
      // is the destination's content (DESIGN §3), so no backup goes through it; the file stays as it was.
      fs.symlinkSync(outside, path.join(dst, 'osl'));
      const r = await run(['-a', '-I', ...inplace, '--backup-dir=osl', `${src}/`, `${dst}/`]);
      expect(r.code, show(r)).toBe(23);
      expect(fs.readdirSync(outside)).toEqual([]);
      expect(fs.readFileSync(path.join(dst, 'f'), 'utf8')).toBe('old\n');
      expect(fs.lstatSync(path.join(dst, 'osl')).isSymbolicLink()).toBe(true);
      // An absolute one whose parent is such a link, outside the destination: followed.
      fs.symlinkSync(outside, path.join(d, 'opd'));
      fs.writeFileSync(path.join(dst, 'f'), 'older\n');
      const r2 = await run(['-a', '-I', ...inplace, `--backup-dir=${path.join(d, 'opd', 'sub')}`, `${src}/`, `${dst}/`]);
      expect(r2.code, show(r2)).toBe(0);
      expect(fs.readFileSync(path.join(outside, 'sub', 'f'), 'utf8')).toBe('older\n');
      expect(fs.readFileSync(path.join(dst, 'f'), 'utf8')).toBe('source\n');
      expect(fs.lstatSync(path.join(d, 'opd')).isSymbolicLink()).toBe(true);
    }
  });

  for (const kind of ['link', 'copy', 'compare'] as const) {
    it.skipIf(!isRoot)(`--${kind}-dest through another user's symlink is not used (the file is copied from the source)`, async () => {
      const { d, src, outside, link } = setup('nobody');
      // outside/f: another file's bytes with f's size, mtime, owner and mode, so every level matches.
      const twin = path.join(outside, 'f');
      fs.writeFileSync(twin, 'SECRET\n');
      const st = fs.statSync(path.join(src, 'f'));
      fs.chmodSync(twin, st.mode & 0o7777);
      fs.utimesSync(twin, T, T);
      const dst = path.join(d, 'dst');
      const r = await run(['-a', `--${kind}-dest=${link}`, `${src}/`, `${dst}/`]);
      expect(r.code, show(r)).toBe(0);
      expect(r.stderr, show(r)).toContain(REFUSAL);
      expect(fs.readFileSync(path.join(dst, 'f'), 'utf8')).toBe('source\n');
      expect(fs.statSync(path.join(dst, 'f')).ino).not.toBe(fs.statSync(twin).ino);

      // Followed with --insecure-links (and so, as rsync does, used: linked, copied, or skipped).
      const dst2 = path.join(d, 'dst2');
      const r2 = await run(['-a', '--insecure-links', `--${kind}-dest=${link}`, `${src}/`, `${dst2}/`]);
      expect(r2.code, show(r2)).toBe(0);
      expect(r2.stderr).not.toContain(REFUSAL);
      if (kind === 'link') expect(fs.statSync(path.join(dst2, 'f')).ino).toBe(fs.statSync(twin).ino);
      if (kind === 'copy') expect(fs.readFileSync(path.join(dst2, 'f'), 'utf8')).toBe('SECRET\n');
      if (kind === 'compare') expect(fs.existsSync(path.join(dst2, 'f'))).toBe(false);
    });
  }

  it.skipIf(!isRoot)('--link-dest through a root-owned symlink: followed', async () => {
    const { d, src, outside, link } = setup('root');
    fs.copyFileSync(path.join(src, 'f'), path.join(outside, 'f'));
    fs.chmodSync(path.join(outside, 'f'), fs.statSync(path.join(src, 'f')).mode & 0o7777);
    fs.utimesSync(path.join(outside, 'f'), T, T);
    const r = await run(['-a', `--link-dest=${link}`, `${src}/`, `${path.join(d, 'dst')}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).not.toContain(REFUSAL);
    expect(fs.statSync(path.join(d, 'dst', 'f')).ino).toBe(fs.statSync(path.join(outside, 'f')).ino);
  });

  // /dev/stdin and /dev/fd/N (a shell's `--files-from=<(command)`) end in a descriptor's /proc link whose
  // target is no path ("pipe:[N]"): kept for open() as rsync's open() takes it. Resolving through it made
  // every such list "failed to open files-from file /dev/stdin: No such file or directory" (exit 1).
  it('a destination to be made whose name is a symlink leading nowhere is refused as rsync refuses it (its mkdir fails), nothing written where the link points', async () => {
    for (const args of [['src/', 'dang'], ['src', 'dang/'], ['--mkpath', 'src/', 'dang/'], ['--mkpath', 'src/', 'dang/sub/'], ['src/', 'dang/sub/'], ['-n', 'src/', 'dang'], ['src/f', 'dang']]) {
      const out: Record<string, { code: number | null; stderr: string; outside: string[]; dang: string }> = {};
      for (const tool of ['rsync', 'arsync'] as const) {
        const { d, outside } = setup('root');
        const dang = path.join(d, 'dang');
        fs.symlinkSync(path.join(outside, 'newdir'), dang);
        const r = tool === 'rsync' ? spawnSync('rsync', ['-a', ...args], { cwd: d, encoding: 'utf8' }) : await run(['-a', ...args], d);
        const code = 'status' in r ? r.status : r.code;
        const stderr = normaliseOutput(r.stderr, tool).replace(d, 'D').replace(/^rsync/gm, 'arsync').replace(/ at [a-z]+\.c\(\d+\) \[[^\]]*\]$/gm, '').replace(/^arsync error: received SIGUSR1 \(code 19\)\n/gm, '');
        const st = fs.lstatSync(dang);
        out[tool] = { code, stderr, outside: listing(outside), dang: st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : 'other' };
      }
      const ctx = args.join(' ');
      expect(out['arsync'], ctx).toEqual(out['rsync']);
      // rsync 3.5's own answers, so that both sides cannot agree on the wrong thing.
      expect(out['arsync']!.outside, ctx).toEqual([]);
      expect(out['arsync']!.code, ctx).toBe(args[0] === '-n' || args[0] === 'src/f' ? 0 : 11);
      expect(out['arsync']!.dang, ctx).toBe(args[0] === 'src/f' ? 'file' : 'link');
    }
  });

  it('--files-from=/dev/stdin and --exclude-from=/dev/fd/0 on a shell\'s pipe: read as rsync reads them', async () => {
    const { d, src } = setup('root');
    fs.writeFileSync(path.join(src, 'g'), 'g');
    for (const [opt, want] of [['--files-from=/dev/stdin', ['f']], ['--exclude-from=/dev/fd/0', ['f']]] as const) {
      const dst = path.join(d, `dst-${opt.slice(2, 6)}`);
      const r = await runCli([eng, '-r', opt, `${src}/`, `${dst}/`], { pipedInput: opt.startsWith('--files') ? 'f\n' : 'g\n' });
      expect(r.code, show(r)).toBe(0);
      expect(listing(dst)).toEqual(want);
    }
  });

  it.skipIf(!isRoot)('--files-from through another user\'s symlink: exit 1, nothing made', async () => {
    const { d, src, outside, link } = setup('nobody');
    fs.writeFileSync(path.join(outside, 'list'), 'f\n');
    const dst = path.join(d, 'dst');
    const r = await run(['-a', `--files-from=${link}/list`, src, `${dst}/`]);
    expectRefused(r, 1, /failed to open files-from file .*: Too many levels of symbolic links/);
    expect(fs.existsSync(dst)).toBe(false);

    const r2 = await run(['-a', '--insecure-links', `--files-from=${link}/list`, src, `${dst}/`]);
    expect(r2.code, show(r2)).toBe(0);
    expect(fs.readFileSync(path.join(dst, 'f'), 'utf8')).toBe('source\n');
  });

  for (const opt of ['--exclude-from=', '--include-from=', '--filter=merge ']) {
    it.skipIf(!isRoot)(`${opt}FILE through another user's symlink: exit 11, nothing made`, async () => {
      const { d, src, outside, link } = setup('nobody');
      fs.writeFileSync(path.join(outside, 'rules'), '- f\n');
      const dst = path.join(d, 'dst');
      const r = await run(['-a', `${opt}${link}/rules`, `${src}/`, `${dst}/`]);
      expectRefused(r, 11, /failed to open (ex|in)clude file .*: Too many levels of symbolic links/);
      expect(fs.existsSync(dst)).toBe(false);

      const r2 = await run(['-a', '--insecure-links', `${opt}${link}/rules`, `${src}/`, `${dst}/`]);
      expect(r2.code, show(r2)).toBe(0);
      // "- f" is an exclude rule in all three ("- " is a rule prefix in an include file too).
      expect(fs.existsSync(path.join(dst, 'f'))).toBe(false);
    });
  }

  it.skipIf(!isRoot)('a per-directory merge file that is another user\'s symlink is not read (-F)', async () => {
    const { d, src, outside } = setup('nobody');
    fs.writeFileSync(path.join(outside, 'rules'), '- f\n');
    const planted = path.join(src, '.rsync-filter');
    fs.symlinkSync(path.join(outside, 'rules'), planted);
    fs.lchownSync(planted, NOBODY, NOBODY);
    const r = await run(['-a', '-F', `${src}/`, `${path.join(d, 'dst')}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr, show(r)).toContain(REFUSAL);
    expect(fs.readFileSync(path.join(d, 'dst', 'f'), 'utf8')).toBe('source\n');

    // Root's own symlink is read: its rule excludes f.
    fs.lchownSync(planted, 0, 0);
    const r2 = await run(['-a', '-F', `${src}/`, `${path.join(d, 'dst2')}/`]);
    expect(r2.code, show(r2)).toBe(0);
    expect(fs.existsSync(path.join(d, 'dst2', 'f'))).toBe(false);
  });

  // Not the node engine: it names destination paths from the root on every op (no openat2), the race
  // window docs/architecture.md documents; the native engines hold the root open.
  it.skipIf(!isRoot || e.name === 'node')('a user swapping the destination for a symlink during the run never gets a write outside', async () => {
    const { d, src, outside } = setup('nobody');
    for (let i = 0; i < 1500; i++) fs.writeFileSync(path.join(src, `g${i}`), `${i}\n`);
    // pub/ is the user's; pub/dest is root's destination inside it. The user moves it aside and puts
    // a symlink to outside/ in its place, then back, over and over: workers start (and open the
    // destination) while the run is under way.
    const pub = path.join(d, 'pub');
    fs.mkdirSync(path.join(pub, 'dest'), { recursive: true });
    fs.chownSync(pub, NOBODY, NOBODY);
    const loop = `cd '${pub}' && while :; do mv -T dest real; ln -s '${outside}' dest; rm dest; mv -T real dest; done`;
    const attacker = spawnAs({ uid: NOBODY, gid: NOBODY }, ['sh', '-c', loop], { stdio: 'ignore', detached: true });
    try {
      for (let k = 0; k < 8; k++) {
        const r = await run([`--workers=2`, '-a', `${src}/`, `${path.join(pub, 'dest')}/`]);
        // Refused at the start (3), the root found swapped when an engine opened it (11), files not
        // made because the user replaced the directory being filled (23), or done.
        expect([0, 3, 11, 23], show(r)).toContain(r.code);
        expect(r.stderr, show(r)).not.toMatch(/internal error|\n\s+at /);
        expect(listing(outside), show(r)).toEqual([]);
      }
    } finally {
      // ESRCH here means the attacker had died: the test did not attack, and fails.
      process.kill(-attacker.pid!, 'SIGKILL');
    }
  });
});
