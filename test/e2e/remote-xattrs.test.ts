// -X with another machine, both ways (`arsync -aHXi src/ host:dst/` and `arsync -aHXi host:src/ dst/`),
// through a remote shell that runs the server locally, against the installed rsync 3.5 and, where they
// are built, 3.2.7 and 3.1.3. Differential: rsync as the client with the same options and server must
// leave the same tree, xattrs included, print the same -i lines and exit alike. The tree has values
// over 32 bytes (sent as their checksum and asked for in full), several files with one same list (sent
// once, then by index), a directory's xattrs and hard links; a second run after values changed and one
// was removed on the source must update and remove them on the far side. The node engine has no xattrs:
// -X is refused before anything starts.

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
import { rsyncClient } from '../helpers/remote-pull.js';

let root: string;
let rsh: string;
let n = 0;

const setx = (p: string, name: string, value: string): void => void execFileSync('setfattr', ['-n', name, '-v', value, p]);
const rmx = (p: string, name: string): void => void execFileSync('setfattr', ['-x', name, p]);
const LONG = 'L'.repeat(100);
/** readXattrs gives values as getfattr's hex. */
const hex = (s: string): string => `0x${Buffer.from(s).toString('hex')}`;

/** A fresh source tree (each test changes its own). */
function makeSource(): string {
  const at = path.join(root, `src-${++n}`);
  const w = (rel: string, data = rel): void => {
    fs.mkdirSync(path.dirname(path.join(at, rel)), { recursive: true });
    fs.writeFileSync(path.join(at, rel), data);
  };
  for (const f of ['a', 'b', 'c', 'plain', 'd/x', 'd/y', 'd/sub/z']) w(f);
  fs.linkSync(path.join(at, 'a'), path.join(at, 'd', 'hard-a'));
  fs.symlinkSync('a', path.join(at, 'ln'));
  // One list on three files (a, b, d/x): sent once, then as its index.
  for (const f of ['a', 'b', 'd/x']) {
    setx(path.join(at, f), 'user.small', 'hi');
    setx(path.join(at, f), 'user.long', LONG);
  }
  // Exactly 32 bytes goes whole; 33 is abbreviated.
  setx(path.join(at, 'c'), 'user.edge32', 'e'.repeat(32));
  setx(path.join(at, 'c'), 'user.edge33', 'f'.repeat(33));
  setx(path.join(at, 'd'), 'user.dir', 'a directory'.repeat(5));
  setx(path.join(at, 'd/y'), 'user.gone', 'soon removed');
  const age = (rel: string): void => {
    const p = path.join(at, rel);
    if (fs.lstatSync(p).isDirectory()) for (const c of fs.readdirSync(p)) age(path.join(rel, c));
    fs.lutimesSync(p, 1_500_000_000, 1_500_000_000);
  };
  age('');
  return at;
}

/**
 * What changes on the source between the two runs: a long value, a removed one, a new one, a directory's.
 * Not on a hard-linked file: arsync's local run (which a pull ends with) does not itemize a hard link's
 * other names when only its attributes changed, where rsync prints an "hf" line for each.
 */
