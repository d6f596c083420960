// Snapshot directories are not trusted more than sources (issue 7, item 16). A root backup with
// --link-dest/--copy-dest/--compare-dest=prev must not read a basis file through a symlink a user
// planted inside the previous snapshot, and must not copy or link a twin owned by someone else just
// because its size and mtime match (the user chooses both for their own file). Either way the user's
// new snapshot file would hold root-only bytes, readable by them.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { spawnAs } from '../helpers/as-user.js';

const NOBODY = 65534;
const T = 1_600_000_000;
const isRoot = process.getuid?.() === 0;
const ROOT_ONLY = 'TOP-SECRET\n';
const USERS = 'user-data!\n'; // as long as ROOT_ONLY: the attacker matches size and mtime

let base: string;
beforeAll(() => {
  // The attack needs a size match; a test that cannot attack cannot fail.
  expect(USERS.length).toBe(ROOT_ONLY.length);
  base = tempDir('arsync-alttrust-');
  // The attacker runs as nobody and must reach its own directories.
  fs.chmodSync(base, 0o755);
});
afterAll(() => removeTemps());

/** A regular file with exactly this content, owner, mode and mtime. */
function put(p: string, content: string, uid: number, mode: number): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  fs.chownSync(p, uid, uid);
  fs.chmodSync(p, mode);
  fs.utimesSync(p, T, T);
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  let n = 0;
  const fresh = (): string => {
    const d = path.join(base, `${e.name}-${n++}`);
    fs.mkdirSync(d);
    return d;
  };

  for (const kind of ['link', 'copy', 'compare'] as const) {
    it.skipIf(!isRoot)(`--${kind}-dest: a symlink planted inside the snapshot is not followed to a root-only file`, async () => {
      const d = fresh();
      // The user's file in the source, and the root-only file elsewhere with the same size and mtime.
      put(path.join(d, 'src/u/docs/secret'), USERS, NOBODY, 0o644);
      fs.chownSync(path.join(d, 'src/u/docs'), NOBODY, NOBODY);
      put(path.join(d, 'private/secret'), ROOT_ONLY, 0, 0o600);
      // In the previous snapshot the user replaced their directory with a symlink to root's.
      fs.mkdirSync(path.join(d, 'prev/u'), { recursive: true });
      fs.chownSync(path.join(d, 'prev/u'), NOBODY, NOBODY);
      fs.symlinkSync(path.join(d, 'private'), path.join(d, 'prev/u/docs'));
      fs.lchownSync(path.join(d, 'prev/u/docs'), NOBODY, NOBODY);

      const r = await runCli([eng, '-a', `--${kind}-dest=../prev`, `${d}/src/`, `${d}/dst/`]);
      expect(r.code, show(r)).toBe(0);
      const got = path.join(d, 'dst/u/docs/secret');
      expect(fs.readFileSync(got, 'utf8'), show(r)).toBe(USERS);
      const st = fs.statSync(got);
      expect(st.ino).not.toBe(fs.statSync(path.join(d, 'private/secret')).ino);
      expect([st.uid, st.mode & 0o7777]).toEqual([NOBODY, 0o644]);
      expect(fs.readFileSync(path.join(d, 'private/secret'), 'utf8')).toBe(ROOT_ONLY);
    });

    it.skipIf(!isRoot)(`--${kind}-dest under -o: a same size+mtime twin owned by another user is not used`, async () => {
      const d = fresh();
      put(path.join(d, 'src/u/f'), USERS, NOBODY, 0o644);
      // The snapshot's twin is root's, mode 0600, with the same size and mtime.
      put(path.join(d, 'prev/u/f'), ROOT_ONLY, 0, 0o600);

      const r = await runCli([eng, '-a', `--${kind}-dest=../prev`, `${d}/src/`, `${d}/dst/`]);
      expect(r.code, show(r)).toBe(0);
      const got = path.join(d, 'dst/u/f');
      expect(fs.readFileSync(got, 'utf8'), show(r)).toBe(USERS);
      const st = fs.statSync(got);
      expect(st.ino).not.toBe(fs.statSync(path.join(d, 'prev/u/f')).ino);
      expect([st.uid, st.mode & 0o7777]).toEqual([NOBODY, 0o644]);
    });
  }

  it.skipIf(!isRoot)('--link-dest still links a twin with the same owner, and copies from one whose mode differs', async () => {
    const d = fresh();
    put(path.join(d, 'src/same'), USERS, NOBODY, 0o644);
    put(path.join(d, 'prev/same'), USERS, NOBODY, 0o644);
    put(path.join(d, 'src/mode'), USERS, NOBODY, 0o640);
    put(path.join(d, 'prev/mode'), USERS, NOBODY, 0o644);
    const r = await runCli([eng, '-a', '--link-dest=../prev', `${d}/src/`, `${d}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.statSync(path.join(d, 'dst/same')).ino).toBe(fs.statSync(path.join(d, 'prev/same')).ino);
    const mode = fs.statSync(path.join(d, 'dst/mode'));
    expect(mode.ino).not.toBe(fs.statSync(path.join(d, 'prev/mode')).ino);
    expect([mode.uid, mode.mode & 0o7777]).toEqual([NOBODY, 0o640]);
    expect(fs.readFileSync(path.join(d, 'dst/mode'), 'utf8')).toBe(USERS);
  });

  for (const kind of ['link', 'copy'] as const) {
    it.skipIf(!isRoot)(`--${kind}-dest while a user swaps a snapshot directory for a symlink: never root's bytes or inode`, async () => {
      const d = fresh();
      const N = 300;
      // prev/u/docs is a real directory whose files match the source's exactly (so they are chosen);
      // private/ holds root-only files of the same names, sizes and mtimes.
      for (let i = 0; i < N; i++) {
        put(path.join(d, `src/u/docs/f${i}`), USERS, NOBODY, 0o644);
        put(path.join(d, `prev/u/docs/f${i}`), USERS, NOBODY, 0o644);
        put(path.join(d, `private/f${i}`), ROOT_ONLY, 0, 0o600);
      }
      for (const dir of ['src/u/docs', 'src/u', 'prev/u/docs', 'prev/u']) {
        fs.chownSync(path.join(d, dir), NOBODY, NOBODY);
        fs.utimesSync(path.join(d, dir), T, T);
      }
      // The attacker (as nobody): the directory moves aside and a symlink to root's takes its place,
      // then back, over and over. Between the planner's look and the engine's open it can be either.
      const u = path.join(d, 'prev/u');
      const loop = `cd '${u}' && while :; do mv -T docs real; ln -s '${d}/private' docs; rm docs; mv -T real docs; done`;
      const attacker = spawnAs({ uid: NOBODY, gid: NOBODY }, ['sh', '-c', loop], { stdio: 'ignore', detached: true });
      try {
        const privateInos = new Set(Array.from({ length: N }, (_, i) => fs.statSync(path.join(d, `private/f${i}`)).ino));
        for (let run = 0; run < 10; run++) {
          const dst = path.join(d, `dst${run}`);
          const r = await runCli([eng, '-a', `--${kind}-dest=../prev`, `${d}/src/`, `${dst}/`]);
          // A basis that changed under its op is replaced by a copy from the source: every file is
          // there, with the user's bytes, and the run succeeds.
          expect(r.code, show(r)).toBe(0);
          for (let i = 0; i < N; i++) {
            const f = path.join(dst, `u/docs/f${i}`);
            expect(fs.readFileSync(f, 'utf8'), `${show(r)}\n${f}`).toBe(USERS);
            expect(privateInos.has(fs.statSync(f).ino), `${f} is root's file`).toBe(false);
          }
        }
      } finally {
        // ESRCH here means the attacker had died: the test did not attack, and fails.
        process.kill(-attacker.pid!, 'SIGKILL');
      }
    });
  }
});
