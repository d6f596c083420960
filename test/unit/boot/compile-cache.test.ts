// src/boot/compile-cache.ts: a bundle run through V8's code cache gives the same module as a plain
// require; the cache is written privately, used by the next load, replaced when V8 refuses it, and never
// read from a place or a file another user could have written.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDir, runCached } from '../../../src/boot/compile-cache.js';

const LOADER = fileURLToPath(new URL('../../../src/boot/compile-cache.ts', import.meta.url));

/**
 * Loads `file` through the cache in `dir` in a fresh process (V8 also keeps compiled scripts in memory,
 * so a second load in this process would hit that instead of the cache file), saving a cache when none
 * was used. Returns whether the cache was used, and the module's `sum`.
 */
function loadFresh(file: string, dir: string): { cacheUsed: boolean; sum: number } {
  const code =
    `const { runCached } = await import(${JSON.stringify(LOADER)});` +
    `const r = runCached(${JSON.stringify(file)}, undefined, ${JSON.stringify(dir)}); r.save();` +
    'console.log(JSON.stringify({ cacheUsed: r.cacheUsed, sum: r.exports.sum }));';
  const env = { ...process.env };
  delete env['NODE_V8_COVERAGE'];
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as { cacheUsed: boolean; sum: number };
}

let root: string;
let bundle: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-cc-'));
  bundle = path.join(root, 'mod.js');
  // A CommonJS module that uses what a bundle uses: require, module.exports, __filename, import().
  fs.writeFileSync(
    bundle,
    [
      '#!/usr/bin/env node',
      "const os = require('node:os');",
      'function work(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }',
      "module.exports = { sum: work(10), file: __filename, eol: os.EOL, later: () => import('node:path').then((p) => p.sep) };",
      '',
    ].join('\n'),
  );
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const cacheFiles = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.v8'));

describe('runCached', () => {
  it('runs the module, writes a private cache, and the next load uses it', async () => {
    const dir = cacheDir({ XDG_CACHE_HOME: path.join(root, 'xdg') })!;
    expect(dir).toBe(path.join(root, 'xdg', 'arsync', 'v8'));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    // In this process: the module as a plain require would give it.
    const here = runCached(bundle, undefined, dir);
    const ex = here.exports as { sum: number; file: string; eol: string; later: () => Promise<string> };
    expect(ex).toMatchObject({ sum: 45, file: bundle, eol: '\n' });
    expect(await ex.later()).toBe('/');
    expect(here.cacheUsed).toBe(false);
    here.save();
    const [name] = cacheFiles(dir);
    expect(name).toMatch(/^mod\.js\..*\.v8$/);
    expect(fs.statSync(path.join(dir, name!)).mode & 0o777).toBe(0o600);
    expect(loadFresh(bundle, dir)).toEqual({ cacheUsed: true, sum: 45 });
  });

  it('a cache V8 refuses (damaged) is not used and is replaced', () => {
    const dir = cacheDir({ XDG_CACHE_HOME: path.join(root, 'damaged') })!;
    expect(loadFresh(bundle, dir)).toEqual({ cacheUsed: false, sum: 45 });
    const file = path.join(dir, cacheFiles(dir)[0]!);
    fs.writeFileSync(file, Buffer.from('not bytecode'));
    expect(loadFresh(bundle, dir)).toEqual({ cacheUsed: false, sum: 45 });
    expect(fs.readFileSync(file).length).toBeGreaterThan(100);
    expect(loadFresh(bundle, dir)).toEqual({ cacheUsed: true, sum: 45 });
  });

  it('a changed bundle gets a new cache file and the old one goes', () => {
    const dir = cacheDir({ XDG_CACHE_HOME: path.join(root, 'changed') })!;
    runCached(bundle, undefined, dir).save();
    const before = cacheFiles(dir);
    const other = path.join(root, 'changed-src');
    fs.mkdirSync(other);
    const copy = path.join(other, 'mod.js');
    fs.writeFileSync(copy, fs.readFileSync(bundle, 'utf8') + '\n// changed\n');
    runCached(copy, undefined, dir).save();
    const after = cacheFiles(dir);
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
  });

  it('a cache file another user owns, or others may write, is never read', () => {
    if (process.geteuid?.() !== 0) return; // chown needs root (CI runs as root)
    const dir = cacheDir({ XDG_CACHE_HOME: path.join(root, 'foreign') })!;
    loadFresh(bundle, dir);
    const file = path.join(dir, cacheFiles(dir)[0]!);
    fs.chownSync(file, 1234, 1234);
    expect(loadFresh(bundle, dir).cacheUsed).toBe(false);
    fs.rmSync(file);
    loadFresh(bundle, dir);
    fs.chmodSync(file, 0o666);
    expect(loadFresh(bundle, dir).cacheUsed).toBe(false);
  });

  it('without a private cache directory the module is simply required', () => {
    const plain = runCached(bundle, undefined, undefined);
    expect(plain.cacheUsed).toBe(false);
    expect((plain.exports as { sum: number }).sum).toBe(45);
  });
});

describe('cacheDir', () => {
  it('needs an absolute home, and is off under coverage or when asked', () => {
    expect(cacheDir({})).toBeUndefined();
    expect(cacheDir({ HOME: 'relative' })).toBeUndefined();
    expect(cacheDir({ XDG_CACHE_HOME: path.join(root, 'a'), NODE_V8_COVERAGE: '/tmp/x' })).toBeUndefined();
    expect(cacheDir({ XDG_CACHE_HOME: path.join(root, 'a'), ARSYNC_NO_COMPILE_CACHE: '1' })).toBeUndefined();
    expect(cacheDir({ HOME: path.join(root, 'home') })).toBe(path.join(root, 'home', '.cache', 'arsync', 'v8'));
  });

  it('refuses a directory others can write, another user owns, or that is a symlink', () => {
    const open = path.join(root, 'open');
    fs.mkdirSync(path.join(open, 'arsync', 'v8'), { recursive: true });
    fs.chmodSync(path.join(open, 'arsync', 'v8'), 0o777);
    expect(cacheDir({ XDG_CACHE_HOME: open })).toBeUndefined();
    const linked = path.join(root, 'linked');
    fs.mkdirSync(path.join(linked, 'arsync'), { recursive: true });
    const target = fs.mkdtempSync(path.join(root, 'target-'));
    fs.symlinkSync(target, path.join(linked, 'arsync', 'v8'));
    expect(cacheDir({ XDG_CACHE_HOME: linked })).toBeUndefined();
    if (process.geteuid?.() === 0) {
      const foreign = path.join(root, 'foreign-dir');
      fs.mkdirSync(path.join(foreign, 'arsync', 'v8'), { recursive: true, mode: 0o700 });
      fs.chownSync(path.join(foreign, 'arsync', 'v8'), 1234, 1234);
      expect(cacheDir({ XDG_CACHE_HOME: foreign })).toBeUndefined();
    }
  });
});
