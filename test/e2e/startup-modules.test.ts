// What a plain local copy loads at start-up: none of Node's modules that only remote runs, -z or the
// user database need (each costs CPU at every start, docs/benchmarks.md "Small jobs, session 11"), and
// the start-up edits scripts/bundle.mjs makes to the bundle are in it (an edit that stops matching a
// new commander or esbuild only warns at build time).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeSmallTree, removeTemps, tempDir } from '../helpers/tree.js';
import { BIN, runCli, show } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';

let base: string;
let src: string;
let preload: string;

beforeAll(() => {
  base = tempDir('arsync-startup-');
  src = path.join(base, 'src');
  makeSmallTree(src);
  // Loaded by NODE_OPTIONS before the CLI: at exit, the builtins the process loaded, one a line.
  preload = path.join(base, 'modules.cjs');
  fs.writeFileSync(
    preload,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.ARSYNC_TEST_MODULES, process.moduleLoadList.join('\\n')));\n",
  );
});
afterAll(() => removeTemps());

/** Builtins a local copy must not load (they are loaded on first use, by the runs that use them). */
const NOT_LOADED = ['zlib', 'child_process', 'crypto', 'worker_threads'];

describeEngines((e) => {
  it('arsync -a src/ dst/ copies the tree without loading zlib, child_process, crypto or worker_threads', async () => {
    const dst = path.join(base, `dst-${e.name}`);
    const list = path.join(base, `modules-${e.name}.txt`);
    const r = await runCli(['-a', `--engine=${e.name}`, `${src}/`, `${dst}/`], {
      env: { NODE_OPTIONS: `--require ${preload}`, ARSYNC_TEST_MODULES: list },
    });
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(src, dst, e.name);
    const loaded = fs.readFileSync(list, 'utf8').split('\n');
    // The list's own shape, so that an empty or renamed list cannot pass for a clean start.
    expect(loaded).toContain('NativeModule fs');
    for (const name of NOT_LOADED) expect(loaded, name).not.toContain(`NativeModule ${name}`);
  });
});

it("the bundle carries its start-up edits: shared builtin namespaces, commander's flag index and names", () => {
  const text = fs.readFileSync(BIN, 'utf8');
  expect(text).toContain('__arsyncBuiltin("node:fs", 1)');
  expect(text).not.toMatch(/__toESM\(require\("node:/);
  expect(text).toContain('this._arsyncFlagIndex?.get(arg)');
  expect(text).toContain('this._arsyncAttributeName ??=');
  expect(text).not.toMatch(/^\s*const childProcess = require\("node:child_process"\);/m);
});
