// The file-list encoder (flist-send.ts) against the decoder (flist.ts): every field of every entry of a
// walked tree comes back as it went, in both flag encodings (varint flags, rsync 3.2+; one or two
// bytes, rsync 3.1), with hard-link groups, devices, symlinks, -c sums, the I/O-error flags and the id
// lists. That a real `rsync --server` reads the same bytes is test/e2e/remote-push.test.ts.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FlistDecoder, sortAndClean, type FlistEnd, type RemoteEntry } from '../../../src/remote/flist.js';
import { encodeFlist, sortForSend, type EncodeOptions, type SendEntry } from '../../../src/remote/flist-send.js';
import { Cursor } from '../../../src/remote/wire.js';
import { walkSources } from '../../../src/run/push-source.js';
import { parseArgs } from '../../../src/cli/options.js';
import { nodeEngine, type Engine } from '../../../src/engine/engine.js';
import { selectEngine } from '../../../src/engine/index.js';

// The push walks with the run's engine: node:fs, and the addon's getdents64+statx when it is built.
const native = selectEngine('sync');
const engines: [string, Engine][] = [['node', nodeEngine()], ...('error' in native ? [] : [['sync', native] as [string, Engine]])];

let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-flistsend-'));
  const w = (rel: string, data = rel): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), data);
  };
  for (const f of ['a', 'b', 'dir/c', 'dir/sub/d', 'dir.x/e', `${'x'.repeat(200)}/${'y'.repeat(200)}`, 'same-prefix-1', 'same-prefix-2']) w(f);
  fs.linkSync(path.join(root, 'a'), path.join(root, 'dir', 'a-link'));
  fs.linkSync(path.join(root, 'a'), path.join(root, 'dir', 'sub', 'a-link2'));
  fs.symlinkSync('dir/c', path.join(root, 'ln'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  execFileSync('mknod', [path.join(root, 'null'), 'c', '1', '3']);
  fs.chownSync(path.join(root, 'b'), 65534, 65534);
  fs.utimesSync(path.join(root, 'dir', 'c'), 1_600_000_000.123456, 1_600_000_000.123456);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function decode(wire: Buffer, o: EncodeOptions): { entries: RemoteEntry[]; end: FlistEnd; users: Map<number, Buffer>; rest: number } {
  const d = new FlistDecoder({ ...o, atimes: false, relative: false, safeFlist: true });
  const c = new Cursor(wire);
  for (;;) {
    const got = d.next(c);
    if ('end' in got) {
      d.idLists(c);
      return { entries: d.entries, end: got, users: d.userNames, rest: c.left };
    }
  }
}

const names = new Map([[0, 'root'], [65534, 'nobody']]);

it.each(engines.flatMap(([n]) => [true, false].map((v) => [n, v] as const)))('decodes what it encodes, field by field (%s walk, varint flags: %s)', (name, varintFlags) => {
  const engine = engines.find(([n]) => n === name)![1];
  const parsed = parseArgs(['node', 'arsync', '-rlHDog', `${root}/`, `${root}-dst`]);
  if (parsed.kind !== 'run') throw new Error(parsed.kind);
  const walk = walkSources(parsed.config, engine);
  const entries: SendEntry[] = walk.entries;
  // A hard link after the first of its group carries nothing of its own: its sum is the group's.
  const firsts = new Map<string, number>();
  entries.forEach((e, i) => {
    const g = e.devIno === undefined ? i : (firsts.get(e.devIno) ?? (firsts.set(e.devIno, i), i));
    if (e.mode >> 12 === 0o10) e.sum = Buffer.alloc(16, g);
  });
  const o: EncodeOptions = {
    protocol: 31,
    varintFlags,
    uid: true,
    gid: true,
    links: true,
    devices: true,
    specials: true,
    hardLinks: true,
    checksumLen: 16,
    numericIds: false,
    id0Names: true,
    userName: (id) => (names.has(id) ? Buffer.from(names.get(id)!) : undefined),
    groupName: (id) => (names.has(id) ? Buffer.from(names.get(id)!) : undefined),
  };
  const got = decode(encodeFlist(entries, o, 5), o);
  expect(got.rest).toBe(0);
  expect(got.end.ioError).toBe(5);
  expect(got.entries.map((e) => e.name.toString())).toEqual(entries.map((e) => e.name.toString()));
  // The order sent is rsync's sorted order: the receiver's sort leaves it as it is.
  expect(sortAndClean(got.entries).map((e) => e?.name.toString())).toEqual(entries.map((e) => e.name.toString()));
  for (const [i, e] of entries.entries()) {
    const r = got.entries[i]!;
    expect({ mode: r.mode, size: r.size, mtime: r.mtime, nsec: r.mtimeNsec, uid: r.uid, gid: r.gid }).toEqual({
      mode: e.mode,
      size: (e.mode & 0o170000) === 0o020000 || (e.mode & 0o170000) === 0o010000 ? 0 : e.size,
      mtime: e.mtime,
      nsec: e.mtimeNsec,
      uid: e.uid,
      gid: e.gid,
    });
    if (e.link) expect(r.link?.toString()).toBe(e.link.toString());
    if (e.rdev) expect(r.rdev).toEqual(e.rdev);
    if (e.sum) expect(r.sum).toEqual(e.sum);
    expect(r.topDir).toBe(e.name.toString() === '.');
  }
  const group = (n: string): number | undefined => got.entries.find((e) => e.name.toString() === n)!.hlinkGroup;
  expect(group('a')).toBeDefined();
  expect(group('dir/a-link')).toBe(group('a'));
  expect(group('dir/sub/a-link2')).toBe(group('a'));
  expect(got.entries.find((e) => e.name.toString() === 'null')!.rdev).toEqual({ major: 1, minor: 3 });
  expect(got.users.get(65534)?.toString()).toBe('nobody');
  expect(got.users.get(0)?.toString()).toBe('root');
});

it('drops a repeated name, keeping the first, as rsync clears duplicates', () => {
  const e = (name: string, mode: number): SendEntry => ({ name: Buffer.from(name), path: Buffer.from(name), mode, size: 0, mtime: 0, mtimeNsec: 0, topDir: false });
  const sorted = sortForSend([e('b', 0o100644), e('a/x', 0o100644), e('a', 0o040755), e('b', 0o100600), e('.', 0o040755)]);
  expect(sorted.map((x) => `${x.name}:${x.mode.toString(8)}`)).toEqual(['.:40755', 'b:100644', 'a:40755', 'a/x:100644']);
});

it.each([true, false])('-A: every entry but a symlink carries its ACLs, hard links too, and their ids are named without -o/-g (varint flags: %s)', (varintFlags) => {
  const parsed = parseArgs(['node', 'arsync', '-rlHDA', `${root}/`, `${root}-dst`]);
  if (parsed.kind !== 'run') throw new Error(parsed.kind);
  const entries: SendEntry[] = walkSources(parsed.config, engines[0]![1]).entries;
  const named = { userObj: 6, groupObj: 4, maskObj: 6, otherObj: 4, names: [{ id: 65534, perms: 6, user: true }, { id: 7, perms: 4, user: false }] };
  for (const e of entries) {
    if (e.name.toString() === 'a' || e.name.toString().endsWith('a-link')) e.aclsRead = { access: named };
    if (e.name.toString() === 'dir') e.aclsRead = { def: { ...named, userObj: 7, otherObj: 5 } };
  }
  const o: EncodeOptions = {
    protocol: 31,
    varintFlags,
    uid: false,
    gid: false,
    links: true,
    devices: true,
    specials: true,
    hardLinks: true,
    checksumLen: 0,
    numericIds: false,
    id0Names: true,
    acls: true,
    userName: (id) => (names.has(id) ? Buffer.from(names.get(id)!) : undefined),
    groupName: (id) => (id === 7 ? Buffer.from('seven') : undefined),
  };
  const d = new FlistDecoder({ ...o, atimes: false, relative: false, safeFlist: true });
  const c = new Cursor(encodeFlist(entries, o, 0));
  while (!('end' in d.next(c)));
  d.idLists(c);
  expect(c.left).toBe(0);
  const by = (n: string): RemoteEntry => d.entries.find((e) => e.name.toString() === n)!;
  expect(by('ln').acls).toBeUndefined();
  for (const n of ['a', 'dir/a-link']) expect(by(n).acls!.access.names).toEqual(named.names);
  // The third name of the group was read without an ACL: it goes with the one its mode implies.
  expect(by('dir/sub/a-link2').acls!.access.names).toEqual([]);
  expect(by('b').acls!.access.names).toEqual([]);
  expect(by('dir').acls!.def!.names).toEqual(named.names);
  expect(by('dir/sub').acls!.def!.userObj).toBe(0x80);
  expect(d.userNames.get(65534)?.toString()).toBe('nobody');
  expect(d.groupNames.get(7)?.toString()).toBe('seven');
});

it.each([true, false])('-U: access times go with every non-directory, left out when equal to the previous one (varint flags: %s)', (varintFlags) => {
  const e = (name: string, mode: number, atime: number): SendEntry => ({ name: Buffer.from(name), path: Buffer.from(name), mode, size: 1, mtime: 1_600_000_000, mtimeNsec: 0, topDir: false, atime });
  const entries = [e('.', 0o040755, 0), e('a', 0o100644, 1_300_000_000), e('b', 0o100644, 1_300_000_000), e('c', 0o100644, 1_200_000_000), e('d', 0o040755, 5), e('d/x', 0o100644, 1_200_000_000)];
  const o: EncodeOptions = { protocol: 31, varintFlags, uid: false, gid: false, links: true, devices: false, specials: false, hardLinks: false, checksumLen: 0, numericIds: true, id0Names: false, atimes: true, userName: () => undefined, groupName: () => undefined };
  const wire = encodeFlist(entries, o, 0);
  const d = new FlistDecoder({ ...o, atimes: true, relative: false, safeFlist: true });
  const c = new Cursor(wire);
  while (!('end' in d.next(c)));
  expect(d.entries.map((x) => [x.name.toString(), x.atime])).toEqual([['.', undefined], ['a', 1_300_000_000], ['b', 1_300_000_000], ['c', 1_200_000_000], ['d', undefined], ['d/x', 1_200_000_000]]);
  // The same time again costs no bytes: without -U the list is shorter by exactly the times sent (three).
  const without = encodeFlist(entries, { ...o, atimes: false }, 0);
  expect(wire.length).toBeGreaterThan(without.length);
  expect(wire.length - without.length).toBeLessThanOrEqual(3 * 5 + (varintFlags ? 0 : 5));
});
