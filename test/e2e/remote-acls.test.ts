// -A to and from another machine: pushes and pulls through a remote shell that runs the server locally,
// against rsync 3.5 and (where scripts/build-peers.sh built them with ACLs) 3.2.7 and 3.1.3. Differential:
// rsync as the client with the same options and server must leave the same ACLs (system.posix_acl_*
// compared byte for byte), modes and files, exit with the same code and print the same -i lines. The
// tree has named users and groups with a mask, a mask that differs from the owning group, a mask alone,
// directories with default ACLs, and several files sharing one ACL (sent once, then by index). The node
// engine refuses -A in a push and a pull as it does locally. A hostile sender's ACL list ends a pull with
// rsync's exit code, nothing written.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { frame } from '../../src/remote/mux.js';
import { int32, varint, varlong } from '../../src/remote/wire.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { destPairs, itemLines, rsyncClient, type RsyncResult } from '../helpers/remote-pull.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

let root: string;
let src: string;
let rsh: string;

const setfacl = (args: string[], rel: string): void => void execFileSync('setfacl', [...args, path.join(src, rel)]);

function makeTree(): void {
  const w = (rel: string): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), rel);
  };
  for (const f of ['plain', 'same1', 'same2', 'same3', 'masked', 'groupobj', 'maskonly', 'nameless']) w(f);
  // Three files with one ACL: the list carries it once, then its index.
  for (const f of ['same1', 'same2', 'same3']) setfacl(['-m', 'u:65534:rw,g:100:r'], f);
  setfacl(['-m', 'u:1:rwx,g:2:rx,m::r'], 'masked');
  // The owning group differs from the mask (the mode's group bits): both must travel.
  setfacl(['-m', 'u:4:rw,g::r,m::rwx'], 'groupobj');
  setfacl(['-m', 'm::r'], 'maskonly');
  // An id without a name on this machine: it travels as a number, names or not.
  setfacl(['-m', 'u:54321:r,g:54321:rw'], 'nameless');
  fs.mkdirSync(path.join(src, 'd'));
  setfacl(['-m', 'u:2:rwx'], 'd');
  setfacl(['-d', '-m', 'u:65534:rwx,g:100:rx'], 'd');
  w('d/inherits');
  fs.mkdirSync(path.join(src, 'd', 'sub'));
  fs.mkdirSync(path.join(src, 'e'));
  setfacl(['-d', '-m', 'u:3:r,m::rwx'], 'e');
  fs.mkdirSync(path.join(src, 'plaindir'));
  fs.chmodSync(path.join(src, 'plaindir'), 0o750);
  fs.symlinkSync('plain', path.join(src, 'ln'));
  fs.linkSync(path.join(src, 'masked'), path.join(src, 'd', 'hard-masked'));
  const all = execFileSync('find', [src, '-depth', '-print0']).toString('latin1').split('\0').filter(Boolean);
  execFileSync('touch', ['-h', '-d', '2021-05-06 07:08:09', ...all]);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-racl-'));
  src = path.join(root, 'src');
  makeTree();
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The peers that speak -A: rsync 3.5, and the older ones where they were built with ACLs. */
function peers(): { name: string; path?: string; skip: boolean }[] {
  const old = (v: string): { name: string; path?: string; skip: boolean } => {
    if (!peersAvailable) return { name: v, skip: true };
    const bin = peerRsync(v);
    return { name: v, path: bin, skip: / no ACLs/.test(execFileSync(bin, ['--version']).toString()) };
  };
  return [{ name: '3.5', skip: false }, old('3.2.7'), old('3.1.3')];
}
const PEERS = peers();

const OPTS: string[][] = [['-aAi'], ['-aAHi', '--numeric-ids'], ['-rlptAi']];
/**
 * The older peers get the cases with ACL names and with numeric ids and hard links; -rlptAi (ACLs
 * without owners in the file list) adds nothing that depends on the peer's version, so it runs against
 * rsync 3.5 only.
 */
