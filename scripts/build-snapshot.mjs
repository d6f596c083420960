#!/usr/bin/env node
// Builds the start-up snapshot, dist/arsync.blob, from dist/bin.js (scripts/bundle.mjs makes it; src/bin.ts
// knows when it is the snapshot's entry) with the Node that runs this script, and dist/arsync.blob.id, that Node binary's identity (device, inode,
// size, mtime), which bin/arsync compares before it starts Node on the blob: a blob only loads in the
// exact Node binary that built it (Node refuses another one with exit 14, which is also an rsync exit
// code), so after a Node upgrade the launcher falls back to the plain bundle until the next build.
// Run by scripts/bundle.mjs and by the package's install step (after the addon). Never fails: without
// a blob arsync starts from dist/bin.js as before. Measured in docs/benchmarks.md, "Start-up snapshot".

import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What bin/arsync's `stat -L -c '%d:%i:%s:%Y'` prints for the Node binary. */
export function nodeIdentity(execPath = process.execPath) {
  const s = statSync(execPath, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs / 1000n}`;
}

/** Build the blob in `dir` (the package's dist/); returns why not, or undefined when it was built. */
export function buildSnapshot(dir = join(root, 'dist')) {
  const entry = join(dir, 'bin.js');
  const blob = join(dir, 'arsync.blob');
  const id = `${blob}.id`;
  rmSync(id, { force: true });
  rmSync(blob, { force: true });
  if (!existsSync(entry)) return `${entry} is not built yet`;
  // V8 flags from NODE_OPTIONS would be baked into the blob's flag hash; the launcher never uses the blob
  // under NODE_OPTIONS (nor under coverage), so build it without them.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_V8_COVERAGE;
  const tmp = `${blob}.tmp`;
  const built = spawnSync(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', entry], { cwd: dir, env, encoding: 'utf8' });
  if (built.status !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    return `node --build-snapshot failed (${built.status ?? built.signal}): ${built.stderr.trim().split('\n').slice(0, 8).join('\n')}`;
  }
  // One run from the blob before it is trusted.
  const check = spawnSync(process.execPath, ['--snapshot-blob', tmp, join(dir, 'bin.js'), '--version'], { cwd: dir, env, encoding: 'utf8' });
  if (check.status !== 0 || !check.stdout.startsWith('arsync ')) {
    rmSync(tmp, { force: true });
    return `a run from the new blob failed (${check.status ?? check.signal}): ${check.stderr.trim().slice(0, 500)}`;
  }
  renameSync(tmp, blob);
  writeFileSync(id, nodeIdentity() + '\n');
  return undefined;
}

// `node scripts/build-snapshot.mjs [--quiet] [DIR]`: DIR is a dist/ directory (the package's by default).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const why = buildSnapshot(dir === undefined ? undefined : resolve(dir));
  // Not an error: arsync starts from the plain bundle without it.
  if (why && !process.argv.includes('--quiet')) console.warn(`arsync: no start-up snapshot (${why}); arsync starts without it`);
}
