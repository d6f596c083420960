// --fake-super -A with only the sender faking: rsync's faking sender reads an entry's ACLs from its
// user.rsync.%aacl / %dacl records (what a faking receiver stored: the access ACL without what the mode
// says, a directory's default ACL whole), never from the entry's real ACLs, so a backup restored by a
// receiver that does not fake gets real ACLs again; an entry without a record has the ACL its mode says.
// Differential against rsync 3.5: a local copy (`--fake-super -M--super`), a push whose far side is a
// root rsync, a pull whose far side fakes as the sender (`-M--fake-super`), on a fresh destination, one
// that has the ACLs already and one whose ACLs drifted; -n too. The same -i lines, ACLs and exit code.
// The node engine refuses -A.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { differential } from '../helpers/differential.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { itemLines, rsyncClient } from '../helpers/remote-pull.js';
import { removeTemps } from '../helpers/tree.js';

let root: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-fsacl-'));
  rsh = fakeRsh(root);
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  removeTemps();
});

const acl = (...args: string[]): void => void execFileSync('setfacl', args);
const T0 = 1_600_000_000;

type Dest = 'empty' | 'same' | 'drift';

/**
 * r/src holds records only (made by rsync as a faking receiver from r/orig's real ACLs), plus a real
 * ACL on `plain` that is no record; r/dst is empty, a real copy of r/orig, or that copy drifted.
 */
function trees(r: string, dest: Dest): void {
  const orig = path.join(r, 'orig');
  fs.mkdirSync(path.join(orig, 'd'), { recursive: true });
  fs.mkdirSync(path.join(orig, 'd2'));
  fs.mkdirSync(path.join(orig, 'e'));
  for (const f of ['user', 'groups', 'mode', 'plain']) fs.writeFileSync(path.join(orig, f), `${f}\n`, { mode: 0o644 });
  const o = (n: string): string => path.join(orig, n);
  acl('-m', 'u:daemon:r', o('user'));
  acl('-m', 'u:daemon:rw,g:adm:r,g::rwx', o('groups'));
  fs.chmodSync(o('mode'), 0o640);
  acl('-m', 'g:adm:rw', o('mode'));
  acl('-m', 'u:daemon:rx', o('d'));
  acl('-d', '-m', 'u:daemon:rx,g:adm:r', o('d'));
  acl('-d', '-m', 'o::-', o('d2'));
  for (const n of ['user', 'groups', 'mode', 'plain', 'd', 'd2', 'e', '']) fs.utimesSync(o(n), T0, T0);
  execFileSync('rsync', ['-aA', '-M--fake-super', `${orig}/`, `${r}/src/`]);
  acl('-m', 'u:daemon:rwx', path.join(r, 'src', 'plain'));
  fs.utimesSync(path.join(r, 'src', 'plain'), T0, T0);
  fs.mkdirSync(path.join(r, 'dst'));
  if (dest === 'empty') return;
  execFileSync('rsync', ['-aA', `${orig}/`, `${r}/dst/`]);
  if (dest === 'same') return;
  const d = (n: string): string => path.join(r, 'dst', n);
  acl('-m', 'u:daemon:rwx', d('user'));
  acl('-b', d('groups'));
  acl('-m', 'u:nobody:r', d('plain'));
  acl('-k', d('d'));
  acl('-d', '-m', 'u:nobody:r', d('d2'));
  acl('-m', 'u:nobody:r', d('e'));
}

const DESTS: Dest[] = ['empty', 'same', 'drift'];

describeEngines((e) => {
  it.skipIf(e.name === 'node')('a local copy, only the sender faking: records become real ACLs as with rsync', async () => {
    for (const dest of DESTS) {
      for (const n of [[], ['-n']]) {
        await differential({ engine: e.name, setup: (r) => trees(r, dest), args: ['-aA', ...n, '--fake-super', '-M--super', 'src/', 'dst/'] });
      }
    }
  });

  for (const way of ['push', 'pull'] as const) {
    it.skipIf(e.name === 'node')(`a ${way} whose sender fakes: the same -i lines and ACLs as rsync's client`, async () => {
      for (const dest of DESTS) {
        const base = fs.mkdtempSync(path.join(root, `${way}-`));
        trees(base, dest);
        const theirs = path.join(base, 'theirs');
        const ours = path.join(base, 'ours');
        for (const d of [theirs, ours]) execFileSync('cp', ['-a', path.join(base, 'dst'), d]);
        const src = path.join(base, 'src');
        // A push's sender is this side (--fake-super); a pull's is the far side (-M--fake-super).
        const args = ['-aAi', way === 'push' ? '--fake-super' : '-M--fake-super', '-e', rsh];
        const ends = (dst: string): string[] => (way === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`]);
        const what = `${way} into a destination ${dest}`;
        const t = rsyncClient([...args, ...ends(theirs)]);
        const r = await runCli([`--engine=${e.name}`, ...args, ...ends(ours)]);
        expect.soft(r.code, `${what}: ${show(r)}`).toBe(t.code);
        expect.soft(t.code, `${what}: ${t.err}`).toBe(0);
        expect.soft(itemLines(r.stdout), `${what}: ${r.stderr}`).toEqual(itemLines(t.out));
        expect.soft(formatDiffs(compareTrees(theirs, ours, { xattrs: true, acls: true, rootMeta: false })), what).toEqual([]);
      }
    });
  }
});
