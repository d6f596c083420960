// The names rsync's sender prints for operands spelled in ways that change them, against rsync 3.5 on
// every engine: "." is "./" (its entries named without "./"), -R of an absolute path keeps the leading
// "/" in -v, -i and %n (the destination has none; deletions, named by rsync's generator, neither), and
// %f is the source path as rsync's sender cleaned it (no leading slash, no "." components, "dir/." for
// a "dir/" operand's own entry); a deletion is printed in the format only when it has %i or %o, else as
// "deleting NAME". Each tool runs on its own copy of one tree, from the directory the
// operands are relative to; stdout is compared line for line, the rate lines and the destination's name
// aside.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { put, touchNs } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** A tree under `root/w/src`; returns the work directory. */
function tree(root: string): string {
  put(root, 'w/src/a/f', 'f\n', 0o644);
  put(root, 'w/src/g', 'g\n', 0o644);
  touchNs([[path.join(root, 'w/src/a/f'), '1700000000.5'], [path.join(root, 'w/src/g'), '1700000000.5'], [path.join(root, 'w/src/a'), '1700000000.5'], [path.join(root, 'w/src'), '1700000000.5']]);
  return path.join(root, 'w');
}

/** stdout without what depends on the run (the rate, the speedup), the destination and the copy's own path. */
const comparable = (out: string, dest: string, base: string): string[] =>
  out
    .split('\n')
    .filter((l) => !/bytes\/sec$|speedup is/.test(l))
    .map((l) => l.split(dest).join('DEST').split(base.slice(1)).join('BASE'));

describeEngines((e) => {
  const engine = e.name;

  /** rsync and arsync with `args` (the destination last), each on its own copy, from `cwd(copy)`. */
  async function same(args: (base: string) => string[], cwd: (base: string) => string, change?: (base: string) => void): Promise<void> {
    const bases = [tempDir('arsync-names-r-'), tempDir('arsync-names-a-')];
    for (const b of bases) tree(b);
    const outs: string[][] = [];
    for (const [i, b] of bases.entries()) {
      const dest = path.join(b, 'dst');
      const run = async (): Promise<string> => {
        const argv = [...args(b), `${dest}/`];
        if (i === 0) {
          const r = spawnSync('rsync', argv, { cwd: cwd(b), encoding: 'utf8' });
          expect(r.status, r.stderr).toBe(0);
          return r.stdout;
        }
        const r = await runCli([`--engine=${engine}`, ...argv], { cwd: cwd(b) });
        expect(r.code, r.stderr).toBe(0);
        return r.stdout;
      };
      let out = await run();
      if (change) {
        change(b);
        out += await run();
      }
      outs.push(comparable(out, dest, b));
    }
    expect(outs[1]).toEqual(outs[0]);
  }

  it('"." is "./": its entries are named without "./", and a re-sync deletes in it', async () => {
    const extra = (b: string): void => {
      fs.writeFileSync(path.join(b, 'dst/old'), 'x');
      touchNs([[path.join(b, 'dst'), '1700000000.5']]);
    };
    for (const opts of [['-av'], ['-ai'], ['-a', '--out-format=%n|%f']]) {
      await same(() => [...opts, '--delete', '.'], (b) => path.join(b, 'w/src'), extra);
    }
  });

  it('-R of an absolute path: the sender\'s names start with "/", the deletions\' do not', async () => {
    const extra = (b: string): void => {
      const inner = path.join(b, 'dst', path.join(b, 'w/src/a').slice(1));
      fs.writeFileSync(path.join(inner, 'old'), 'x');
      fs.appendFileSync(path.join(b, 'w/src/a/f'), 'more\n');
    };
    // -O: the implied directories are the machine's own (/dev/shm, /tmp), whose times other processes move.
    for (const opts of [['-aRvO'], ['-aRiO'], ['-aRO', '--out-format=%n|%f']]) {
      await same((b) => [...opts, '--delete', path.join(b, 'w/src/a')], (b) => b, extra);
    }
  });

  it('%f: the cleaned source path, without a leading slash; "dir/." for a "dir/" operand', async () => {
    const operands = (b: string): string[][] => [[path.join(b, 'w/src/a/f')], ['./src//a'], ['src/'], ['src/.'], [path.join(b, 'w/./src/a')]];
    for (let k = 0; k < 5; k++) {
      await same((b) => ['-a', '--out-format=%n|%f', ...operands(b)[k]!], (b) => path.join(b, 'w'));
      await same((b) => ['-aR', '--out-format=%n|%f', ...operands(b)[k]!], (b) => path.join(b, 'w'));
    }
  });
});