function changeSource(at: string): void {
  setx(path.join(at, 'b'), 'user.long', 'M'.repeat(100));
  rmx(path.join(at, 'd/y'), 'user.gone');
  setx(path.join(at, 'plain'), 'user.new', 'N'.repeat(40));
  setx(path.join(at, 'd'), 'user.dir', 'changed'.repeat(8));
  setx(path.join(at, 'c'), 'user.edge33', 'g'.repeat(33));
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rxattr-'));
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const steady = (s: string, dirs: string[]): string => {
  let out = s.replace(/^sent [\d,.]+ bytes {2}received [\d,.]+ bytes {2}[\d,.]+ bytes\/sec$/m, 'sent … received …').replace(/^total size is ([\d,.]+) {2}speedup is [\d,.]+/m, 'total size is $1  speedup is …');
  for (const d of dirs) out = out.split(d).join('DST');
  // rsync's pulling client prints from two processes: the lines' order is its own; the set must agree.
  return out.split('\n').sort().join('\n');
};

const sameTrees = (a: string, b: string): void => {
  expect(formatDiffs(compareTrees(a, b, { xattrs: true, acls: false, rootMeta: false })), `${a} vs ${b}`).toEqual([]);
};

const PEERS: [string, () => string[]][] = [
  ['3.5', () => []],
  ['3.2.7', () => [`--rsync-path=${peerRsync('3.2.7')}`]],
  ['3.1.3', () => [`--rsync-path=${peerRsync('3.1.3')}`]],
];

describeEngines((e) => {
  const opts = ['-aHXi'];

  it.skipIf(e.name !== 'node')('the node engine refuses -X in a push and a pull before anything starts (exit 1)', async () => {
    const src = makeSource();
    const dst = path.join(root, `node-${n}`);
    for (const args of [[`${src}/`, `host:${dst}/`], [`host:${src}/`, `${dst}/`]]) {
      const r = await runCli([`--engine=${e.name}`, ...opts, '-e', rsh, ...args]);
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr).toMatch(/-X\/--xattrs needs the native addon/);
      expect(fs.existsSync(dst)).toBe(false);
    }
  });

  // Other namespaces than user.* need root (trusted.*); rsync 3.5 as the server.
  it.skipIf(e.name === 'node' || process.getuid?.() !== 0).each(['push', 'pull'] as const)(
    '--fake-super: a %s keeps trusted.* as user.rsync.trusted.* on the faking side and back, as rsync',
    async (way) => {
      const src = makeSource();
      setx(path.join(src, 'a'), 'trusted.t', 'T'.repeat(40));
      setx(path.join(src, 'b'), 'user.rsync.trusted.k', 'kept');
      const theirs = path.join(root, `theirs-${n}`);
      const ours = path.join(root, `ours-${n}`);
      const ends = (dst: string): string[] => (way === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`]);
      const args = ['-aXi', '--fake-super', '-e', rsh];
      const t = rsyncClient([...args, ...ends(theirs)]);
      const o = await runCli([`--engine=${e.name}`, ...args, ...ends(ours)]);
      expect(o.code, show(o)).toBe(t.code);
      expect(steady(o.stdout, [ours])).toBe(steady(t.out, [theirs]));
      sameTrees(theirs, ours);
      const x = readXattrs(ours, [Buffer.from('a'), Buffer.from('b')]);
      if (way === 'pull') {
        expect(x.get('a')?.get('user.rsync.trusted.t')).toBe(hex('T'.repeat(40)));
        expect(x.get('b')?.get('user.rsync.trusted.k')).toBe(hex('kept'));
      } else {
        expect(x.get('a')?.get('trusted.t')).toBe(hex('T'.repeat(40)));
        expect(x.get('b')?.get('trusted.k')).toBe(hex('kept'));
      }
    },
  );

  for (const [version, pathOpt] of PEERS) {
    const skip = e.name === 'node' || (version !== '3.5' && !peersAvailable);
    for (const way of ['push', 'pull'] as const) {
      it.skipIf(skip)(`${way === 'push' ? 'pushes' : 'pulls'} xattrs like rsync with an rsync ${version} server, then updates and removes them`, async () => {
        const src = makeSource();
        const theirs = path.join(root, `theirs-${n}`);
        const ours = path.join(root, `ours-${n}`);
        const run = async (dry = false): Promise<void> => {
          const ends = (dst: string): string[] => (way === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`]);
          const args = [...opts, ...(dry ? ['-n'] : []), ...pathOpt(), '-e', rsh];
          const t = rsyncClient([...args, ...ends(theirs)]);
          const o = await runCli([`--engine=${e.name}`, ...args, ...ends(ours)]);
          expect(o.code, show(o)).toBe(t.code);
          expect(t.code, t.err).toBe(0);
          expect(steady(o.stdout, [ours]), o.stderr).toBe(steady(t.out, [theirs]));
          sameTrees(theirs, ours);
          if (!dry) sameTrees(src, ours);
        };
        await run();
        const x = readXattrs(ours, [Buffer.from('a'), Buffer.from('c'), Buffer.from('d'), Buffer.from('d/hard-a')]);
        expect(x.get('a')?.get('user.long')).toBe(hex(LONG));
        expect(x.get('d/hard-a')?.get('user.small')).toBe(hex('hi'));
        expect(x.get('c')?.get('user.edge33')).toBe(hex('f'.repeat(33)));
        changeSource(src);
        // A dry run asks for no value, yet shows the same changes (a stand-in differs from the old value).
        await run(true);
        await run();
        const y = readXattrs(ours, [Buffer.from('a'), Buffer.from('b'), Buffer.from('d/y'), Buffer.from('plain')]);
        expect(y.get('a')?.get('user.long')).toBe(hex(LONG));
        expect(y.get('b')?.get('user.long')).toBe(hex('M'.repeat(100)));
        expect(y.get('d/y')?.has('user.gone') ?? false).toBe(false);
        expect(y.get('plain')?.get('user.new')).toBe(hex('N'.repeat(40)));
      });
    }
  }
});
