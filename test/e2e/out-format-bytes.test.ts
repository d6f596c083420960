// --out-format's %b against rsync 3.5 on the same trees, on every engine: what rsync's protocol stream
// carries per transferred file (run/wire-bytes.ts) — its data, the index, item flags, checksum header,
// token lengths and end, and the transfer checksum; 0 for everything not transferred and for a dry run.
// Sizes around a 32 KiB token piece, --checksum-choice's lengths, --protocol=29/30, --append's tail,
// --no-whole-file's delta tokens against a basis, -H, and the same figure in --log-file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { bytes, differential, freshSetup, put, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

const fmt = "--out-format=%i %n %b %'b";

/** Files around rsync's 32 KiB token piece, an empty one, and a hard-linked pair. */
function sizesSetup(root: string): void {
  freshSetup(root);
  const src = path.join(root, 'src');
  put(src, 'z/empty', '');
  put(src, 'z/one', 'x');
  [32767, 32768, 32769, 100_000, 1 << 20].forEach((n, i) => put(src, `z/k${n}`, bytes(n, 10 + i)));
  fs.linkSync(path.join(src, 'z/one'), path.join(src, 'z/one-link'));
}

/** A synced tree whose big files changed in a few places (a delta finds matches) or lost their tails. */
function changedSetup(root: string): void {
  sizesSetup(root);
  const src = path.join(root, 'src');
  fs.cpSync(src, path.join(root, 'dst'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  const dst = path.join(root, 'dst');
  const big = path.join(dst, `z/k${1 << 20}`);
  const fd = fs.openSync(big, 'r+');
  fs.writeSync(fd, Buffer.alloc(10), 0, 10, 500_000);
  fs.closeSync(fd);
  fs.truncateSync(path.join(dst, 'z/k100000'), 40_000);
  fs.truncateSync(path.join(dst, 'z/k32769'), 100);
  for (const f of [`z/k${1 << 20}`, 'z/k100000', 'z/k32769']) fs.utimesSync(path.join(dst, f), 1_000_000_000, 1_000_000_000);
}

describeEngines((e) => {
  const engine = e.name;

  it('%b of a fresh copy, an update and a dry run: rsync\'s stream bytes per file, 0 when nothing is sent', async () => {
    await differential({ engine, setup: sizesSetup, args: ['-aH', fmt, 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-a', fmt, 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-aii', fmt, 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: sizesSetup, args: ['-an', fmt, 'src/', 'dst/'], noItemize: true });
  });

  it('%b with --checksum-choice\'s transfer checksums and older protocols', async () => {
    for (const cc of ['--cc=md5', '--cc=xxh64', '--cc=xxh3,md5', '--cc=sha1', '--cc=none']) {
      await differential({ engine, setup: sizesSetup, args: ['-a', cc, fmt, 'src/', 'dst/'], noItemize: true });
    }
    await differential({ engine, setup: sizesSetup, args: ['-a', '-c', '--cc=xxh64,md5', fmt, 'src/', 'dst/'], noItemize: true });
    for (const p of ['--protocol=29', '--protocol=30']) await differential({ engine, setup: sizesSetup, args: ['-a', p, fmt, 'src/', 'dst/'], noItemize: true });
  });

  it('%b of --append (the tail only) and of --no-whole-file (the delta\'s tokens), in the log file too', async () => {
    await differential({ engine, setup: changedSetup, args: ['-a', '--append', fmt, 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: changedSetup, args: ['-a', '--no-whole-file', fmt, 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: changedSetup, args: ['-a', '--no-whole-file', '--inplace', fmt, 'src/', 'dst/'], noItemize: true });
    const logs = tempDir('arsync-bytes-logs-');
    const args = (log: string): string[] => ['-a', '--no-whole-file', fmt, `--log-file=${path.join(logs, log)}`, '--log-file-format=%n %b', 'src/', 'dst/'];
    const r = await differential({ engine, setup: changedSetup, args: args('B'), rsyncArgs: args('A'), noItemize: true });
    const lines = (root: string): string[] => fs.readFileSync(path.join(logs, path.basename(root)), 'latin1').split('\n').map((l) => l.replace(/^\S+ \S+ \[\d+\] /, '')).filter((l) => /^z\/\S+ \d+$/.test(l)).sort();
    expect(lines(r.B)).toEqual(lines(r.A));
    expect(lines(r.B)).toContain(`z/k${1 << 20} 5159`);
  });
});
