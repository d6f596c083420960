// The tree the remote progress tests (push and pull) copy: two files with data (one spanning several
// 32 KiB pieces, so more than one progress line), an empty one, a symlink, a directory; times fixed by
// `seed`, so a second tree with another seed is an older version of every file.

import * as fs from 'node:fs';
import * as path from 'node:path';

export function makeProgressTree(at: string, seed: number): void {
  fs.mkdirSync(path.join(at, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(at, 'a'), Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919 + (i >> 9) * 131 + seed) & 0xff)));
  fs.writeFileSync(path.join(at, 'sub', 'b'), `b${seed}\n`);
  fs.writeFileSync(path.join(at, 'empty'), '');
  fs.symlinkSync('a', path.join(at, 'l'));
  for (const rel of ['a', 'sub/b', 'empty', 'l', 'sub', '']) fs.lutimesSync(path.join(at, rel), 1_500_000_000 + seed, 1_500_000_000 + seed);
}
