// A pull with --link-dest / --compare-dest / --copy-dest (the nightly backup: `rsync -a --link-dest=../prev
// host:/home/ /backup/today/`), differential against rsync 3.5 as the client: a file a basis directory
// holds unchanged is not asked for at all (linked, left out or copied locally), a changed one comes as a
// delta against the basis directory's copy, a new one whole; the trees, the hard links to the old
// tree, the exit codes, the -i lines and --stats' "Literal data", "Matched data" and "Number of regular
// files transferred" are rsync's, with the directories given absolute and relative to the destination,
// into a new destination and one holding other versions, under -c, -W, -I and --size-only, and with rsync 3.2.7 and 3.1.3 as
// the far side where built. The basis directory is only read, never reached through a symlink in it.
// --fuzzy likewise: a similar file of the destination's directory (-yy: of a basis directory's) is the
// basis of a file the destination lacks.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bytes as random } from '../helpers/differential.js';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { destPairs, itemLines, rsyncClient, stagingDirs } from '../helpers/remote-pull.js';

let root: string;
let src: string;
let prev: string;
let rsh: string;
/** What the basis directory held before any run: every run must leave it so. */
let prevBefore: Map<string, string>;

const T = 1_600_000_000;

/** Each file of `dir` as "content hash, size, mode, mtime" by relative name. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(d.parentPath, d.name);
    const st = fs.lstatSync(p);
    const data = d.isFile() ? fs.readFileSync(p).toString('base64').slice(0, 64) + fs.readFileSync(p).length : d.isSymbolicLink() ? fs.readlinkSync(p) : '';
    out.set(path.relative(dir, p), `${data} ${st.mode.toString(8)} ${st.mtimeMs}`);
  }
  return out;
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpullbasis-'));
  src = path.join(root, 'src');
  prev = path.join(root, 'prev');
  const put = (dir: string, rel: string, data: Buffer | string, mtime: number, mode = 0o644): void => {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
    fs.chmodSync(p, mode);
    fs.utimesSync(p, mtime, mtime);
  };
  const big = random(600_001, 11);
  const edited = Buffer.from(big);
  random(200, 12).copy(edited, 300_000);
  const same = random(200_000, 13);
  // Unchanged since the last backup: linked (--link-dest), left out (--compare-dest), copied locally (--copy-dest).
  put(src, 'same', same, T);
  put(prev, 'same', same, T);
  put(src, 'd/same2', 'the same small file\n', T);
  put(prev, 'd/same2', 'the same small file\n', T);
  // Changed: a small edit in a big file, which comes as a delta against the old copy.
  put(src, 'big', edited, T + 50);
  put(prev, 'big', big, T);
  // Same data and time, other permissions: copied locally under every kind ("cf"), not fetched.
  put(src, 'd/perm', 'mode changed\n', T, 0o600);
  put(prev, 'd/perm', 'mode changed\n', T, 0o644);
  // New since the last backup: whole.
  put(src, 'd/new', random(30_000, 14), T);
  // Changed, and its twin is a symlink: never read through.
  put(src, 'linked', random(50_000, 15), T);
  fs.mkdirSync(path.join(root, 'outside'));
  put(path.join(root, 'outside'), 'linked', random(50_000, 15), T);
  fs.symlinkSync(path.join(root, 'outside', 'linked'), path.join(prev, 'linked'));
  for (const d of [src, prev]) {
    for (const rel of ['d', '.']) fs.utimesSync(path.join(d, rel), T, T);
  }
  rsh = fakeRsh(root);
  prevBefore = snapshot(prev);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** --stats' figures that say what came over the wire and what was transferred. */
const figures = (out: string): string[] => out.split('\n').filter((l) => /^(Literal data|Matched data|Number of regular files transferred):/.test(l));

