#!/usr/bin/env node
// Builds the native addon (build/Release/arsync.node) with node-gyp. Run by `npm install`/`npm ci`
// as the package's install script, so it must never fail the install: without the addon arsync
// uses its pure-Node `node` engine. `--strict` (npm run build) turns a failed build into exit 1.
// Headers come from the running Node's own installation when present, so nothing is downloaded.
// An installed package carries prebuilt addons (prebuilds/, scripts/prebuild.mjs): when the one for this
// platform loads, there is nothing to build, and a machine without a compiler installs silently.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');

function giveUp(reason) {
  const msg =
    `arsync: the native addon was not built (${reason}). arsync still works: it will use its ` +
    `pure-Node 'node' engine, which is slower and has no io_uring. To get the fast engines, install ` +
    `a C compiler, make, python3 and liburing (on Debian/Ubuntu: apt-get install build-essential ` +
    `python3 liburing-dev), then run 'npm rebuild arsync' (or 'npm run build' in a checkout).`;
  console.warn(`\nwarning: ${msg}\n`);
  process.exit(strict ? 1 : 0);
}

/** The loaded prebuilt's path, asked of the CLI's own loader (dist/addon-check.js), or null. */
function loadablePrebuilt() {
  const check = join(root, 'dist', 'addon-check.js');
  if (strict || !existsSync(check)) return null;
  const env = { ...process.env };
  delete env.ARSYNC_ADDON;
  const r = spawnSync(process.execPath, [check], { cwd: root, env, encoding: 'utf8' });
  try {
    const s = JSON.parse(r.stdout);
    return s.ok && s.kind === 'prebuilt addon' ? s.path : null;
  } catch {
    return null;
  }
}

const prebuilt = loadablePrebuilt();
if (prebuilt) {
  console.log(`arsync: using the prebuilt native addon (${prebuilt}); nothing to build`);
  process.exit(0);
}

if (process.platform !== 'linux') giveUp(`io_uring needs Linux, this is ${process.platform}`);

const uringHeaders = ['/usr/include/liburing.h', '/usr/local/include/liburing.h'];
if (!uringHeaders.some((p) => existsSync(p))) {
  giveUp('liburing.h was not found; install it with: apt-get install liburing-dev');
}

// The transfer checksums (native/checksum.c) inline xxhash from its header; there is nothing to link.
if (!['/usr/include/xxhash.h', '/usr/local/include/xxhash.h'].some((p) => existsSync(p))) {
  giveUp('xxhash.h was not found; install it with: apt-get install libxxhash-dev');
}

function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const local = join(root, 'node_modules', '.bin', 'node-gyp');
  if (existsSync(local)) return [local];
  return ['node-gyp'];
}

const args = ['rebuild', '--jobs=1'];
// Use the headers of the Node that runs us (Debian's nodejs ships them in /usr/include/node).
const nodeDir = dirname(dirname(process.execPath));
if (existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodeDir}`);

const [cmd, ...pre] = findNodeGyp();
const res = spawnSync(cmd, [...pre, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
if (res.error || res.status !== 0) {
  const out = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n');
  // The compiler's own words matter most when asking for help: show the tail of the log.
  if (out.length > 1) console.warn(out.slice(-25).join('\n'));
  giveUp(res.error ? `could not run node-gyp: ${res.error.message}` : `node-gyp exited with ${res.status}`);
}
console.log('arsync: native addon built (build/Release/arsync.node)');
