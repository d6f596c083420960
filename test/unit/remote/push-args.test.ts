// The command line a pushing client gives the remote `rsync --server` (server-args.ts receiverArgs,
// through the CLI's own parsing and the remote shell's argv), checked against the one rsync 3.5 builds
// for the same command line: rsync runs a remote shell that prints its argv and fails.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import { receiverArgs } from '../../../src/remote/server-args.js';
import { remoteArgv } from '../../../src/remote/rsh.js';

let root: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-pushargs-'));
  fs.mkdirSync(path.join(root, 'src'));
  rsh = path.join(root, 'rsh');
  fs.writeFileSync(rsh, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >&2\nexit 1\n', { mode: 0o755 });
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** What rsync 3.5 runs through the remote shell for `rsync OPTS src/ host:dst/`. */
function rsyncArgv(opts: string[]): string[] {
  // (In `root`: a batch option makes rsync open its batch files before it runs the remote shell.)
  const r = spawnSync('rsync', [...opts, '-e', rsh, `${root}/src/`, 'host:dst dir/'], { encoding: 'latin1', cwd: root });
  return r.stderr.split('\n').filter((l) => l && !/^rsync(:| error)/.test(l));
}

function oursArgv(opts: string[]): string[] {
  const parsed = parseArgs(['node', 'arsync', ...opts, '-e', rsh, `${root}/src/`, 'host:dst dir/']);
  if (parsed.kind !== 'remote-push') throw new Error(`not a push: ${parsed.kind}`);
  const p = parsed.push;
  const args = receiverArgs(p.config, { wholeFile: p.wholeFile, plainDelete: p.plainDelete, dirs: p.dirs, maxDelete: p.maxDelete, openNoatime: p.openNoatime, omitDirTimes: p.omitDirTimes, blockSize: p.blockSize });
  return remoteArgv({ rsh, user: p.operand.user, host: p.operand.host, rsyncPath: undefined, serverArgs: args, paths: [p.operand.path.toString('latin1')], weSend: true }, {}).slice(1);
}

/** rsync offers incremental recursion ('i'), which arsync leaves out. */
const withoutOwnCaps = (argv: string[]): string[] => argv.map((a) => a.replace(/e\.iLsfxCIvu$/, 'e.LsfxCIvu'));

const CASES: string[][] = [
  ['-a', '--iconv=ISO-8859-1,UTF-8'],
  ['-a', '--iconv=UTF-8', '--delete', '--backup-dir=b d'],
  ['-aX'],
  ['-aXX'],
  ['-rt', '--xattrs', '--xattrs', '-v'],
  ['-aHX', '--numeric-ids', '-v'],
  ['-rltXn'],
  ['-a'],
  ['-aHv'],
  ['-ani'],
  ['-aii'],
  ['-a', '--delete'],
  ['-a', '--del'],
  ['-a', '--delete-after', '--delete-excluded'],
  ['-a', '--delete-before', '-vv'],
  ['-a', '--delete-delay', '--force', '--ignore-errors'],
  ['-a', '--delete', '--force', '--size-only', '--only-write-batch=B b'],
  ['-aH', '--write-batch=B'],
  ['-rlptgoDc', '-u', '--max-delete=3', '--partial', '--inplace'],
  ['-a', '--delete', '--max-delete=0'],
  ['-a', '--link-dest=/x', '--backup', '--suffix=.b', '--backup-dir=/bd'],
  // The id maps go to the receiving server (--chown as the maps it stands for).
  ['-a', '--usermap=0:65534'],
  ['-a', '--usermap=*:nobody', '--groupmap=*:nogroup'],
  ['-a', '--chown=65534:65534'],
  ['-a', '--chown=:65534'],
  ['-a', '--list-only'],
  ['-r', '--list-only', '--delete', '-d', '--no-r'],
  ['-a', '--compare-dest=/c'],
  ['-a', '--copy-dest=/c y'],
  ['-a', '--numeric-ids', '-W', '--bwlimit=100', '--timeout=30'],
  ['-aA'],
  ['-rA', '--numeric-ids'],
  ['-aAHv', '--delete'],
  ['-r'],
  ['-d', '--delete'],
  ['-rd'],
  ['-d'],
  ['-rD', '--no-specials'],
  ['-a', '-S', '--ignore-existing', '--existing', '--size-only'],
  ['-a', '-S', '--inplace'],
  ['-a', '--stats'],
  ['-av', '--stats'],
  ['-a', '-x', '-O', '-J', '-K', '--mkpath', '--modify-window=2'],
  ['-a', '--min-size=10', '--max-size=100'],
  ['-a', '-b'],
  ['-rlt', '-E', '--safe-links', '--copy-unsafe-links', '--fsync', '--temp-dir=/t', '--preallocate'],
  ['-a', '--open-noatime'],
  ['-a', '-B', '2048', '--timeout=5'],
  ['-a', '--out-format=%n %o'],
  // The seed and the allocation limit go to the server (rsync's server_options), in rsync's places.
  ['-a', '--checksum-seed=7', '--modify-window=2', '--partial-dir=pp', '--size-only', '--stats', '--max-alloc=2G'],
  ['-a', '--checksum-seed=-7', '--max-alloc=1g'],
  ['-a', '--checksum-seed=0', '--max-alloc=3000m'],
];

it.each(CASES.map((c) => [c]))('sends the receiving server what rsync 3.5 sends: %j', (opts) => {
  expect(oursArgv(opts)).toEqual(withoutOwnCaps(rsyncArgv(opts)));
});
