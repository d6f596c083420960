// -A with --usermap, --groupmap and --chown in a local copy, against rsync 3.5: rsync's receiver maps the
// ACLs' named users and groups by the same rules as owners (uidlist.c match_uid/match_gid), even without
// -o/-g; under incremental recursion and --numeric-ids it maps no user (and, as root, no group), without
// incremental recursion every id. arsync maps them as it copies each ACL (native/aclids.c, the ranges
// plan/idmap.ts IdMapper.aclRanges resolves). A second run finds nothing to change. The pull's side is
// in remote-acls.test.ts. The native engines only (the node engine refuses -A).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, put, stampTree } from '../helpers/differential.js';

afterAll(() => removeTemps());

const acl = (args: string[]): void => void execFileSync('setfacl', args);

/** Named users daemon (1) and sys (3), groups adm (4) and an id without a name, a directory's default ACL. */
function tree(r: string): void {
  put(r, 'src/two', 'two\n', 0o644);
  put(r, 'src/one', 'one\n', 0o644);
  put(r, 'src/nameless', 'nameless\n', 0o644);
  put(r, 'src/d/inner', 'inner\n', 0o644);
  acl(['-m', 'u:daemon:rw,u:sys:r,g:adm:r', path.join(r, 'src/two')]);
  acl(['-m', 'u:daemon:rwx,g:4:rw', path.join(r, 'src/one')]);
  acl(['-m', 'u:54321:r,g:54321:rw', path.join(r, 'src/nameless')]);
  acl(['-m', 'u:daemon:rx', path.join(r, 'src/d')]);
  acl(['-d', '-m', 'u:sys:rwx,g:adm:rx', path.join(r, 'src/d')]);
  stampTree(path.join(r, 'src'));
}

const CASES: string[][] = [
  ['-aA', '--chown=bin:'],
  ['-aA', '--chown=:staff'],
  ['-rtA', '--chown=bin:daemon'],
  ['-aA', '--usermap=daemon:sys'],
  ['-aA', '--usermap=1-2:sys,daemon:bin', '--groupmap=adm:users'],
  ['-aA', '--usermap=d*:sys', '--groupmap=*:staff'],
  ['-aA', '--usermap=54321:bin'],
  ['-aA', '--numeric-ids', '--usermap=1:sys', '--groupmap=4:users'],
  ['-aA', '--numeric-ids', '--no-i-r', '--usermap=1:sys,*:bin', '--groupmap=4:users'],
];

describeEngines((e) => {
  it.skipIf(e.name === 'node').each(CASES.map((o) => [o.join(' '), o] as const))('%s: the ACLs\' ids mapped as rsync maps them', async (_, opts) => {
    await differential({ engine: e.name, setup: tree, args: [...opts, 'src/', 'dst/'] });
    // Run again over rsync's result: nothing differs, nothing printed. Except that where the map changes the
    // order of two named entries (user 3 before user 2 in "two", --no-i-r's *:bin), rsync compares the
    // ACL it received, mapped but not yet ordered, with the one on disk and itemizes it (and writes it) on
    // every run; arsync compares it ordered and leaves it.
    // (That case's second run compares the trees only.)
    const reordered = opts.includes('--no-i-r');
    await differential({ engine: e.name, setup: (r) => (tree(r), execFileSync('rsync', [...opts, 'src/', 'dst/'], { cwd: r })), args: [...opts, 'src/', 'dst/'], noItemize: reordered });
  });

  it.skipIf(e.name === 'node')('maps for real: --chown=bin: makes every named user bin', () => {
    // (The differential above would pass for two tools that both ignore the map.)
    const r = fs.mkdtempSync('/tmp/arsync-aclmap-');
    try {
      tree(r);
      execFileSync(path.resolve('bin/arsync'), [`--engine=${e.name}`, '-aA', '--chown=bin:', 'src/', 'dst/'], { cwd: r });
      const got = execFileSync('getfacl', ['-cn', 'dst/two'], { cwd: r }).toString();
      expect(got).toMatch(/^user:2:rw-$/m);
      expect(got).not.toMatch(/^user:1:/m);
    } finally {
      fs.rmSync(r, { recursive: true, force: true });
    }
  });
});
