// The package's prebuilt addons and the loader that picks one: a package laid out as npm installs it
// (dist/, package.json, prebuilds/<platform>-<arch>/arsync.node, maybe build/Release) runs the prebuilt
// for this platform, falls back to the build from source when the prebuilt does not load or speaks
// another ABI, then to the node engine with a reason that names what failed; ARSYNC_ADDON=none still
// wins; the install script skips the build from source when the prebuilt loads. The tests are about
// which addon runs, not about an engine's behaviour (the other e2e files cover that), so they are not
// repeated per engine.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDON, LOCK, REPO, requireBuilt } from '../helpers/cli.js';
import { expectExactCopy } from '../helpers/e2e.js';
import { isRoot, makeTree, removeTemps, tempDir } from '../helpers/tree.js';

const TAG = `${process.platform}-${process.arch}`;
const haveCc = spawnSync('gcc', ['--version']).status === 0;
const skip =
  process.platform !== 'linux'
    ? 'prebuilts are Linux only'
    : !fs.existsSync(ADDON)
      ? 'the addon is not built from source (build/Release), which the fall-back cases need'
      : !haveCc
        ? 'no C compiler to build the prebuilt'
        : null;

let base: string;
let src: string;
let prebuilt: string;
let n = 0;

/** A fresh installed-package layout: what `npm install` leaves, without the parts each test varies. */
function makePackage(o: { prebuilt?: string | Buffer; build?: boolean }): string {
  const pkg = path.join(base, `pkg${++n}`);
  fs.mkdirSync(path.join(pkg, 'dist'), { recursive: true });
  // package.json's `files`: the bundles and dist/package.json, which makes them CommonJS.
  for (const f of fs.readdirSync(path.join(REPO, 'dist')).filter((f) => f.endsWith('.js') || f === 'package.json')) {
    fs.copyFileSync(path.join(REPO, 'dist', f), path.join(pkg, 'dist', f));
  }
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(pkg, 'package.json'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(pkg, 'node_modules'));
  fs.mkdirSync(path.join(pkg, 'scripts'));
  fs.copyFileSync(path.join(REPO, 'scripts', 'build-native.mjs'), path.join(pkg, 'scripts', 'build-native.mjs'));
  if (o.prebuilt !== undefined) {
    fs.mkdirSync(path.join(pkg, 'prebuilds', TAG), { recursive: true });
    const to = path.join(pkg, 'prebuilds', TAG, 'arsync.node');
    if (typeof o.prebuilt === 'string') fs.copyFileSync(o.prebuilt, to);
    else fs.writeFileSync(to, o.prebuilt);
  }
  if (o.build) {
    fs.mkdirSync(path.join(pkg, 'build', 'Release'), { recursive: true });
    fs.copyFileSync(ADDON, path.join(pkg, 'build', 'Release', 'arsync.node'));
  }
  return pkg;
}

/** Run that package's CLI (under the shared uring lock, like runCli). */
function arsync(pkg: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('ARSYNC_ADDON' in env)) delete e.ARSYNC_ADDON;
  const r = spawnSync('flock', ['-s', LOCK, process.execPath, path.join(pkg, 'dist', 'bin.js'), ...args], { env: e, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, show: `exit ${r.status}\n${r.stdout}\n${r.stderr}` };
}

const engineLine = (out: string) => out.split('\n').find((l) => l.startsWith('engine: ')) ?? '';

beforeAll(() => {
  if (skip) return;
  requireBuilt();
  base = tempDir('arsync-prebuilt-');
  src = path.join(base, 'src');
  makeTree(src, { seed: 10, files: 40, owners: isRoot });
  const r = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'prebuild.mjs'), `--out=${path.join(base, 'prebuilds')}`, TAG], { encoding: 'utf8' });
  expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  prebuilt = path.join(base, 'prebuilds', TAG, 'arsync.node');
});
afterAll(() => removeTemps());

