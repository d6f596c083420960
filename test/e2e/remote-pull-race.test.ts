// A pull's file the destination already had, changed there after the pull's check and before the local
// half reached it: rsync's generator judged it current when it checked it, asked for nothing, and leaves
// it as it now is (no line, exit 0). arsync said "file has vanished" naming its own staging path (exit
// 24), as the local half found no staged data to copy. The race made for real: a second file is pulled
// slowly (--bwlimit) and the destination's twin is rewritten while its data comes, once each tool has
// made its check (rsync: its temp file appears; arsync: the staged file appears in its staging tree,
// which TMPDIR puts beside the work root). Differential against rsync 3.5 as the client on every engine:
// exit code, stdout and stderr line for line, and the destination's file as the rewrite left it.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { startCli, type CliResult } from '../helpers/cli.js';
import { clone, pairContext, expectSameOutput, startingState } from '../helpers/differential.js';
import { removeTemps } from '../helpers/tree.js';

afterAll(() => removeTemps());

function setup(root: string): void {
  fs.mkdirSync(path.join(root, 'src'));
  fs.mkdirSync(path.join(root, 'dst'));
  fs.mkdirSync(path.join(root, 'tmp'));
  fs.writeFileSync(path.join(root, 'src/big'), Buffer.alloc(300_000, 5));
  fs.writeFileSync(path.join(root, 'src/keep'), 'as listed\n');
  fs.utimesSync(path.join(root, 'src/keep'), 1_500_000_000, 1_500_000_000);
  fs.copyFileSync(path.join(root, 'src/keep'), path.join(root, 'dst/keep'));
  fs.utimesSync(path.join(root, 'dst/keep'), 1_500_000_000, 1_500_000_000);
  fs.writeFileSync(path.join(root, 'rsh'), '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
}

/** Any name under `dir` (recursively) that `match` accepts. */
function found(dir: string, match: (name: string) => boolean): boolean {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (match(e.name)) return true;
    if (e.isDirectory() && found(path.join(dir, e.name), match)) return true;
  }
  return false;
}

/** Rewrites root/dst/keep once `ready` says the tool has made its check, while `done` is pending. */
async function rewriteWhen(root: string, ready: () => boolean, done: Promise<unknown>): Promise<boolean> {
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    if (ready()) {
      fs.writeFileSync(path.join(root, 'dst/keep'), 'rewritten meanwhile, longer\n');
      fs.utimesSync(path.join(root, 'dst/keep'), 1_400_000_000, 1_400_000_000);
      return true;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

const ARGS = ['-e', './rsh', '-ai', '--bwlimit=100', 'h:src/', 'dst/'];

describeEngines((e) => {
  it('a file changed after the pull\'s check is left as it is, as rsync\'s generator leaves it', async () => {
    const state = startingState(`arsync-rpullrace-${e.name}-`, setup);
    const A = path.join(state.base, 'A');
    const B = path.join(state.base, 'B');
    clone(state.O, A);
    clone(state.O, B);
    const rsync = new Promise<CliResult>((resolve) => {
      const child = spawn('rsync', ['--no-i-r', ...ARGS], { cwd: A });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, argv: ['rsync', ...ARGS] }));
    });
    expect(await rewriteWhen(A, () => found(path.join(A, 'dst'), (n) => n.startsWith('.big.')), rsync)).toBe(true);
    const running = startCli([`--engine=${e.name}`, ...ARGS], { cwd: B, env: { TMPDIR: path.join(B, 'tmp') } });
    expect(await rewriteWhen(B, () => found(path.join(B, 'tmp'), (n) => n === 'big'), running.done)).toBe(true);
    const r = { A, B, rsync: await rsync, arsync: await running.done };
    expectSameOutput(r);
    for (const root of [A, B]) expect(fs.readFileSync(path.join(root, 'dst/keep'), 'utf8'), pairContext(r)).toBe('rewritten meanwhile, longer\n');
    expect(fs.statSync(path.join(B, 'dst/keep')).mtimeMs).toBe(1_400_000_000_000);
  });
});
