// The start-up snapshot as installed: bin/arsync starts Node on dist/arsync.blob (scripts/build-snapshot.mjs)
// when this Node built it, and on the plain bundle dist/bin.js otherwise (another Node, NODE_OPTIONS, no
// blob). A package is laid out in a temp directory with its own blob, built there and then moved (the run
// must find the addon, the worker and the packages from where the package is, not where it was built);
// its dist/bin.js announces itself on stderr, so each run shows which start it took. The rest of the e2e
// suite runs through bin/arsync too (test/helpers/cli.ts), so from the blob whenever coverage is off.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSmallTree, makeTree, removeTemps, tempDir } from '../helpers/tree.js';
import { ADDON, REPO, type CliResult } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';

const PLAIN = 'arsync-test: started from the plain bundle';
let base: string;
let pkg: string;
let src: string;

/** The moved package's command, with the environment of a user's shell (no coverage, no Node options). */
function arsync(args: string[], o: { env?: Record<string, string>; cmd?: string; cwd?: string } = {}): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  delete env.NODE_V8_COVERAGE;
  delete env.ARSYNC_ADDON;
  if (!o.env || !('NODE_OPTIONS' in o.env)) delete env.NODE_OPTIONS;
  const r = spawnSync(o.cmd ?? path.join(pkg, 'bin', 'arsync'), args, { env, cwd: o.cwd ?? base, encoding: 'utf8', timeout: 100_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', argv: ['arsync', ...args] };
}
const show = (r: CliResult): string => `${r.argv.join(' ')}\n  exit ${r.code ?? r.signal}\n  stdout: ${r.stdout.slice(0, 2000)}\n  stderr: ${r.stderr.slice(0, 2000)}`;

beforeAll(() => {
  base = tempDir('arsync-snapshot-');
  src = path.join(base, 'src');
  makeSmallTree(src);
  const built = path.join(base, 'pkg-where-built');
  for (const d of ['bin', 'dist', 'build/Release']) fs.mkdirSync(path.join(built, d), { recursive: true });
  fs.copyFileSync(path.join(REPO, 'bin', 'arsync'), path.join(built, 'bin', 'arsync'));
  fs.chmodSync(path.join(built, 'bin', 'arsync'), 0o755);
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(built, 'package.json'));
  // dist/bin.js is the plain bundle and the blob's entry in one (src/bin.ts): the blob is built from it.
  for (const f of ['bin.js', 'package.json']) fs.copyFileSync(path.join(REPO, 'dist', f), path.join(built, 'dist', f));
  // The pool's worker notes each start, so a run shows that piscina was loaded and its worker found.
  fs.copyFileSync(path.join(REPO, 'dist', 'worker.js'), path.join(built, 'dist', 'worker-real.js'));
  fs.writeFileSync(
    path.join(built, 'dist', 'worker.js'),
    "require('node:fs').appendFileSync(process.env.ARSYNC_TEST_WORKER_LOG || '/dev/null', 'worker\\n');\nmodule.exports = require('./worker-real.js');\n",
  );
  fs.symlinkSync(ADDON, path.join(built, 'build', 'Release', 'arsync.node'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(built, 'node_modules'));
  const b = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'build-snapshot.mjs'), '--verbose', path.join(built, 'dist')], { encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
  expect(b.stderr).toBe('');
  // The functions a small copy calls were traced and compiled into the blob (a run from it then finds their
  // bytecode there); every test below runs from that blob.
  expect(Number(/built, (\d+) functions compiled ahead/.exec(b.stdout)?.[1]), b.stdout).toBeGreaterThan(50);
  // A run from the blob never reads dist/bin.js (it is only argv[1]), so once the blob is built the plain
  // bundle can announce itself.
  fs.renameSync(path.join(built, 'dist', 'bin.js'), path.join(built, 'dist', 'plain.js'));
  fs.writeFileSync(path.join(built, 'dist', 'bin.js'), `process.stderr.write(${JSON.stringify(PLAIN + '\n')});\nrequire('./plain.js');\n`);
  pkg = path.join(base, 'pkg');
  fs.renameSync(built, pkg);
});
afterAll(() => removeTemps());

