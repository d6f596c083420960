// Non-ASCII names in -v output, with and without -8, in the locales rsync reads (LC_ALL, LC_CTYPE, LANG):
// in a UTF-8 locale valid UTF-8 is printed and other high bytes are \#ooo; in the C locale (or one not
// installed) every high byte is \#ooo; -8 prints them all as they are. Compared line for line with rsync.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { BIN, LOCK, requireBuilt } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';

afterAll(() => removeTemps());

/** The names of the -v listing (rsync's and arsync's first lines differ: the engine line). */
const names = (out: string): string[] =>
  out
    .split('\n')
    .filter((l) => l !== '' && !/^(engine:|sending |created directory|sent |total size)/.test(l));

describeEngines((e) => {
  for (const locale of ['C', 'C.UTF-8', 'en_ZZ.UTF-8']) {
    for (const eight of [[], ['-8']]) {
      it(`LC_ALL=${locale} ${eight.join(' ')}: names printed as rsync prints them`, () => {
        requireBuilt();
        const root = tempDir('arsync-8bit-');
        const src = path.join(root, 'src');
        fs.mkdirSync(src);
        for (const n of [Buffer.from('café'), Buffer.from('日本'), Buffer.from('bad\xff', 'latin1'), Buffer.from('tab\tname')]) {
          fs.writeFileSync(Buffer.concat([Buffer.from(src + '/'), n]), 'x');
        }
        const env = { LC_ALL: locale };
        // Run as runCli does (under the shared uring lock), but keeping stdout's bytes undecoded.
        const r = spawnSync('flock', ['-s', LOCK, process.execPath, BIN, '-a', '-v', ...eight, `--engine=${e.name}`, `${src}/`, `${root}/dst/`], { env: { ...process.env, ...env } });
        expect(r.status, r.stderr.toString()).toBe(0);
        const want = spawnSync('rsync', ['-a', '-v', ...eight, `${src}/`, `${root}/rdst/`], { env: { ...process.env, ...env } });
        expect(want.status).toBe(0);
        // Compared as bytes (latin1 keeps each byte one character): under -8 a name's raw bytes are the output.
        const got = r.stdout.toString('latin1');
        expect(names(got)).toEqual(names(want.stdout.toString('latin1')));
        expect(names(got).length).toBe(5);
      });
    }
  }
});
