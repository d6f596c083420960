// A push's list in C (native/flistwalk.c, native/flistenc.c, run/push-native.ts) against the TypeScript
// walk (run/push-source.ts) and encoder (remote/flist-send.ts encodeFlist): the same entries in the same
// order, and the same bytes on the wire for every combination of the fields the C encoder writes, the
// id lists after them included. The constants TypeScript reads the addon's arrays by are parsed from the
// C headers. That rsync itself reads the bytes is test/e2e/remote-push*.test.ts.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFlist, sortForSend, type EncodeOptions, type SendEntry } from '../../src/remote/flist-send.js';
import { walkSources, type PushWalk } from '../../src/run/push-source.js';
import { Fle, Flw, FlwError } from '../../src/run/push-native.js';
import { parseArgs } from '../../src/cli/options.js';
import type { Engine } from '../../src/engine/engine.js';
import { selectEngine } from '../../src/engine/index.js';

const native = selectEngine('sync');
const nativeEngine = 'error' in native ? undefined : native;
const src = path.join(__dirname, '../../native');

/** `NAME = value` of a C enum in `file`, by the names' prefix. */
function cEnum(file: string, prefix: string): Map<string, number> {
  const text = fs.readFileSync(path.join(src, file), 'utf8');
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`\\b(${prefix}[A-Z_]+)\\s*=\\s*(\\d+)`, 'g'))) out.set(m[1]!, Number(m[2]));
  return out;
}

it('reads the arrays by the places and bits the C headers define', () => {
  const flw = cEnum('flistwalk.h', 'FLW_');
  const places: Record<keyof typeof Flw, string> = {
    Mode: 'FLW_MODE', Size: 'FLW_SIZE', Mtime: 'FLW_MTIME', Nsec: 'FLW_NSEC', Uid: 'FLW_UID', Gid: 'FLW_GID', Dev: 'FLW_DEV',
    Ino: 'FLW_INO', RdevMajor: 'FLW_RMAJOR', RdevMinor: 'FLW_RMINOR', Fields: 'FLW_FIELDS',
  };
  for (const [k, c] of Object.entries(places)) expect([k, flw.get(c)]).toEqual([k, Flw[k as keyof typeof Flw]]);
  for (const [k, v] of Object.entries(FlwError)) expect([k, flw.get(`FLW_ERR_${k.toUpperCase()}`)]).toEqual([k, v]);
  const fle = cEnum('flistenc.h', 'FLE_');
  const bits: Record<keyof typeof Fle, string> = {
    VarintFlags: 'FLE_VARINT_FLAGS', Uid: 'FLE_UID', Gid: 'FLE_GID', Links: 'FLE_LINKS', Devices: 'FLE_DEVICES', Specials: 'FLE_SPECIALS', NumericIds: 'FLE_NUMERIC_IDS',
  };
  expect(fle.size).toBe(Object.keys(bits).length);
  for (const [k, c] of Object.entries(bits)) expect([k, fle.get(c)]).toEqual([k, Fle[k as keyof typeof Fle]]);
});

