// The server command line of a pull (cli/pull.ts pullServerArgs over remote/server-args.ts), checked
// against the one rsync 3.5 itself runs for the same options: a recording remote shell writes rsync's
// argv to a file and fails (nothing is transferred). rsync offers incremental recursion ('i' in its
// capability letters), which arsync does not, so that letter is dropped from rsync's before comparing
// (both offer 's', symlink targets converted under --iconv).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import { pullServerArgs } from '../../../src/cli/pull.js';

let root: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-pargs-'));
  rsh = path.join(root, 'rsh');
  fs.writeFileSync(rsh, `#!/bin/sh\nprintf '%s\\n' "$@" > ${root}/argv\nexit 1\n`, { mode: 0o755 });
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function rsyncSends(opts: string[]): string[] {
  spawnSync('rsync', [...opts, '-e', rsh, 'host:src/', path.join(root, 'dst/')]);
  const argv = fs.readFileSync(path.join(root, 'argv'), 'utf8').split('\n').slice(0, -1);
  // host, rsync, the server options..., ".", the path
  return argv.slice(2, -2).map((a) => (/^-[a-zA-Z]*e\./.test(a) ? a.replace(/e\.([a-zA-Z]*)/, (_m, caps: string) => `e.${caps.replace(/i/g, '')}`) : a));
}

function oursSends(opts: string[]): string[] {
  const parsed = parseArgs(['node', 'arsync', ...opts, 'host:src/', 'dst/']);
  if (parsed.kind !== 'remote-pull') throw new Error(`not a pull: ${parsed.kind}`);
  return pullServerArgs(parsed.pull.config, parsed.pull.wholeFile, parsed.pull.blockSize, parsed.pull.compress);
}

const CASES: string[][] = [
  ['-a', '--iconv=ISO-8859-1,UTF-8'],
  ['-rlt', '--iconv=UTF-8'],
  ['-aX'],
  ['-aXX'],
  ['-rt', '--xattrs', '--xattrs', '-v'],
  ['-aHX', '--numeric-ids', '-v'],
  ['-rltXn'],
  ['-a'],
  ['-av'],
  ['-aHvv', '--numeric-ids'],
  ['-rlptgoD', '--delete', '--exclude=x'],
  ['-a', '-n', '-u', '-b', '-W', '-c', '-I', '-C', '-x'],
  ['-a', '--inplace', '--safe-links', '--timeout=30', '--bwlimit=100'],
  ['-a', '--append'],
  ['-a', '--append-verify'],
  ['-a', '--backup-dir=old', '--suffix=.b'],
  ['-a', '--suffix=~'],
  ['-rt', '--ignore-errors', '--copy-unsafe-links', '-k', '-L'],
  ['-a', '--no-D', '--specials'],
  ['-aR', '--no-implied-dirs'],
  ['-a', '--remove-source-files'],
  ['-a', '-S', '-xx'],
  ['-aA'],
  ['-rA', '--numeric-ids'],
  ['-aAHv', '--delete'],
  ['-d'],
  ['-a', '-B', '2048', '--timeout=5'],
  ['-a', '--block-size=1k'],
  ['-a', '--checksum-seed=7', '--ignore-missing-args', '--max-alloc=2G'],
  ['-a', '--checksum-seed=-7', '--max-alloc=1024M'],
  ['-r', '--max-alloc=5g', '--checksum-seed=0'],
];

describe('the server options of a pull, as rsync 3.5 sends them', () => {
  it.each(CASES)('%j', (...opts) => {
    expect(oursSends(opts)).toEqual(rsyncSends(opts));
  });
});