describeEngines((e) => {
  it('from the blob: the copy is exact, and the addon, workers and packages are found where the package is now', () => {
    const dst = path.join(base, `dst-${e.name}`);
    const r = arsync(['-a', `--engine=${e.name}`, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr, show(r)).not.toContain(PLAIN);
    expectExactCopy(src, dst, e.name);
  });

  it('from the blob: --progress (the pool of workers, piscina loaded by require) and a glob operand (fast-glob)', () => {
    const big = path.join(base, `big-${e.name}`);
    makeTree(big, { seed: 5, catalogue: false, files: 120, maxFileSize: 300_000, xattrs: false, acls: false, owners: false, hardlinks: false });
    const dst = path.join(base, `progress-${e.name}`);
    const log = path.join(base, `workers-${e.name}.log`);
    const r = arsync(['-a', '--progress', `--engine=${e.name}`, `${big}/`, `${dst}/`], { env: { ARSYNC_TEST_WORKER_LOG: log } });
    expect(r.code, show(r)).toBe(0);
    expect(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '', 'a worker of the pool started').toMatch(/^worker\n/);
    expect(r.stderr, show(r)).not.toContain(PLAIN);
    expect(r.stdout, show(r)).toMatch(/to-chk=0\/\d+\)/);
    expectExactCopy(big, dst, e.name);
    const globbed = path.join(base, `glob-${e.name}`);
    const g = arsync(['-a', `--engine=${e.name}`, `${src}/*`, `${globbed}/`]);
    expect(g.code, show(g)).toBe(0);
    expect(g.stderr, show(g)).not.toContain(PLAIN);
    const visible = (d: string): string[] => fs.readdirSync(d).filter((n) => !n.startsWith('.')).sort();
    expect(visible(globbed)).toEqual(visible(src));
  });

  it("glibc's malloc tunables: the launcher's for arsync itself, kept from its child processes; a caller's own passed on", () => {
    // The remote shell notes what it inherited and what arsync's process (its parent) was started with.
    const notes = path.join(base, `tunables-${e.name}`);
    const rsh = path.join(base, `rsh-tunables-${e.name}`);
    fs.writeFileSync(
      rsh,
      `#!/bin/sh\nprintf '%s\\n' "\${GLIBC_TUNABLES-unset}" > '${notes}.child'\n` +
        `tr '\\0' '\\n' < /proc/$PPID/environ | grep '^GLIBC_TUNABLES=' > '${notes}.arsync'\nshift\nexec sh -c "$*"\n`,
      { mode: 0o755 },
    );
    const dst = path.join(base, `pulled-${e.name}`);
    const r = arsync(['-a', `--engine=${e.name}`, '-e', rsh, `localhost:${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    // glibc parses the tunables in place: what /proc shows of the variable ends at its first ':'.
    expect(fs.readFileSync(`${notes}.arsync`, 'utf8')).toMatch(/^GLIBC_TUNABLES=glibc\.malloc\.hugetlb=1(:glibc\.malloc\.top_pad=16777216:glibc\.malloc\.arena_max=2)?\n$/);
    expect(fs.readFileSync(`${notes}.child`, 'utf8')).toBe('unset\n');
    expectExactCopy(src, dst, e.name);
    const own = arsync(['-a', `--engine=${e.name}`, '-e', rsh, `localhost:${src}/`, `${dst}-own/`], { env: { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' } });
    expect(own.code, show(own)).toBe(0);
    expect(fs.readFileSync(`${notes}.arsync`, 'utf8')).toBe('GLIBC_TUNABLES=glibc.malloc.arena_max=2\n');
    expect(fs.readFileSync(`${notes}.child`, 'utf8')).toBe('glibc.malloc.arena_max=2\n');
  });
});

describe('which start bin/arsync takes', () => {
  it('through a symlink (as npm links the command), run by a relative path from another directory: the blob', () => {
    fs.symlinkSync(path.join(pkg, 'bin', 'arsync'), path.join(base, 'arsync-link'));
    const r = arsync(['--version'], { cmd: './arsync-link', cwd: base });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^arsync {2}version /);
    expect(r.stderr, show(r)).not.toContain(PLAIN);
  });

  it('the blob identity is the Node binary bin/arsync runs: the same file, the same mtime to the nanosecond', () => {
    const node = spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim();
    const link = path.join(pkg, 'dist', 'arsync.blob.node');
    const idFile = path.join(pkg, 'dist', 'arsync.blob.id');
    const st = fs.statSync(node, { bigint: true });
    const target = fs.statSync(link, { bigint: true });
    expect([target.dev, target.ino]).toEqual([st.dev, st.ino]);
    expect(fs.statSync(idFile, { bigint: true }).mtimeNs).toBe(st.mtimeNs);
    const text = spawnSync('stat', ['-L', '-c', '%d:%i:%s:%Y', node], { encoding: 'utf8' }).stdout.trim();
    expect(fs.readFileSync(idFile, 'utf8').trim()).toBe(text);
  });

  it('a blob another Node built (another binary, or the same file rewritten): the plain bundle, and the copy is exact', () => {
    const link = path.join(pkg, 'dist', 'arsync.blob.node');
    const idFile = path.join(pkg, 'dist', 'arsync.blob.id');
    const was = fs.readlinkSync(link);
    const id = fs.readFileSync(idFile, 'utf8');
    const other = path.join(base, 'other-node');
    fs.writeFileSync(other, '');
    try {
      // nvm's switch, or a package upgrade that wrote a new file: node on PATH is neither the file linked
      // nor the one recorded.
      fs.rmSync(link);
      fs.symlinkSync(other, link);
      fs.writeFileSync(idFile, '1:2:3:4\n');
      const dst = path.join(base, 'dst-other-node');
      const r = arsync(['-a', `${src}/`, `${dst}/`]);
      expect(r.code, show(r)).toBe(0);
      expect(r.stderr).toContain(PLAIN);
      expectExactCopy(src, dst, 'uring');
      // The same file, rewritten in place: linked, but its mtime and size are not the recorded ones.
      fs.rmSync(link);
      fs.symlinkSync(was, link);
      for (const shift of [1, -1]) {
        const { atime, mtime } = fs.statSync(was);
        fs.utimesSync(idFile, atime, new Date(mtime.getTime() + shift * 1000));
        const v = arsync(['--version']);
        expect(v.code, show(v)).toBe(0);
        expect(v.stderr, show(v)).toContain(PLAIN);
      }
    } finally {
      fs.rmSync(link, { force: true });
      fs.symlinkSync(was, link);
      fs.writeFileSync(idFile, id);
      spawnSync('touch', ['-r', was, idFile]);
    }
    const back = arsync(['--version']);
    expect(back.stderr, show(back)).not.toContain(PLAIN);
  });

  it('a dist/ copied without its mtimes, or without the link: the blob still, by stat of the recorded identity', () => {
    const link = path.join(pkg, 'dist', 'arsync.blob.node');
    const idFile = path.join(pkg, 'dist', 'arsync.blob.id');
    const was = fs.readlinkSync(link);
    try {
      fs.utimesSync(idFile, new Date(), new Date());
      const r = arsync(['--version']);
      expect(r.code, show(r)).toBe(0);
      expect(r.stderr, show(r)).not.toContain(PLAIN);
      fs.rmSync(link);
      const s = arsync(['--version']);
      expect(s.code, show(s)).toBe(0);
      expect(s.stderr, show(s)).not.toContain(PLAIN);
    } finally {
      fs.rmSync(link, { force: true });
      fs.symlinkSync(was, link);
      spawnSync('touch', ['-r', was, idFile]);
    }
  });

  it('NODE_OPTIONS set (its V8 flags would not match the blob), or no blob: the plain bundle', () => {
    const withOptions = arsync(['--version'], { env: { NODE_OPTIONS: '--max-old-space-size=500' } });
    expect(withOptions.code, show(withOptions)).toBe(0);
    expect(withOptions.stderr).toContain(PLAIN);
    const blob = path.join(pkg, 'dist', 'arsync.blob');
    fs.renameSync(blob, `${blob}.away`);
    try {
      const r = arsync(['--version']);
      expect(r.code, show(r)).toBe(0);
      expect(r.stderr).toContain(PLAIN);
    } finally {
      fs.renameSync(`${blob}.away`, blob);
    }
    const back = arsync(['--version']);
    expect(back.stderr, show(back)).not.toContain(PLAIN);
  });
});