describe.skipIf(!nativeEngine)('the addon lists and encodes a push as the TypeScript walk and encoder do', () => {
  const engine = nativeEngine as Engine;
  const tsEngine: Engine = { ...engine, sendList: undefined };
  let root: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-flistenc-'));
    const w = (rel: string, data = rel): void => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), data);
    };
    // Names that sort differently as files and as directories ("a" < "a-b" < "a.b" < "a/"), shared
    // prefixes past 255 bytes, a long name, bytes that are not UTF-8, a wide directory.
    for (const f of ['a/f', 'a-b/g', 'a.b', 'a0/x', 'b', 'dir/c', 'dir/sub/d', 'dir.x/e', 'same-prefix-1', 'same-prefix-2']) w(f);
    w(`${'x'.repeat(250)}/${'y'.repeat(240)}`);
    w(`${'x'.repeat(250)}/${'y'.repeat(240)}z`);
    w(`long/${'n'.repeat(255)}`);
    for (let i = 0; i < 300; i++) w(`wide/f${(i * 7919) % 1000}`);
    fs.writeFileSync(Buffer.from(path.join(root, 'latin-\xe9\xff'), 'latin1'), 'bytes');
    fs.mkdirSync(path.join(root, 'empty'));
    fs.symlinkSync('dir/c', path.join(root, 'ln'));
    fs.symlinkSync('../nowhere', path.join(root, 'dir', 'dangling'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    execFileSync('mknod', [path.join(root, 'null'), 'c', '1', '3']);
    execFileSync('mknod', [path.join(root, 'dir', 'blk'), 'b', '7', '200']);
    execFileSync('mknod', [path.join(root, 'dir', 'zero'), 'c', '1', '5']);
    fs.chownSync(path.join(root, 'b'), 65534, 65534);
    fs.chownSync(path.join(root, 'dir', 'c'), 7, 0);
    fs.chmodSync(path.join(root, 'a.b'), 0o600);
    fs.utimesSync(path.join(root, 'dir', 'c'), 1_600_000_000.123456, 1_600_000_000.123456);
    fs.utimesSync(path.join(root, 'b'), -100, 5_000_000_000);
    fs.truncateSync(path.join(root, 'same-prefix-2'), 6 * 1024 ** 3);
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const walk = (e: Engine, args: string[]): PushWalk => {
    const parsed = parseArgs(['node', 'arsync', ...args, `${root}-dst`]);
    if (parsed.kind !== 'run') throw new Error(parsed.kind);
    return walkSources(parsed.config, e);
  };
  const fields = (e: SendEntry): unknown[] => [
    e.name.toString('latin1'), e.mode, e.size, e.mtime, e.mtimeNsec, e.uid, e.gid, e.link?.toString('latin1'), e.rdev,
    e.topDir, Boolean(e.contentDir), e.path.toString('latin1'), (e as { dev?: number }).dev, (e as { ino?: number }).ino,
  ];

  it.each([['-a', `/`], ['-a', ''], ['-rlptgoD', '/.']])('the same entries in rsync order (%s, operand ending "%s")', (opt, tail) => {
    const a = walk(tsEngine, [opt, `${root}${tail}`]);
    const b = walk(engine, [opt, `${root}${tail}`]);
    expect(b.encodeList).toBeDefined();
    expect(a.encodeList).toBeUndefined();
    expect(b.entries.map(fields)).toEqual(a.entries.map(fields));
    expect(b.ioError).toBe(a.ioError);
    expect(b.messages).toEqual(a.messages);
    // Already in the order sortForSend would give.
    expect(sortForSend(b.entries.slice(), true).map((e) => e.name.toString('latin1'))).toEqual(b.entries.map((e) => e.name.toString('latin1')));
  });

  const userName = (id: number): Buffer | undefined => (id === 65534 ? Buffer.from('nobody') : id === 0 ? Buffer.from('root') : undefined);
  const groupName = (id: number): Buffer | undefined => (id === 65534 ? Buffer.from('nogroup') : id === 0 ? Buffer.from('root') : undefined);
  const combos: [string, Partial<EncodeOptions>][] = [];
  for (const protocol of [30, 31, 32])
    for (const varintFlags of [true, false])
      for (const ids of [0, 1, 2, 3])
        for (const numericIds of [false, true])
          combos.push([
            `protocol ${protocol}, varint ${varintFlags}, ids ${ids}, numeric ${numericIds}`,
            { protocol, varintFlags, uid: (ids & 1) !== 0, gid: (ids & 2) !== 0, numericIds, id0Names: protocol > 30 },
          ]);
  for (const [links, devices, specials] of [[false, false, false], [true, false, true], [false, true, false]])
    combos.push([`links ${links}, devices ${devices}, specials ${specials}`, { protocol: 30, varintFlags: false, uid: true, gid: true, links, devices, specials, numericIds: false, id0Names: false }]);

  it.each(combos)('the same bytes (%s)', (_, part) => {
    const b = walk(engine, ['-a', `${root}/`]);
    const o: EncodeOptions = {
      protocol: 31, varintFlags: true, uid: true, gid: true, links: true, devices: true, specials: true, hardLinks: false,
      checksumLen: 0, numericIds: false, id0Names: true, userName, groupName, ...part,
    };
    const ours = b.encodeList!(o, 3);
    expect(ours).toBeDefined();
    const theirs = encodeFlist(walk(tsEngine, ['-a', `${root}/`]).entries, o, 3).toString('hex');
    expect(ours!.toString('hex')).toBe(theirs);
    // The addon's entries read through encodeFlist too (a batch, or options the addon leaves to it).
    expect(encodeFlist(b.entries, o, 3).toString('hex')).toBe(theirs);
  });

  it('leaves to encodeFlist what the addon does not encode', () => {
    const b = walk(engine, ['-a', `${root}/`]);
    const o: EncodeOptions = {
      protocol: 31, varintFlags: true, uid: true, gid: true, links: true, devices: true, specials: true, hardLinks: false,
      checksumLen: 0, numericIds: false, id0Names: true, userName, groupName,
    };
    for (const more of [{ hardLinks: true }, { checksumLen: 16 }, { atimes: true }, { acls: true }]) expect(b.encodeList!({ ...o, ...more }, 0)).toBeUndefined();
  });

  it('walks a tree deeper than a frame per level could, and leaves one past PATH_MAX to the TypeScript walk', () => {
    // 900 levels (names of 1,800 bytes, a descriptor each: under the usual limit of 1,024) fit the addon's walk; 2,100 (4,200 bytes) do not, and the push
    // falls back to the TypeScript walk, which reaches them a chunk at a time.
    for (const [levels, native] of [[900, true], [2100, false]] as const) {
      const deep = `${root}-deep${levels}`;
      fs.mkdirSync(deep);
      // Made a level at a time relative to the last (a path this long cannot be named whole).
      const make = `process.chdir(process.argv[1]); for (let i = 0; i < ${levels}; i++) { fs.mkdirSync('d'); process.chdir('d'); } fs.writeFileSync('f', 'x');`;
      execFileSync(process.execPath, ['-e', make, deep]);
      const a = walk(tsEngine, ['-a', `${deep}/`]);
      const b = walk(engine, ['-a', `${deep}/`]);
      expect(b.encodeList !== undefined).toBe(native);
      expect(b.entries.length).toBe(levels + 2);
      expect(b.entries.map(fields)).toEqual(a.entries.map(fields));
      execFileSync('rm', ['-rf', deep]);
    }
  });

  it('takes the TypeScript walk for what the addon does not walk', () => {
    for (const args of [['-aH'], ['-a', '--exclude=b'], ['-aL'], ['-ax'], ['-aR'], ['-d'], ['-aU']]) {
      expect([args, walk(engine, [...args, `${root}/`]).encodeList]).toEqual([args, undefined]);
    }
    expect(walk(engine, ['-a', `${root}/`, `${root}/dir`]).encodeList).toBeUndefined();
  });
});
