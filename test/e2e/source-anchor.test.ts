// The source operand is resolved once per engine context (native/source.c anchor_fd), not once per file:
// a re-sync whose changed files each sit in another directory opens each file's directory beneath the
// held operand. Checked under strace (the operand's own open counted against the files copied), with the
// copy exact on every engine; and a second operand in the same run is resolved on its own.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';
import { BIN } from '../helpers/cli.js';

afterAll(() => removeTemps());

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const DIRS = 40;

/** root/src: DIRS directories of one file each, plus a file at the top; copied to root/dst, then every file changed. */
function scattered(root: string): { src: string; dst: string } {
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  for (let i = 0; i < DIRS; i++) {
    fs.mkdirSync(path.join(src, `d${i}`, 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(src, `d${i}`, 'deeper', `f${i}`), `first ${i}\n`);
  }
  fs.writeFileSync(path.join(src, 'top'), 'first\n');
  return { src, dst };
}

function changeAll(src: string): void {
  const later = new Date(Date.now() + 5_000);
  for (let i = 0; i < DIRS; i++) {
    const f = path.join(src, `d${i}`, 'deeper', `f${i}`);
    fs.writeFileSync(f, `second, longer ${i}\n`);
    fs.utimesSync(f, later, later);
  }
}

/** arsync under strace, with the opens it (and its threads) made. */
function tracedRun(engine: string, args: string[]): { code: number | null; stderr: string; opens: string[] } {
  const log = path.join(tempDir('arsync-anchor-strace-'), 'log');
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=open,openat,openat2', '-o', log, process.execPath, BIN, `--engine=${engine}`, ...args], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr, opens: fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('(')) };
}

/** The opens of `dir` itself by its absolute name (the operand's resolution). */
const opensOf = (opens: string[], dir: string): string[] => opens.filter((l) => l.includes(`"${dir}"`) || l.includes(`"${dir}/"`));

describeEngines((e) => {
  it.skipIf(!hasStrace)('a re-sync of files in many directories resolves the operand once per context, not per file', () => {
    const root = tempDir('arsync-anchor-');
    const { src, dst } = scattered(root);
    const first = spawnSync(process.execPath, [BIN, `--engine=${e.name}`, '-a', `${src}/`, `${dst}/`], { encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    changeAll(src);
    // Two workers: the contexts a run may open (and so the operand's opens) grow with --workers.
    const t = tracedRun(e.name, ['-a', '--workers=2', `${src}/`, `${dst}/`]);
    expect(t.code, t.stderr).toBe(0);
    expectExactCopy(src, dst, e.name);
    if (e.name === 'node') return; // Node's fs resolves each path itself: no native context holds anything
    // One open per context that ran ops (the main thread's, lent threads', workers'): a handful, where
    // resolving per file would take one for each of the DIRS files.
    const own = opensOf(t.opens, src);
    expect(own.length, own.join('\n')).toBeGreaterThan(0);
    expect(own.length, own.join('\n')).toBeLessThan(DIRS / 4);
  });

  it('two operands in one run: each file read beneath its own operand', () => {
    const root = tempDir('arsync-anchor2-');
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    for (const [dir, tag] of [
      [a, 'A'],
      [b, 'B'],
    ] as const) {
      for (let i = 0; i < 6; i++) {
        fs.mkdirSync(path.join(dir, `s${i}`), { recursive: true });
        fs.writeFileSync(path.join(dir, `s${i}`, 'same-name'), `${tag}${i}\n`);
      }
    }
    const dst = path.join(root, 'dst');
    const r = spawnSync(process.execPath, [BIN, `--engine=${e.name}`, '-a', `${a}`, `${b}`, `${dst}/`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    for (let i = 0; i < 6; i++) {
      expect(fs.readFileSync(path.join(dst, 'a', `s${i}`, 'same-name'), 'utf8')).toBe(`A${i}\n`);
      expect(fs.readFileSync(path.join(dst, 'b', `s${i}`, 'same-name'), 'utf8')).toBe(`B${i}\n`);
    }
    expectExactCopy(a, path.join(dst, 'a'), e.name);
    expectExactCopy(b, path.join(dst, 'b'), e.name);
  });
});
