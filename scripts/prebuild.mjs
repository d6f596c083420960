#!/usr/bin/env node
// Builds the prebuilt addons shipped in the npm package: prebuilds/<platform>-<arch>/arsync.node (the
// layout of prebuildify/node-gyp-build), liburing linked statically so a machine without liburing.so.2
// still gets every engine. Run by `npm pack`/`npm publish` (prepack); fails when a target cannot be built,
// because a package without its prebuilts would silently fall back to a build from source.
//
//   node scripts/prebuild.mjs              all targets (linux-x64, linux-arm64)
//   node scripts/prebuild.mjs linux-x64    just the named ones
//   --out=DIR                              write DIR/<target>/arsync.node instead (tests use it)
//
// One compiler call per target, not node-gyp: the addon is a handful of C files, N-API needs no Node
// library to link against, and node-gyp cannot pick a cross compiler per target. Sources, defines and
// C flags are read from binding.gyp so the from-source build and the prebuilts cannot drift.
// Needs (Debian): gcc, gcc-aarch64-linux-gnu, liburing-dev and liburing-dev:arm64 (dpkg --add-architecture arm64).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Each target's compiler. The glibc floor is the build machine's glibc (Debian 12: 2.36). */
const TARGETS = {
  'linux-x64': { cc: 'x86_64-linux-gnu-gcc', fallbackCc: process.arch === 'x64' ? 'gcc' : undefined },
  'linux-arm64': { cc: 'aarch64-linux-gnu-gcc', fallbackCc: process.arch === 'arm64' ? 'gcc' : undefined },
};

function fail(msg) {
  console.error(`prebuild: ${msg}`);
  process.exit(1);
}

/** binding.gyp is a Python literal; without its # comments it is JSON. */
function readGyp() {
  const text = readFileSync(join(root, 'binding.gyp'), 'utf8')
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  const target = JSON.parse(text).targets.find((t) => t.target_name === 'arsync');
  if (!target) fail('binding.gyp has no "arsync" target');
  return target;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8' });
  if (r.error) return { ok: false, out: r.error.message };
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

function haveCc(cc) {
  return cc !== undefined && run(cc, ['--version']).ok;
}

/** Node's own headers (node_api.h is the same on every architecture). */
function nodeHeaders() {
  const dir = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (!existsSync(join(dir, 'node_api.h'))) fail(`node_api.h not found in ${dir}`);
  return dir;
}

function build(name, gyp, headers, outRoot) {
  const t = TARGETS[name];
  if (!t) fail(`unknown target ${name} (known: ${Object.keys(TARGETS).join(', ')})`);
  const cc = [t.cc, t.fallbackCc].find(haveCc);
  if (!cc) fail(`${name}: no compiler (${t.cc}); on Debian: apt-get install gcc-${name === 'linux-arm64' ? 'aarch64' : 'x86-64'}-linux-gnu`);
  const lib = run(cc, ['-print-file-name=liburing.a']).out;
  if (!lib.startsWith('/') || !existsSync(lib)) fail(`${name}: ${cc} finds no liburing.a (install liburing-dev for that architecture)`);
  const outDir = join(outRoot, name);
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, 'arsync.node');
  rmSync(out, { force: true });
  const args = [
    ...gyp.defines.map((d) => `-D${d}`),
    `-DNODE_GYP_MODULE_NAME=${gyp.target_name}`,
    ...gyp.cflags_c,
    '-fPIC',
    '-I',
    headers,
    ...gyp.sources,
    '-shared',
    '-pthread',
    // liburing's own symbols stay private to the addon; strip debug info from the shipped file.
    lib,
    '-Wl,--exclude-libs,ALL',
    '-s',
    '-o',
    out,
  ];
  const r = run(cc, args);
  if (!r.ok) fail(`${name}: ${cc} failed:\n${r.out}`);
  if (r.out) console.warn(r.out);
  // A dynamic liburing dependency would defeat the point of shipping a prebuilt.
  const dyn = run('readelf', ['-d', out]);
  if (dyn.ok && /liburing/.test(dyn.out)) fail(`${name}: ${out} still needs liburing.so`);
  console.log(`prebuild: ${name} -> ${out} (${cc})`);
}

const gyp = readGyp();
const headers = nodeHeaders();
const args = process.argv.slice(2);
const outArg = args.find((a) => a.startsWith('--out='));
const outRoot = outArg ? resolve(outArg.slice('--out='.length)) : join(root, 'prebuilds');
const wanted = args.filter((a) => !a.startsWith('--'));
for (const name of wanted.length > 0 ? wanted : Object.keys(TARGETS)) build(name, gyp, headers, outRoot);
