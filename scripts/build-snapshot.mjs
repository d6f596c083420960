#!/usr/bin/env node
// Builds the start-up snapshot, dist/arsync.blob, from dist/bin.js (scripts/bundle.mjs makes it; src/bin.ts
// knows when it is the snapshot's entry) with the Node that runs this script, and that Node binary's
// identity in a form the shell's tests can check without starting a program: dist/arsync.blob.node, a
// symlink to the binary (bin/arsync's `-ef`: the same device and inode), and dist/arsync.blob.id, whose
// mtime is the binary's (`-nt`/`-ot`: neither newer nor older) and whose text records device, inode,
// size and mtime for people. A blob only loads in the exact Node binary that built it (Node refuses
// another one with exit 14, which is also an rsync exit code), so after a Node upgrade the launcher falls
// back to the plain bundle until the next build.
// Run by scripts/bundle.mjs and by the package's install step (after the addon). Never fails: without
// a blob arsync starts from dist/bin.js as before. Measured in docs/benchmarks.md, "Start-up snapshot".

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The Node binary's device, inode, size and mtime as `stat -L -c '%d:%i:%s:%Y'` prints them (dist/arsync.blob.id's text). */
export function nodeIdentity(execPath = process.execPath) {
  const s = statSync(execPath, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs / 1000n}`;
}

/** How many functions the last buildSnapshot() compiled into the blob (`--verbose` prints it). */
export let compiledAhead = 0;

/**
 * The names of the bundle's functions that a small local copy, pull and push call, from V8's log of each
 * (`-a` of a few files, a directory and a file in it, with the plain bundle in `dir` and this Node; the
 * pull and the push through a remote shell that runs the far side's `rsync --server` here, as the e2e
 * tests' does), in the order first called. A run that cannot happen here (no rsync on PATH for the two
 * remote ones) adds nothing: the list only saves time, it changes no behaviour.
 */
export function traceRunFunctions(dir, env) {
  const tmp = mkdtempSync(join(tmpdir(), 'arsync-snapshot-trace-'));
  try {
    const src = join(tmp, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    for (const d of [src, join(src, 'sub')]) for (const n of ['a', 'b', 'c']) writeFileSync(join(d, n), `${n}\n`);
    const rsh = join(tmp, 'rsh');
    writeFileSync(rsh, '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
    mkdirSync(join(tmp, 'pushed'));
    const bin = realpathSync(join(dir, 'bin.js'));
    const runs = [
      ['-a', `${src}/`, `${join(tmp, 'dst')}/`],
      ['-a', '-e', rsh, `host:${src}/`, `${join(tmp, 'pulled')}/`],
      ['-a', '-e', rsh, `${src}/`, `host:${join(tmp, 'pushed')}/`],
    ];
    const names = new Set();
    runs.forEach((operands, i) => {
      const log = join(tmp, `v8-${i}.log`);
      const args = ['--log-function-events', `--logfile=${log}`, '--no-logfile-per-isolate', bin, ...operands];
      const run = spawnSync(process.execPath, args, { cwd: tmp, env, encoding: 'utf8', timeout: 60_000 });
      if (run.status !== 0 || !existsSync(log)) return;
      const lines = readFileSync(log, 'latin1').split('\n');
      // script-details,ID,URL,... and function,first-execution,ID,START,END,TIME,TIMESTAMP,NAME
      const ids = new Set(lines.map((l) => l.split(',')).filter((f) => f[0] === 'script-details' && f[2] === bin).map((f) => f[1]));
      for (const line of lines) {
        const f = line.split(',');
        if (f[0] === 'function' && f[1] === 'first-execution' && ids.has(f[2]) && f[7]) names.add(f[7]);
      }
    });
    return [...names];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Build the blob in `dir` (the package's dist/); returns why not, or undefined when it was built. */
export function buildSnapshot(dir = join(root, 'dist')) {
  const entry = join(dir, 'bin.js');
  const blob = join(dir, 'arsync.blob');
  const id = `${blob}.id`;
  const link = `${blob}.node`;
  rmSync(id, { force: true });
  rmSync(link, { force: true });
  rmSync(blob, { force: true });
  if (!existsSync(entry)) return `${entry} is not built yet`;
  // V8 flags from NODE_OPTIONS would be baked into the blob's flag hash; the launcher never uses the blob
  // under NODE_OPTIONS (nor under coverage), so build it without them.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_V8_COVERAGE;
  const tmp = `${blob}.tmp`;
  // The functions a small copy, pull and push call, compiled into the blob (src/snapshot.ts). V8's intrinsic for that
  // aborts the process where it cannot compile (a platform without its baseline compiler): then the blob is
  // built again without them.
  const names = `${blob}.warm`;
  writeFileSync(names, traceRunFunctions(dir, env).join('\n') + '\n');
  const buildWith = (extra) =>
    spawnSync(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', entry], { cwd: dir, env: { ...env, ...extra }, encoding: 'utf8' });
  let built = buildWith({ ARSYNC_SNAPSHOT_WARM: names });
  if (built.status !== 0 || !existsSync(tmp)) built = buildWith({});
  rmSync(names, { force: true });
  if (built.status !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    return `node --build-snapshot failed (${built.status ?? built.signal}): ${built.stderr.trim().split('\n').slice(0, 8).join('\n')}`;
  }
  compiledAhead = Number(/arsync-snapshot: (\d+) functions compiled ahead/.exec(built.stdout)?.[1] ?? 0);
  // One run from the blob before it is trusted.
  const check = spawnSync(process.execPath, ['--snapshot-blob', tmp, join(dir, 'bin.js'), '--version'], { cwd: dir, env, encoding: 'utf8' });
  if (check.status !== 0 || !check.stdout.startsWith('arsync ')) {
    rmSync(tmp, { force: true });
    return `a run from the new blob failed (${check.status ?? check.signal}): ${check.stderr.trim().slice(0, 500)}`;
  }
  renameSync(tmp, blob);
  const node = realpathSync(process.execPath);
  symlinkSync(node, link);
  writeFileSync(id, nodeIdentity() + '\n');
  // The binary's mtime to the nanosecond, which Node's utimes (seconds as a double) cannot set exactly.
  const touched = spawnSync('touch', ['-r', node, id], { encoding: 'utf8' });
  if (touched.status !== 0) {
    rmSync(id, { force: true });
    return `touch -r could not give ${id} the mtime of ${node}: ${(touched.stderr ?? String(touched.error)).trim()}`;
  }
  return undefined;
}

// `node scripts/build-snapshot.mjs [--quiet|--verbose] [DIR]`: DIR is a dist/ directory (the package's by default).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const why = buildSnapshot(dir === undefined ? undefined : resolve(dir));
  // Not an error: arsync starts from the plain bundle without it.
  if (why && !process.argv.includes('--quiet')) console.warn(`arsync: no start-up snapshot (${why}); arsync starts without it`);
  if (!why && process.argv.includes('--verbose')) console.log(`start-up snapshot built, ${compiledAhead} functions compiled ahead`);
}