const optsFor = (peer: string): string[][] => (peer === '3.5' ? OPTS : OPTS.slice(0, 2));

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const pair = destPairs(() => root, e.name);

  /**
   * rsync's client on a case into a destination of its own: it depends on the source, the far side and the
   * options only, so the first engine's run serves the same test under the others
   * (test/helpers/shared-case.ts). Returns its result and that destination.
   */
  const theirs = (args: (dst: string) => string[]): RsyncResult & { dst: string } =>
    sameForEveryEngine(args('DST'), () => ({ ...rsyncClient(args(pair.theirs)), dst: pair.theirs }));

  const sameAcls = (a: string, b: string, owners: boolean): void => {
    expect(formatDiffs(compareTrees(a, b, { acls: true, xattrs: false, owners, hardlinks: false }))).toEqual([]);
  };

  if (e.name === 'node') {
    it('refuses -A in a push and a pull as it does locally (exit 1, nothing written)', async () => {
      for (const args of [[`${src}/`, `host:${pair.mine}/`], [`host:${src}/`, `${pair.mine}/`]]) {
        const r = await runCli([eng, '-aA', '-e', rsh, ...args]);
        expect(r.code, show(r)).toBe(1);
        expect(r.stderr).toMatch(/-A\/--acls needs the native addon/);
        expect(fs.existsSync(pair.mine)).toBe(false);
      }
    });
    return;
  }

  for (const peer of PEERS) {
    const pathOpt = peer.path ? [`--rsync-path=${peer.path}`] : [];
    it.skipIf(peer.skip).each(optsFor(peer.name))(`pushes ACLs like rsync to ${peer.name}: %j`, async (...opts) => {
      const r = theirs((dst) => [...opts, ...pathOpt, '-e', rsh, `${src}/`, `host:${dst}/`]);
      const ours = await runCli([eng, ...opts, ...pathOpt, '-e', rsh, `${src}/`, `host:${pair.mine}/`]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(r.code, r.err).toBe(0);
      expect(ours.stdout.replaceAll(pair.mine, 'DST')).toBe(r.out.replaceAll(r.dst, 'DST'));
      sameAcls(r.dst, pair.mine, true);
      sameAcls(src, pair.mine, opts.some((o) => o.startsWith('-a')));
    });

    it.skipIf(peer.skip).each(optsFor(peer.name))(`pulls ACLs like rsync from ${peer.name}: %j`, async (...opts) => {
      const r = theirs((dst) => [...opts, ...pathOpt, '-e', rsh, `host:${src}/`, `${dst}/`]);
      const ours = await runCli([eng, ...opts, ...pathOpt, '-e', rsh, `host:${src}/`, `${pair.mine}/`]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(r.code, r.err).toBe(0);
      expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
      sameAcls(r.dst, pair.mine, true);
      sameAcls(src, pair.mine, opts.some((o) => o.startsWith('-a')));
    });
  }

  // --chmod with -A: a pull's far sender leaves the owning group out when it equals the group bits of the
  // mode before --chmod, and rsync's receiving client puts it back from the mode after it; a push's
  // sender lists the mode after --chmod (so the entry travels when --chmod changed the group bits).
  it.each([['--chmod=g+w'], ['--chmod=u-w,g-r'], ['--chmod=Dg-x,Fg=rwx'], ['--chmod=F600']])('-aA %s both ways, as rsync', async (chmod) => {
    for (const dir of ['pull', 'push'] as const) {
      const args = (dst: string): string[] => ['-aAi', chmod, '-e', rsh, ...(dir === 'pull' ? [`host:${src}/`, `${dst}/`] : [`${src}/`, `host:${dst}/`])];
      const r = theirs((dst) => args(`${dst}-${dir}`));
      const ours = await runCli([eng, ...args(`${pair.mine}-${dir}`)]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(r.code, r.err).toBe(0);
      expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
      sameAcls(`${r.dst}-${dir}`, `${pair.mine}-${dir}`, true);
    }
  });

  // --chown, --usermap, --groupmap: a pull's receiving client maps the ACLs' named ids as it maps owners
  // (the local half does, as a local copy: acl-idmap.test.ts); a push's far rsync does. (Not under
  // --numeric-ids, where rsync's mapping of ACL ids between machines depends on incremental recursion,
  // which arsync's sessions go without: README.)
  it.each([['--chown=bin:'], ['--usermap=1-4:sys', '--groupmap=*:staff'], ['--usermap=65534:bin', '--groupmap=100:staff']].map((o) => [o.join(' '), o] as const))(
    '-aA %s both ways, as rsync',
    async (_, map) => {
      for (const dir of ['pull', 'push'] as const) {
        // (A destination of its own for each case and way.)
        const at = (d: string): string => `${d}-${map.join('').replace(/[^a-z0-9]/gi, '')}-${dir}`;
        const args = (dst: string): string[] => ['-aAi', ...map, '-e', rsh, ...(dir === 'pull' ? [`host:${src}/`, `${dst}/`] : [`${src}/`, `host:${dst}/`])];
        const r = theirs((dst) => args(at(dst)));
        const ours = await runCli([eng, ...args(at(pair.mine))]);
        expect(ours.code, show(ours)).toBe(r.code);
        expect(r.code, r.err).toBe(0);
        expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
        sameAcls(at(r.dst), at(pair.mine), true);
      }
    },
  );

  it('a changed ACL is sent again and itemized with "a", both ways, as rsync does', async () => {
    // The same out-of-date copy on both sides: one ACL changed, one removed, one default ACL removed.
    for (const dir of [pair.theirs, pair.mine]) {
      execFileSync('cp', ['-a', `${src}/.`, dir]);
      // -n: the mask stays, so the mode does not change with the ACL (only the 'a' differs).
      execFileSync('setfacl', ['-n', '-m', 'u:65534:r', path.join(dir, 'same2')]);
      execFileSync('setfacl', ['-b', path.join(dir, 'masked')]);
      execFileSync('setfacl', ['-k', path.join(dir, 'd')]);
    }
    const pullTheirs = `${pair.theirs}-pull`;
    const pullMine = `${pair.mine}-pull`;
    for (const d of [pullTheirs, pullMine]) {
      execFileSync('cp', ['-a', `${pair.theirs}/.`, d]);
      // Not a hard link of "masked" there: the local run decides each name before any op runs, so it
      // would list the second name of an inode whose ACL the first name's op already fixed (rsync not).
      fs.rmSync(path.join(d, 'd', 'hard-masked'));
      const t = fs.statSync(path.join(src, 'd')).mtime;
      fs.utimesSync(path.join(d, 'd'), t, t);
    }
    const r = rsyncClient(['-aAi', '-e', rsh, `${src}/`, `host:${pair.theirs}/`]);
    const ours = await runCli([eng, '-aAi', '-e', rsh, `${src}/`, `host:${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(ours.stdout).toBe(r.out);
    expect(ours.stdout).toMatch(/^\.f\.{7}a\. same2$/m);
    sameAcls(src, pair.mine, true);
    const rp = rsyncClient(['-aAi', '-e', rsh, `host:${src}/`, `${pullTheirs}/`]);
    const op = await runCli([eng, '-aAi', '-e', rsh, `host:${src}/`, `${pullMine}/`]);
    expect(op.code, show(op)).toBe(rp.code);
    expect(itemLines(op.stdout)).toEqual(itemLines(rp.out));
    expect(op.stdout).toMatch(/^\.d\.{7}a\. d\/$/m);
    sameAcls(src, pullMine, true);
  });

  it('a pull with --fake-super keeps the sender\'s ACLs as user.rsync.%aacl/%dacl records, as rsync\'s client does, and sees a changed one', async () => {
    // A tree of its own: in the shared one, d/inherits and d/sub send one ACL (the same once the mode's
    // share is taken out) with different masks, and rsync 3.5's faking receiver then records the first
    // entry's mask for both (its cached ACL); arsync records each entry's own.
    const from = path.join(root, `fake-src-${e.name}`);
    const mine = `${pair.mine}-fake`;
    const theirsDst = `${pair.theirs}-fake`;
    fs.mkdirSync(path.join(from, 'd'), { recursive: true });
    for (const f of ['plain', 'named', 'd/f']) fs.writeFileSync(path.join(from, f), f);
    execFileSync('setfacl', ['-m', 'u:1:rwx,g:2:rx,m::r', path.join(from, 'named')]);
    execFileSync('setfacl', ['-m', 'u:2:rwx', path.join(from, 'd')]);
    execFileSync('setfacl', ['-d', '-m', 'u:65534:rwx,g:100:rx', path.join(from, 'd')]);
    execFileSync('touch', ['-d', '2021-05-06 07:08:09', path.join(from, 'd'), path.join(from, 'd', 'f'), path.join(from, 'named'), path.join(from, 'plain'), from]);
    const run = async (): Promise<void> => {
      const r = rsyncClient(['-aAi', '--fake-super', '-e', rsh, `host:${from}/`, `${theirsDst}/`]);
      const ours = await runCli([eng, '-aAi', '--fake-super', '-e', rsh, `host:${from}/`, `${mine}/`]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(r.code, r.err).toBe(0);
      expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
      expect(formatDiffs(compareTrees(theirsDst, mine, { acls: true, xattrs: true, owners: true, hardlinks: true }))).toEqual([]);
    };
    const records = (rel: string): string =>
      execFileSync('getfattr', ['-d', '-m', '^user\\.rsync\\.', '-e', 'hex', '--absolute-names', path.join(mine, rel)]).toString();
    try {
      await run();
      // Records, not real ACLs: a named user's entry, a directory's default ACL.
      expect(records('named')).toMatch(/user\.rsync\.%aacl=0x/);
      expect(records('d')).toMatch(/user\.rsync\.%dacl=0x/);
      expect(execFileSync('getfacl', ['-cn', path.join(mine, 'named')]).toString()).not.toMatch(/^user:1:/m);
      // A changed source ACL: both itemize it ("a") and write the record.
      execFileSync('setfacl', ['-m', 'u:7:r', path.join(from, 'plain')]);
      await run();
      expect(records('plain')).toMatch(/user\.rsync\.%aacl=0x/);
    } finally {
      for (const d of [from, mine, theirsDst]) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('a user who is not root pulls a read-only directory with an ACL; the staging tree stays private and goes', async () => {
    const own = path.join(root, `nonroot-${e.name}`);
    const from = path.join(own, 'src');
    const tmp = path.join(own, 'tmp');
    fs.mkdirSync(path.join(from, 'ro'), { recursive: true });
    fs.mkdirSync(tmp);
    fs.writeFileSync(path.join(from, 'ro', 'f'), 'f');
    execFileSync('setfacl', ['-m', 'u:1:rwx,o::rwx', path.join(from, 'ro')]);
    execFileSync('chmod', ['0557', path.join(from, 'ro')]);
    execFileSync('chown', ['-R', '65534:65534', own]);
    fs.chmodSync(root, 0o755);
    // The staging holder must stay 0700 while the tree's "ro" takes the sender's 0557 and its ACL.
    let holderModes: number[] = [];
    // A holder listed here may be gone by the time it is stat'ed (the run removes it as it ends): that
    // is the run working, not a failure of the watch, so a missing holder is skipped.
    const watch = setInterval(() => {
      for (const h of fs.readdirSync(tmp)) {
        const st = fs.statSync(path.join(tmp, h), { throwIfNoEntry: false });
        if (st) holderModes.push(st.mode & 0o777);
      }
    }, 5);
    const r = await runCli([eng, '-aA', '-e', rsh, `host:${from}/`, `${own}/dst/`], { user: { uid: 65534, gid: 65534 }, env: { TMPDIR: tmp } });
    clearInterval(watch);
    expect(r.code, show(r)).toBe(0);
    expect(fs.statSync(path.join(own, 'dst', 'ro')).mode & 0o7777).toBe(0o557);
    sameAcls(from, path.join(own, 'dst'), true);
    holderModes = [...new Set(holderModes)];
    expect(holderModes.every((m) => m === 0o700), String(holderModes)).toBe(true);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  // A sender that plays back a crafted stream: protocol 31, no compat flags, one entry (".") whose ACL
  // list is hostile. The run ends with rsync's exit code for it and nothing is written.
  const hostile = (acl: Buffer): Buffer => {
    const root = Buffer.concat([Buffer.from([0x40]), varint(1), Buffer.from('.'), varlong(0, 3), varlong(1_600_000_000, 4), int32(0o040755)]);
    return Buffer.concat([int32(31), varint(0), int32(1234), frame(0, Buffer.concat([root, acl, Buffer.from([0])]))]);
  };
  async function pullFrom(bytes: Buffer): Promise<Awaited<ReturnType<typeof runCli>>> {
    const file = path.join(root, `stream-${e.name}-${pair.n}`);
    fs.writeFileSync(file, bytes);
    const fake = path.join(root, `fake-${e.name}-${pair.n}`);
    fs.writeFileSync(fake, `#!/bin/sh\ncat '${file}'\nexec cat >/dev/null\n`, { mode: 0o755 });
    return runCli([eng, '-rltA', '-e', fake, 'host:src/', `${pair.mine}/`], { timeoutMs: 30_000 });
  }

  it('a hostile ACL count ends a pull with exit 2, writing nothing', async () => {
    // A new access ACL with a name list of 100000 entries (rsync allows 65536).
    const r = await pullFrom(hostile(Buffer.concat([varint(0), Buffer.from([0x10]), varint(100_000)])));
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/ACL count out of range: 100000/);
    expect(fs.existsSync(pair.mine)).toBe(false);
  });

  it('an ACL index never sent ends a pull with exit 12, writing nothing', async () => {
    const r = await pullFrom(hostile(varint(5)));
    expect(r.code, show(r)).toBe(12);
    expect(r.stderr).toMatch(/ACL index 5 > 0/);
    expect(fs.existsSync(pair.mine)).toBe(false);
  });
});