describe.skipIf(skip !== null)('prebuilt addon', () => {
  it('does not need liburing.so: liburing is linked into it', () => {
    const r = spawnSync('readelf', ['-d', prebuilt], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/NEEDED/);
    expect(r.stdout).not.toMatch(/liburing/);
  });

  it('a package with only the prebuilt runs it: the uring engine, -aHAX copies exactly', () => {
    const pkg = makePackage({ prebuilt });
    const dst = path.join(base, 'dst-prebuilt');
    const r = arsync(pkg, ['-aHAXv', '--debug=proto', '--engine=uring', `${src}/`, `${dst}/`]);
    expect(r.code, r.show).toBe(0);
    expect(engineLine(r.stdout), r.show).toMatch(/^engine: uring \(.*; prebuilt addon\)$/);
    expectExactCopy(src, dst, 'uring');
  });

  it('the prebuilt wins over a build from source in the same package', () => {
    const pkg = makePackage({ prebuilt, build: true });
    const r = arsync(pkg, ['-av', '--debug=proto', '--engine=sync', `${src}/`, `${base}/dst-both/`]);
    expect(r.code, r.show).toBe(0);
    expect(engineLine(r.stdout), r.show).toMatch(/prebuilt addon\)$/);
  });

  it('a prebuilt that does not load falls back to the build from source, quietly without -v', () => {
    const pkg = makePackage({ prebuilt: Buffer.from('not an ELF file\n'), build: true });
    const dst = path.join(base, 'dst-fallback-build');
    const v = arsync(pkg, ['-aHAXv', '--debug=proto', '--engine=uring', `${src}/`, `${dst}/`]);
    expect(v.code, v.show).toBe(0);
    expect(engineLine(v.stdout), v.show).toMatch(/^engine: uring \(.*; addon built from source\)$/);
    expectExactCopy(src, dst, 'uring');
    const q = arsync(pkg, ['-aHAX', `${src}/`, `${base}/dst-quiet/`]);
    expect(q.code, q.show).toBe(0);
    expect(q.stdout + q.stderr).toBe('');
  });

  it('a prebuilt with another ABI is refused, and the reason says so', () => {
    // A stale addon: loads fine, but abi() answers a number this arsync does not speak.
    const c = path.join(base, 'stale.c');
    fs.writeFileSync(
      c,
      `#include <node_api.h>
static napi_value abi(napi_env env, napi_callback_info info) {
  (void)info; napi_value o, v; napi_create_object(env, &o); napi_create_int32(env, 999, &v);
  napi_set_named_property(env, o, "abi", v); return o; }
static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor d = {"abi", NULL, abi, NULL, NULL, NULL, napi_enumerable, NULL};
  napi_define_properties(env, exports, 1, &d); return exports; }
NAPI_MODULE(stale, init)
`,
    );
    const so = path.join(base, 'stale.node');
    const headers = path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node');
    const cc = spawnSync('gcc', ['-shared', '-fPIC', '-I', headers, c, '-o', so], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const pkg = makePackage({ prebuilt: so });
    const dst = path.join(base, 'dst-stale');
    const r = arsync(pkg, ['-aHv', '--debug=proto', `${src}/`, `${dst}/`]);
    expect(r.code, r.show).toBe(0);
    const line = engineLine(r.stdout);
    expect(line, r.show).toMatch(/^engine: node \(/);
    expect(line).toMatch(/prebuilt addon .* has ABI 999, this arsync needs \d+/);
    expect(line).toMatch(/no build from source/);
    expectExactCopy(src, dst, 'node');
  });

  it('no addon at all: the node engine, and -v names the platform that has no prebuilt', () => {
    const pkg = makePackage({});
    const r = arsync(pkg, ['-aHv', '--debug=proto', `${src}/`, `${base}/dst-none/`]);
    expect(r.code, r.show).toBe(0);
    expect(engineLine(r.stdout), r.show).toContain(`engine: node (native addon not loaded (no prebuilt for ${TAG} and no build in`);
    const x = arsync(pkg, ['-aX', `${src}/`, `${base}/dst-none-x/`]);
    expect(x.code, x.show).toBe(1);
    expect(x.stderr).toMatch(/native addon/);
  });

  it('ARSYNC_ADDON=none wins over a loadable prebuilt', () => {
    const pkg = makePackage({ prebuilt });
    const r = arsync(pkg, ['-av', '--debug=proto', `${src}/`, `${base}/dst-env-none/`], { ARSYNC_ADDON: 'none' });
    expect(r.code, r.show).toBe(0);
    expect(engineLine(r.stdout), r.show).toMatch(/^engine: node \(native addon switched off with ARSYNC_ADDON=none; /);
  });

  it('the install script skips the build from source when the prebuilt loads', () => {
    const pkg = makePackage({ prebuilt });
    const r = spawnSync(process.execPath, [path.join(pkg, 'scripts', 'build-native.mjs')], { cwd: pkg, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('using the prebuilt native addon');
    expect(r.stderr).toBe('');
    expect(fs.existsSync(path.join(pkg, 'build'))).toBe(false);
  });
});