const literal = (out: string): number => Number(/^Literal data: ([\d,]+)/m.exec(out)![1]!.replace(/,/g, ''));

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const pair = destPairs(() => root, e.name);
  const staging = stagingDirs(() => root, e.name, pair);

  /** An old version of the destination: `same` and `big` differ from everything, `d/` holds nothing. */
  const seed = (dst: string): void => {
    fs.mkdirSync(path.join(dst, 'd'), { recursive: true });
    fs.writeFileSync(path.join(dst, 'same'), 'an older same');
    fs.writeFileSync(path.join(dst, 'big'), 'an older big');
    for (const rel of ['same', 'big']) fs.utimesSync(path.join(dst, rel), T - 1000, T - 1000);
  };

  /**
   * rsync's client and arsync pull into their own destination with `opts` (`{}` in an option: the
   * basis directory, absolute or relative to the destination); both exit 0 with the same -i lines, the
   * same figures and the same tree, and the basis directory is left as it was. Returns arsync's output.
   */
  const pullBoth = async (opts: string[], o: { relative?: boolean; seeded?: boolean | ((dst: string) => void); far?: string[]; from?: string; old?: string } = {}): Promise<string> => {
    const old = o.old ?? prev;
    const basis = (dst: string): string => (o.relative ? path.relative(dst, old) : old);
    const args = (dst: string): string[] => [...opts.map((a) => a.replace('{}', basis(dst))), '--stats', ...(o.far ?? []), '-e', rsh, `host:${o.from ?? src}/`, `${dst}/`];
    if (o.seeded) {
      const sow = o.seeded === true ? seed : o.seeded;
      sow(pair.theirs);
      sow(pair.mine);
    }
    const r = rsyncClient(args(pair.theirs));
    const ours = await runCli([eng, ...args(pair.mine)], { env: { TMPDIR: staging.dir } });
    expect(r.code, r.out + r.err).toBe(0);
    expect(ours.code, show(ours)).toBe(0);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(figures(ours.stdout)).toEqual(figures(r.out));
    expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, hardlinks: false }))).toEqual([]);
    // The same files are hard links to the old tree's.
    for (const rel of ['same', 'big', 'd/same2', 'd/perm', 'd/new', 'linked']) {
      const ino = (dst: string): number | undefined => (fs.existsSync(path.join(dst, rel)) ? fs.lstatSync(path.join(dst, rel)).ino : undefined);
      const old = fs.existsSync(path.join(prev, rel)) ? fs.lstatSync(path.join(prev, rel)).ino : -1;
      expect(ino(pair.mine) === old, rel).toBe(ino(pair.theirs) === old);
    }
    expect(snapshot(prev)).toEqual(prevBefore);
    expect(fs.readdirSync(staging.dir)).toEqual([]);
    return ours.stdout;
  };

  for (const kind of ['link', 'compare', 'copy'] as const) {
    for (const relative of [false, true]) {
      it(`--${kind}-dest (${relative ? 'relative' : 'absolute'}) into a new destination: unchanged files not fetched, a changed one as a delta`, async () => {
        const out = await pullBoth(['-ai', `--${kind}-dest={}`], { relative });
        // Only the edit, the new file and the file whose twin is a symlink came as literal data.
        expect(literal(out)).toBeLessThan(30_000 + 50_000 + 10_000);
      });
    }
    it(`--${kind}-dest into a destination holding other versions`, async () => {
      await pullBoth(['-ai', `--${kind}-dest={}`], { seeded: true });
    });
  }

  it('--link-dest with -c: twins compared by their data', async () => {
    await pullBoth(['-aic', '--link-dest={}']);
  });

  it('--link-dest with -c into a destination holding other versions', async () => {
    await pullBoth(['-aic', '--link-dest={}'], { seeded: true });
  });

  it('--link-dest with --chmod into a destination holding other versions: twins judged by the mode the local run gives', async () => {
    await pullBoth(['-ai', '--chmod=Fo-r', '--link-dest={}'], { seeded: true });
  });

  // As root with -o, a twin owned by another than the mapped owner is never linked or copied (arsync's
  // rule, run/alt-dest.ts; rsync copies it): the pull must not leave such a file unfetched.
  it.skipIf(process.geteuid?.() !== 0)('--link-dest with --usermap as root: every file placed, from the wire where the twin may not serve', async () => {
    const ours = await runCli([eng, '-a', '--usermap=0:1234', '--stats', `--link-dest=${prev}`, '-e', rsh, `host:${src}/`, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
    expect(ours.code, show(ours)).toBe(0);
    expect(ours.stderr).toBe('');
    for (const rel of ['same', 'big', 'd/same2', 'd/perm', 'd/new', 'linked']) {
      expect(fs.readFileSync(path.join(pair.mine, rel)).equals(fs.readFileSync(path.join(src, rel))), rel).toBe(true);
      expect(fs.lstatSync(path.join(pair.mine, rel)).uid, rel).toBe(1234);
    }
    expect(snapshot(prev)).toEqual(prevBefore);
  });

  it('--link-dest with -W: nothing unchanged fetched, the changed file whole', async () => {
    await pullBoth(['-aiW', '--link-dest={}']);
  });

  it('two --link-dest directories, the first without the files and its root another time', async () => {
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty, { recursive: true });
    // Its root's time is not the source's: the root takes the second directory's twin, which matches.
    fs.utimesSync(empty, T - 5, T - 5);
    await pullBoth(['-ai', `--link-dest=${empty}`, '--link-dest={}']);
  });

  it('--link-dest onto a destination whose d/ is a symlink planted to a directory outside: nothing written through it', async () => {
    const away = path.join(root, `away-${e.name}-${pair.n}`);
    fs.mkdirSync(away);
    fs.writeFileSync(path.join(away, 'same2'), 'outside, must stay');
    await pullBoth(['-ai', '--link-dest={}'], {
      seeded: (dst) => {
        fs.mkdirSync(dst, { recursive: true });
        fs.symlinkSync(away, path.join(dst, 'd'));
      },
    });
    expect(fs.readdirSync(away)).toEqual(['same2']);
    expect(fs.readFileSync(path.join(away, 'same2'), 'utf8')).toBe('outside, must stay');
    expect(fs.lstatSync(path.join(pair.mine, 'd')).isDirectory()).toBe(true);
  });

  it('--link-dest never reaches a twin through a symlinked directory in the basis directory', async () => {
    // The basis directory's e/ is a symlink to a directory outside holding the same file: not a twin.
    const other = path.join(root, `other-${e.name}-${pair.n}`);
    const basis = path.join(root, `prev-sym-${e.name}-${pair.n}`);
    const data = random(40_000, 16);
    for (const d of [path.join(other, 'e'), path.join(src, 'e')]) {
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'f'), data);
      fs.utimesSync(path.join(d, 'f'), T, T);
    }
    fs.mkdirSync(basis);
    fs.symlinkSync(path.join(other, 'e'), path.join(basis, 'e'));
    try {
      const ours = await runCli([eng, '-a', '--stats', `--link-dest=${basis}`, '-e', rsh, `host:${src}/e/`, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
      expect(ours.code, show(ours)).toBe(0);
      expect(fs.readFileSync(path.join(pair.mine, 'f')).equals(data)).toBe(true);
      expect(fs.lstatSync(path.join(pair.mine, 'f')).ino).not.toBe(fs.lstatSync(path.join(other, 'e', 'f')).ino);
      expect(fs.lstatSync(path.join(other, 'e', 'f')).nlink).toBe(1);
      expect(literal(ours.stdout)).toBe(data.length);
    } finally {
      fs.rmSync(path.join(src, 'e'), { recursive: true, force: true });
      fs.utimesSync(src, T, T);
    }
  });

  // A twin of the same size and data but another time: a match under --size-only and -c (copied: "cf"),
  // never under -I (a delta against it), as rsync's quick_check_ok.
  for (const opt of ['--size-only', '-I', '-c']) {
    it(`--link-dest with ${opt}`, async () => {
      const from = path.join(root, 'src-touched');
      const old = path.join(root, 'prev-touched');
      if (!fs.existsSync(from)) {
        for (const [d, t] of [[from, T + 7], [old, T]] as const) {
          fs.mkdirSync(d);
          fs.writeFileSync(path.join(d, 'touched'), random(80_000, 17));
          fs.writeFileSync(path.join(d, 'kept'), random(9_000, 18));
          fs.utimesSync(path.join(d, 'touched'), t, t);
          fs.utimesSync(path.join(d, 'kept'), T, T);
          fs.utimesSync(d, T, T);
        }
      }
      await pullBoth(['-ai', opt, '--link-dest={}'], { from, old });
    });
  }

  const matched = (out: string): number => Number(/^Matched data: ([\d,]+)/m.exec(out)![1]!.replace(/,/g, ''));

  it('-y: an old copy under another name in the destination directory is the basis', async () => {
    const out = await pullBoth(['-aiy'], {
      seeded: (dst) => {
        fs.mkdirSync(dst, { recursive: true });
        fs.copyFileSync(path.join(prev, 'big'), path.join(dst, 'big.old'));
        fs.utimesSync(path.join(dst, 'big.old'), T, T);
      },
    });
    expect(matched(out)).toBeGreaterThan(500_000);
  });

  // --delete during (or before) the transfer removes a name the list lacks before rsync looks for a
  // fuzzy basis in its directory: none then; --delete-after leaves it to be the basis.
  for (const del of ['--delete', '--delete-after']) {
    it(`-y ${del}: an old copy the list does not name is ${del === '--delete' ? 'deleted first, no basis' : 'the basis, then deleted'}`, async () => {
      const out = await pullBoth(['-aiy', del], {
        seeded: (dst) => {
          fs.mkdirSync(dst, { recursive: true });
          fs.copyFileSync(path.join(prev, 'big'), path.join(dst, 'big.old'));
          fs.utimesSync(path.join(dst, 'big.old'), T, T);
        },
      });
      if (del === '--delete') expect(matched(out)).toBe(0);
      else expect(matched(out)).toBeGreaterThan(500_000);
    });
  }

  it('-yy with --compare-dest: a similar file in the basis directory is the basis', async () => {
    const other = path.join(root, 'prev-fuzzy');
    if (!fs.existsSync(other)) {
      fs.mkdirSync(other);
      fs.copyFileSync(path.join(prev, 'big'), path.join(other, 'big.old'));
      fs.utimesSync(path.join(other, 'big.old'), T, T);
      fs.utimesSync(other, T, T);
    }
    const out = await pullBoth(['-aiyy', `--compare-dest=${other}`]);
    expect(matched(out)).toBeGreaterThan(500_000);
  });

  if (peersAvailable) {
    for (const version of ['3.2.7', '3.1.3']) {
      it(`--link-dest with rsync ${version} as the far side`, async () => {
        await pullBoth(['-ai', '--link-dest={}'], { far: [`--rsync-path=${peerRsync(version)}`] });
      });
    }
  }
});
