// Xattr filter rules (rules with the `x` modifier: `-f '-x NAME'`, `+x`, `-xr`, `-xs`, `-x!`) in a push
// and a pull, through a remote shell that runs the server here, against the installed rsync 3.5 and, where
// they are built, 3.2.7 and 3.1.3. Differential: rsync as the client with the same options, server and
// trees must leave the same destination (xattrs of every namespace included), print the same -i lines
// and exit alike. What the cases hold: the sender lists only what its view of the rules lets through; a
// receiver-side rule is the server's in a push (sent only with --delete or -m) and the client's in a
// pull; the receiver never compares or removes a destination name its view excludes, but a file it
// transfers is a new inode without them; --delete-excluded makes the rules the sender's alone; once any
// x-rule is given it replaces the namespace rule (a receiver that is not root keeps trusted.* as
// user.rsync.trusted.*, and removes a stale trusted.* name). The node engine has no xattrs (refused with
// -X before anything starts: remote-xattrs.test.ts).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs, readXattrs } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { itemLines, rsyncClient } from '../helpers/remote-pull.js';
import { CASES, isRoot, makeTrees } from '../helpers/xattr-filter-case.js';

let root: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-xfilt-'));
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const PEERS: [string, () => string[]][] = [
  ['3.5', () => []],
  ['3.2.7', () => [`--rsync-path=${peerRsync('3.2.7')}`]],
  ['3.1.3', () => [`--rsync-path=${peerRsync('3.1.3')}`]],
];

describeEngines((e) => {
  for (const [version, pathOpt] of PEERS) {
    const skip = e.name === 'node' || (version !== '3.5' && !peersAvailable);
    for (const way of ['push', 'pull'] as const) {
      it.skipIf(skip)(`${way}: xattr filter rules do as rsync's client does with an rsync ${version} server`, async () => {
        for (const c of CASES) {
          if (c.rootOnly && !isRoot) continue;
          const { src, dest, n } = makeTrees(root, { acl: c.acl === true });
          const theirs = path.join(root, `theirs-${n}`);
          const ours = path.join(root, `ours-${n}`);
          for (const d of [theirs, ours]) execFileSync('cp', ['-a', dest, d]);
          const ends = (dst: string): string[] => (way === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`]);
          const args = ['-aXi', ...c.args, ...pathOpt(), '-e', rsh];
          const what = `${way} ${version} ${c.args.join(' ')}`;
          const t = rsyncClient([...args, ...ends(theirs)]);
          const o = await runCli([`--engine=${e.name}`, ...args, ...ends(ours)]);
          expect.soft(o.code, `${what}: ${show(o)}`).toBe(t.code);
          expect.soft(t.code, `${what}: ${t.err}`).toBe(0);
          expect.soft(itemLines(o.stdout), `${what}: ${o.stderr}`).toEqual(itemLines(t.out));
          expect.soft(formatDiffs(compareTrees(theirs, ours, { xattrs: true, acls: c.acl === true, rootMeta: false })), what).toEqual([]);
          c.check?.(readXattrs(ours, ['a', 'b', 'd/c', 'new'].map((r) => Buffer.from(r))), way);
        }
      });
    }
  }
});
