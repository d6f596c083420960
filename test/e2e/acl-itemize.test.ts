// -A's 'a' and 'p' on a destination whose ACLs or modes drifted, against rsync 3.5. rsync compares an access
// ACL only in what the mode does not carry (its rsync_acl_strip_perms: never the owner's and others'
// entries; the group's beside a mask when it differs from the mode's group bits; the mask unless named
// entries need it and it equals them; named entries always), and for a file whose data is current it sets
// the attributes before it itemizes them, so writing the ACL takes the permission bits along and 'p' is
// left for set-id and sticky bits (not under -n, which sets nothing, nor for a directory, itemized first).
// One tree, one drifted entry per case; the native engines (the node engine refuses -A).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, put, stampTree } from '../helpers/differential.js';

afterAll(() => removeTemps());

const acl = (args: string[]): void => void execFileSync('setfacl', args);

/** Each dst entry's drift, and the line rsync prints for it under -aA (in the comment). */
const DRIFT: [string, (p: string) => void][] = [
  ['e1', (p) => acl(['-m', 'u:nobody:rwx', p])], // a named entry's perms: .f.......a.
  ['e2', (p) => fs.chmodSync(p, 0o660)], // others' bits only (the ACL alike): .f...p.....
  ['e3', (p) => (acl(['-b', p]), fs.chmodSync(p, 0o4644))], // no ACL, set-uid: .f...p...a.
  ['e4', (p) => fs.chmodSync(p, 0o600)], // the mask to ---, still the same ACL to rsync: .f...p.....
  ['e5', (p) => acl(['-b', p])], // no ACL, the group's bits r: .f.......a. (no 'p')
  ['e6', (p) => fs.chmodSync(p, 0o4664)], // set-uid: .f...p.....
  ['e7', (p) => acl(['-m', 'm::r', p])], // the mask: .f.......a.
  ['e8', (p) => acl(['-m', 'g::rwx', p])], // the group's entry: .f.......a.
  ['e9', (p) => acl(['-m', 'g:nogroup:r', p])], // one more named entry: .f.......a.
  ['n1', (p) => acl(['-m', 'u:nobody:rw', p])], // an ACL the source lacks: .f.......a.
  ['n2', (p) => (acl(['-m', 'u:nobody:rw', p]), fs.chmodSync(p, 0o600))], // and the mode: .f.......a.
  ['d1', (p) => acl(['-b', p])], // a directory without its ACL: .d.......a.
  ['d2', (p) => (acl(['-b', p]), fs.chmodSync(p, 0o700))], // and its mode: .d...p...a.
];

function drifted(r: string): void {
  for (const [name] of DRIFT) {
    if (name.startsWith('d')) fs.mkdirSync(path.join(r, 'src', name), { recursive: true });
    else put(r, `src/${name}`, `${name}\n`, 0o644);
    // e*: a named user (mode 0664: the mask); n*: a plain 0644 file; d*: a directory with a named user.
    if (!name.startsWith('n')) acl(['-m', name.startsWith('d') ? 'u:nobody:rx' : 'u:nobody:rw', path.join(r, 'src', name)]);
  }
  stampTree(path.join(r, 'src'));
  execFileSync('rsync', ['-aA', 'src/', 'dst/'], { cwd: r });
  for (const [name, drift] of DRIFT) drift(path.join(r, 'dst', name));
}

describeEngines((e) => {
  it.skipIf(e.name === 'node')('-aA, -aAc, -aAn over drifted ACLs and modes: the same a/p lines and ACLs as rsync', async () => {
    for (const opts of [['-aA'], ['-aAc'], ['-aAn']]) await differential({ engine: e.name, setup: drifted, args: [...opts, 'src/', 'dst/'] });
  });
});

/**
 * A destination directory with a default ACL (its source twin has the same): new files and directories
 * made in it inherit ACLs of their own, which rsync's set_acl takes off again where the source has none
 * (a named group held back by the mask would come back with a later chmod g+w). arsync kept them before
 * session 51. Beside them, a source file with a named entry, and a subdirectory that has no default ACL.
 */
function inherited(r: string): void {
  put(r, 'src/d/plain', 'plain\n', 0o644);
  put(r, 'src/d/named', 'named\n', 0o644);
  fs.mkdirSync(path.join(r, 'src/d/sub/inner'), { recursive: true });
  fs.mkdirSync(path.join(r, 'dst/d'), { recursive: true });
  for (const d of ['src/d', 'dst/d']) acl(['-d', '-m', 'g:1005:rwx', path.join(r, d)]);
  acl(['-m', 'u:nobody:rw', path.join(r, 'src/d/named')]);
  // What the subdirectories inherited in the source, taken off: the source's own state is "none".
  acl(['-b', '-k', path.join(r, 'src/d/sub'), path.join(r, 'src/d/sub/inner')]);
  acl(['-b', path.join(r, 'src/d/plain')]);
  stampTree(path.join(r, 'src'));
}

describeEngines((e) => {
  it.skipIf(e.name === 'node')('-aA into a directory with a default ACL: what a new entry inherited is taken off where the source has none, as rsync', async () => {
    for (const opts of [['-aA'], ['-rtA'], ['-aAX']]) await differential({ engine: e.name, setup: inherited, args: [...opts, 'src/', 'dst/'] });
  });
});

/**
 * -A without -p (`-aA --no-p`; -A alone implies -p, a later --no-p takes it back): a new entry's bits are
 * the source's masked by the default ACL of the directory it is made in (rsync's dest_mode with
 * default_perms_for_dir), and rsync's generator sets that directory's ACLs at its visit, before it makes
 * anything inside: the default ACL that decides is the source directory's, not the one the destination
 * had. Before session 52 arsync masked by the destination's (mask rwx instead of r-x: a named user got
 * write). Cases: a destination default ACL the source lacks, one the source has and the destination lacks,
 * and a subdirectory with a default ACL of its own.
 */
function defaultsAtVisit(r: string): void {
  put(r, 'src/d/g', 'g\n', 0o674);
  put(r, 'src/d/plain', 'plain\n', 0o666);
  put(r, 'src/e/f', 'f\n', 0o666);
  put(r, 'src/e/own/h', 'h\n', 0o777);
  fs.mkdirSync(path.join(r, 'dst/d'), { recursive: true });
  acl(['-m', 'u:nobody:rwx,g:daemon:r', path.join(r, 'src/d/g')]);
  acl(['-d', '-m', 'g:1005:rwx', path.join(r, 'dst/d')]);
  acl(['-d', '-m', 'g::r,o::-', path.join(r, 'src/e')]);
  acl(['-d', '-m', 'u::rw,g::rwx,o::rx', path.join(r, 'src/e/own')]);
  stampTree(path.join(r, 'src'));
}

describeEngines((e) => {
  it.skipIf(e.name === 'node')('-aA --no-p: a new entry takes its bits from the default ACL the directory is given at its visit, as rsync', async () => {
    for (const opts of [['-aA', '--no-p'], ['-rtA', '-p', '--no-p'], ['-aAX', '--no-p'], ['-aA']]) await differential({ engine: e.name, setup: defaultsAtVisit, args: [...opts, 'src/', 'dst/'] });
  });
});
