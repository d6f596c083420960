// The constants the TypeScript side and the C addon share, read from the C headers and compared with the
// TypeScript ones: op kinds, op flags, outcomes, preserve bits, counter slots, the pair query bits, the
// 12-double stat record, the ABI number and the batch header layout. Each C name is looked up across
// every header in native/ (not in a fixed file), so a header split that moves an enum keeps this test
// meaningful; a name found twice with two values fails too.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchWriter, OP_HEADER } from '../../src/engine/batch.js';
import { readBatch } from '../../src/engine/batch.js';
import { ADDON_ABI, META_FIELDS, statFromMeta } from '../../src/engine/native.js';
import { PairBits } from '../../src/engine/pair.js';
import * as Ops from '../../src/model/ops.js';
import * as StatBits from '../../src/model/stat.js';
import { ClockSlot } from '../../src/run/clock.js';
import { XR, XV_GEN, xattrRules, xattrView } from '../../src/plan/xattr-rules.js';
import { FilterList } from '../../src/plan/filter.js';
/** The TypeScript constants, wherever src/ keeps them. */
const T = { ...Ops, ...StatBits };
import { addonOrReason } from './engines.js';
import { REPO } from '../helpers/cli.js';

const NATIVE = join(REPO, 'native');

interface CConst {
  value: number;
  file: string;
  /** The enum body it was declared in (members of one enum share it), or undefined for a #define. */
  group: string | undefined;
}

/** A tiny evaluator for the constant expressions headers use: numbers (1u, 0x1fffu), names, <<, |, (). */
function evaluate(expr: string, known: Map<string, CConst>): number | undefined {
  const tokens = expr.match(/0x[0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|[A-Za-z_]\w*|<<|[|()+]/g) ?? [];
  if (tokens.join('') !== expr.replace(/\s+/g, '')) return undefined;
  let i = 0;
  const primary = (): number | undefined => {
    const t = tokens[i++];
    if (t === undefined) return undefined;
    if (t === '(') {
      const v = or();
      return tokens[i++] === ')' ? v : undefined;
    }
    if (/^\d|^0x/.test(t)) return Number.parseInt(t.replace(/[uUlL]+$/, ''), t.startsWith('0x') ? 16 : 10);
    return known.get(t)?.value;
  };
  const shift = (): number | undefined => {
    let v = primary();
    while (v !== undefined && (tokens[i] === '<<' || tokens[i] === '+')) {
      const op = tokens[i++];
      const r = primary();
      v = r === undefined ? undefined : op === '<<' ? v * 2 ** r : v + r;
    }
    return v;
  };
  const or = (): number | undefined => {
    let v = shift();
    while (v !== undefined && tokens[i] === '|') {
      i++;
      const r = shift();
      v = r === undefined ? undefined : (v | r) >>> 0;
    }
    return v;
  };
  const v = or();
  return i === tokens.length ? v : undefined;
}

/** Every enum member and object-like numeric #define of every header in native/. */
function parseHeaders(): { consts: Map<string, CConst>; clashes: string[] } {
  const consts = new Map<string, CConst>();
  const clashes: string[] = [];
  const add = (name: string, c: CConst): void => {
    const had = consts.get(name);
    if (had && had.value !== c.value) clashes.push(`${name} is ${had.value} in ${had.file} and ${c.value} in ${c.file}`);
    consts.set(name, c);
  };
  const files = fs.readdirSync(NATIVE).filter((f) => f.endsWith('.h')).sort();
  // Two passes: a #define may name an enum member of a header read later, and the other way round.
  for (let pass = 0; pass < 2; pass++) {
    for (const file of files) {
      const text = fs
        .readFileSync(join(NATIVE, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, ' ')
        .replace(/\/\/.*$/gm, ' ');
      for (const m of text.matchAll(/\benum\s*(\w*)\s*\{([^}]*)\}/g)) {
        const group = `${file}:${m[1] || `@${m.index}`}`;
        let next = 0;
        for (const member of m[2]!.split(',')) {
          const mm = /^\s*([A-Za-z_]\w*)\s*(?:=\s*([^]*?))?\s*$/.exec(member);
          if (!mm) continue;
          const v = mm[2] === undefined ? next : evaluate(mm[2], consts);
          if (v === undefined) continue;
          add(mm[1]!, { value: v, file, group });
          next = v + 1;
        }
      }
      for (const m of text.matchAll(/^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+([^\n]+)$/gm)) {
        const v = evaluate(m[2]!.trim(), consts);
        if (v !== undefined) add(m[1]!, { value: v, file, group: undefined });
      }
    }
  }
  return { consts, clashes };
}

const { consts, clashes } = parseHeaders();

/** The value of a C constant, failing with the name when no header in native/ declares it. */
function c(name: string): number {
  const v = consts.get(name);
  if (!v) throw new Error(`no header in native/ declares ${name}`);
  return v.value;
}

/** Each TypeScript constant of `ts` against the C name the table gives it, in one comparison. */
function expectSame(ts: Record<string, number>, names: Record<string, string>, what: string): void {
  expect(Object.keys(names).sort(), `${what}: every TypeScript member has a C name in this test`).toEqual(Object.keys(ts).sort());
  const fromC = Object.fromEntries(Object.entries(names).map(([k, n]) => [k, `${n} = ${consts.get(n)?.value ?? 'missing in native/*.h'}`]));
  const fromTs = Object.fromEntries(Object.entries(names).map(([k, n]) => [k, `${n} = ${ts[k]}`]));
  expect(fromC, `${what}: C (native/*.h) against TypeScript`).toEqual(fromTs);
}

/** The members of the C enum that declares `member` (so a C member with no TypeScript twin is seen). */
function enumOf(member: string): string[] {
  const g = consts.get(member)?.group;
  if (!g) throw new Error(`${member} is not an enum member in native/*.h`);
  return [...consts].filter(([, v]) => v.group === g).map(([k]) => k);
}

describe('C constants equal the TypeScript ones', () => {
  it('no constant is declared twice with two values across native/*.h', () => {
    expect(clashes).toEqual([]);
  });

  it('OpKind (src/model/ops.ts) = enum op_kind', () => {
    const names = {
      File: 'OP_FILE',
      Symlink: 'OP_SYMLINK',
      Special: 'OP_SPECIAL',
      Hardlink: 'OP_HARDLINK',
      Mkdir: 'OP_MKDIR',
      DirMeta: 'OP_DIRMETA',
      Attrs: 'OP_ATTRS',
      Delete: 'OP_DELETE',
      LinkFrom: 'OP_LINKFROM',
      Backup: 'OP_BACKUP',
      Delayed: 'OP_DELAYED',
      PartialUsed: 'OP_PARTIAL_USED',
    };
    expectSame(T.OpKind, names, 'OpKind');
    expect(enumOf('OP_FILE').sort()).toEqual(Object.values(names).sort());
    expect(c('OP_KIND_MAX'), 'OP_KIND_MAX is the last kind the decoder accepts').toBe(Math.max(...Object.values(T.OpKind)));
  });

  it('OpFlag = enum op_flag', () => {
    const names = {
      FollowSource: 'OF_FOLLOW_SOURCE',
      OwnerWriteOnly: 'OF_OWNER_WRITE_ONLY',
      DeletionBackup: 'OF_DELETION_BACKUP',
      Compare: 'OF_COMPARE',
      RemoveSource: 'OF_REMOVE_SOURCE',
      BackupKeep: 'OF_BACKUP_KEEP',
      GivenMode: 'OF_GIVEN_MODE',
      AfterBackup: 'OF_AFTER_BACKUP',
      Basis: 'OF_BASIS',
      Target: 'OF_TARGET',
      Device: 'OF_DEVICE',
      OwnerBits: 'OF_OWNER_BITS',
      OwnerWrite: 'OF_OWNER_WRITE',
      SetGid: 'OF_SETGID',
      VisitAcl: 'OF_VISIT_ACL',
    };
    expectSame(T.OpFlag, names, 'OpFlag');
    expect(enumOf('OF_COMPARE').sort()).toEqual(Object.values(names).sort());
    // The flags travel in one byte of the op header.
    expect(Math.max(...Object.values(T.OpFlag))).toBeLessThan(256);
  });

  it('XR (src/plan/xattr-rules.ts) = the XR_* bits of an x-rule (native/xfilter.h)', () => {
    const names = { INCLUDE: 'XR_INCLUDE', NEGATE: 'XR_NEGATE', SENDER: 'XR_SENDER', RECEIVER: 'XR_RECEIVER', WILD: 'XR_WILD' };
    expectSame(XR, names, 'XR');
    expect(enumOf('XR_WILD').sort()).toEqual(Object.values(names).sort());
    // An op's views (xattrView, native/batch.h batch_xrules_ok): a rule's bits byte stays below 32, and the
    // byte between the two views is above every one of them.
    expect(c('XV_GEN'), 'XV_GEN').toBe(XV_GEN);
    expect(Object.values(XR).reduce((a, b) => a | b, 0)).toBeLessThan(32);
    expect(XV_GEN).toBeGreaterThanOrEqual(32);
  });

  it('Outcome = enum outcome', () => {
    const names = { NotRun: 'OUT_NOT_RUN', Done: 'OUT_DONE', Equal: 'OUT_EQUAL', Failed: 'OUT_FAILED' };
    expectSame(T.Outcome, names, 'Outcome');
    expect(enumOf('OUT_DONE').sort()).toEqual(Object.values(names).sort());
  });

  it('Preserve = enum preserve, and P_ALL holds exactly its bits', () => {
    const names = {
      Perms: 'P_PERMS',
      Owner: 'P_OWNER',
      Group: 'P_GROUP',
      Times: 'P_TIMES',
      Xattrs: 'P_XATTRS',
      Acls: 'P_ACLS',
      Devices: 'P_DEVICES',
      Specials: 'P_SPECIALS',
      Sparse: 'P_SPARSE',
      Inplace: 'P_INPLACE',
      Partial: 'P_PARTIAL',
      KeepDirlinks: 'P_KEEP_DIRLINKS',
      OmitDirTimes: 'P_OMIT_DIR_TIMES',
      Fsync: 'P_FSYNC',
      Preallocate: 'P_PREALLOCATE',
      Append: 'P_APPEND',
      AppendVerify: 'P_APPEND_VERIFY',
      ReflinkNever: 'P_REFLINK_NEVER',
      ReflinkAlways: 'P_REFLINK_ALWAYS',
      Executability: 'P_EXECUTABILITY',
      OmitLinkTimes: 'P_OMIT_LINK_TIMES',
      AtimeOnRead: 'P_ATIME_ON_READ',
      Atimes: 'P_ATIMES',
      UnmungeLinks: 'P_UNMUNGE_LINKS',
      Super: 'P_SUPER',
      NoSuper: 'P_NO_SUPER',
      DelayUpdates: 'P_DELAY_UPDATES',
      FakeSuper: 'P_FAKE_SUPER',
      FakeSource: 'P_FAKE_SOURCE',
      WriteDevices: 'P_WRITE_DEVICES',
      AdoptSource: 'P_ADOPT_SOURCE',
      XattrsAll: 'P_XATTRS_ALL',
    };
    expectSame(T.Preserve, names, 'Preserve');
    // Bit 31 is a #define next to the enum (an enum constant must fit an int): it is the one member outside.
    expect([...enumOf('P_PERMS'), 'P_XATTRS_ALL'].sort()).toEqual(Object.values(names).sort());
    const all = Object.values(T.Preserve).reduce((a, b) => (a | b) >>> 0, 0);
    expect(`0x${c('P_ALL').toString(16)}`, 'P_ALL (createContext accepts only these flags)').toBe(`0x${all.toString(16)}`);
  });

  it('Counter and COUNTER_SLOTS = enum counter', () => {
    const names = {
      Files: 'C_FILES',
      Dirs: 'C_DIRS',
      Bytes: 'C_BYTES',
      Symlinks: 'C_SYMLINKS',
      Specials: 'C_SPECIALS',
      Hardlinks: 'C_HARDLINKS',
      Errors: 'C_ERRORS',
      Abort: 'C_ABORT',
      Skipped: 'C_SKIPPED',
      Deleted: 'C_DELETED',
      BwRate: 'C_BW_RATE',
      BwNext: 'C_BW_NEXT',
      Current: 'C_CURRENT',
      Batch: 'C_BATCH',
    };
    expectSame(T.Counter, names, 'Counter');
    expect(enumOf('C_FILES').sort()).toEqual([...Object.values(names), 'C_USED', 'COUNTER_SLOTS'].sort());
    expect(c('COUNTER_SLOTS'), 'COUNTER_SLOTS').toBe(T.COUNTER_SLOTS);
    expect(c('C_USED'), 'C_USED: the slots C touches').toBe(Math.max(...Object.values(T.Counter)) + 1);
    expect(c('C_USED')).toBeLessThanOrEqual(T.COUNTER_SLOTS);
    expect(c('CURRENT_SHIFT'), 'CURRENT_SHIFT: Counter.Current packing').toBe(T.CURRENT_SHIFT);
    // The run's clock keeps its own slots in the same array: no counter may land on one.
    const clock = Object.values(ClockSlot);
    expect(Object.values(T.Counter).filter((v) => clock.includes(v as never)), 'Counter slots taken by run/clock.ts').toEqual([]);
    expect(Math.max(...clock)).toBeLessThan(T.COUNTER_SLOTS);
  });

  it('PairBits (src/engine/pair.ts) = the SP_* query bits', () => {
    const names = {
      Collapse: 'SP_COLLAPSE',
      Perms: 'SP_PERMS',
      Owner: 'SP_OWNER',
      Group: 'SP_GROUP',
      Times: 'SP_TIMES',
      HardLinks: 'SP_HARDLINKS',
      Links: 'SP_LINKS',
      DirTimes: 'SP_DIR_TIMES',
    };
    expectSame(PairBits, names, 'PairBits');
    expect(enumOf('SP_COLLAPSE').sort()).toEqual(Object.values(names).sort());
  });

  it('the stat record: META_FIELDS doubles, decoded by statFromMeta in the order C fills them', () => {
    expect(c('META_FIELDS'), 'META_FIELDS').toBe(META_FIELDS);
    const addon = addonOrReason();
    if (typeof addon === 'string') return; // no addon here: the constant is all that can be checked
    const p = join(REPO, 'package.json');
    const m = addon.lstat(Buffer.from(p));
    if (!(m instanceof Float64Array)) throw new Error(`lstat ${p}: ${JSON.stringify(m)}`);
    expect(m.length).toBe(META_FIELDS);
    const st = fs.lstatSync(p, { bigint: true });
    const rdev = fs.lstatSync('/dev/null');
    const n = statFromMeta(m, 0);
    expect(n).toEqual({
      mode: Number(st.mode),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: Number(st.size),
      mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
      mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
      ino: Number(st.ino),
      dev: Number(st.dev),
      nlink: Number(st.nlink),
      rdev: 0,
      blocks: Number(st.blocks),
      atimeSec: Number(st.atimeNs / 1_000_000_000n),
    });
    const dn = addon.lstat(Buffer.from('/dev/null'));
    if (!(dn instanceof Float64Array)) throw new Error('lstat /dev/null');
    expect(statFromMeta(dn, 0).rdev, 'rdev as glibc makedev(major, minor), like Node').toBe(rdev.rdev);
  });

  it('the addon ABI: ARSYNC_ADDON_ABI = ADDON_ABI (src/engine/native.ts), and the built addon says so', () => {
    expect(c('ARSYNC_ADDON_ABI'), 'ARSYNC_ADDON_ABI').toBe(ADDON_ABI);
    const addon = addonOrReason();
    if (typeof addon !== 'string') expect(addon.abi().abi).toBe(ADDON_ABI);
  });

  it('the file type bits are the kernel\'s', () => {
    const k = fs.constants;
    expect([T.S_IFMT, T.S_IFREG, T.S_IFDIR, T.S_IFLNK, T.S_IFCHR, T.S_IFBLK, T.S_IFIFO, T.S_IFSOCK]).toEqual([
      k.S_IFMT,
      k.S_IFREG,
      k.S_IFDIR,
      k.S_IFLNK,
      k.S_IFCHR,
      k.S_IFBLK,
      k.S_IFIFO,
      k.S_IFSOCK,
    ]);
  });
});

describe('the batch layout: BatchWriter (batch.ts) writes where batch_next (native) reads', () => {
  /** `op->field = batch_u32(h + N)` / `batch_f64(h + N)` / `h[N]` in the decoder, wherever it lives. */
  function decoderOffsets(): Map<string, { offset: number; width: 'u8' | 'u16' | 'u32' | 'f64' }> {
    const out = new Map<string, { offset: number; width: 'u8' | 'u16' | 'u32' | 'f64' }>();
    // In whichever C file defines batch_next (a header today; a split may move it to a .c file).
    for (const file of fs.readdirSync(NATIVE).filter((f) => /\.[ch]$/.test(f))) {
      const text = fs.readFileSync(join(NATIVE, file), 'utf8');
      if (!/\bint\s+batch_next\s*\([^;]*\{/.test(text)) continue;
      for (const m of text.matchAll(/op->(\w+)\s*=\s*batch_(u16|u32|f64)\(h \+ (\d+)\)/g)) out.set(m[1]!, { offset: Number(m[3]), width: m[2] as 'u16' | 'u32' | 'f64' });
      for (const m of text.matchAll(/op->(\w+)\s*=\s*h\[(\d+)\]/g)) out.set(m[1]!, { offset: Number(m[2]), width: 'u8' });
    }
    return out;
  }

  it('every header field at the same offset and width, paths right after OP_HEADER', () => {
    expect(c('OP_HEADER'), 'OP_HEADER').toBe(OP_HEADER);
    const st: StatBits.Stat = {
      mode: 0o100644,
      uid: 1001,
      gid: 1002,
      size: 123_456_789,
      mtimeSec: 1_700_000_000,
      mtimeNsec: 987_654_321,
      ino: 2 ** 40 + 3,
      dev: 2 ** 33 + 5,
      nlink: 1,
      rdev: 2 ** 20 + 7,
      blocks: 0,
      atimeSec: 1_600_000_123,
    };
    const w = new BatchWriter();
    const src = Buffer.from('source/path');
    const dst = Buffer.from('dst/x');
    const xrules = xattrView(xattrRules(FilterList.fromOptions([{ kind: 'filter', value: '-x user.a' }])), null, [])!;
    w.add(T.OpKind.Special, src, dst, st, T.OpFlag.RemoveSource | T.OpFlag.FollowSource, 7, undefined, xrules);
    const b = Buffer.from(w.finish());
    // What batch.ts put in each field the C decoder reads, by the decoder's field names.
    const written: Record<string, number> = {
      kind: T.OpKind.Special,
      flags: T.OpFlag.RemoveSource | T.OpFlag.FollowSource,
      src_len: src.length,
      dst_len: dst.length,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      mtime_nsec: st.mtimeNsec,
      anchor: 7,
      size: st.size,
      mtime_sec: st.mtimeSec,
      ino: st.ino,
      dev: st.dev,
      rdev: st.rdev,
      atime_sec: st.atimeSec!,
      xrules_len: xrules.length,
    };
    const offsets = decoderOffsets();
    expect([...offsets.keys()].sort(), 'the header fields the C decoder reads').toEqual(Object.keys(written).sort());
    const readAtC = Object.fromEntries(
      [...offsets].map(([f, { offset, width }]) => [
        f,
        width === 'u8' ? b.readUInt8(offset) : width === 'u16' ? b.readUInt16LE(offset) : width === 'u32' ? b.readUInt32LE(offset) : b.readDoubleLE(offset),
      ]),
    );
    expect(readAtC, 'each field read at the C offset and width').toEqual(written);
    expect(b.subarray(OP_HEADER, OP_HEADER + src.length).equals(src)).toBe(true);
    expect(b.subarray(OP_HEADER + src.length, OP_HEADER + src.length + dst.length).equals(dst)).toBe(true);
    // The op's x-rules right after its names (no target here).
    expect(b.subarray(OP_HEADER + src.length + dst.length, OP_HEADER + src.length + dst.length + xrules.length).equals(xrules)).toBe(true);
    // Ops start on 8-byte boundaries: C advances by OP_HEADER + the body rounded up to 8.
    expect(b.length).toBe(OP_HEADER + ((src.length + dst.length + xrules.length + 7) & ~7));
  });

  it('a Target op carries its bytes after dst, counted by size; readBatch gives back what was written', () => {
    const w = new BatchWriter();
    const st = { mode: 0o120777, uid: 0, gid: 0, size: 99, mtimeSec: 1, mtimeNsec: 2, ino: 3, dev: 4, nlink: 1, rdev: 0, blocks: 0 };
    w.add(T.OpKind.Symlink, Buffer.from('s'), Buffer.from('d'), st, 0, 0, Buffer.from('target'));
    w.add(T.OpKind.File, Buffer.from('a'), Buffer.from('b'), { ...st, mode: 0o100644 });
    const ops = [...readBatch(w.finish())];
    expect(ops.map((o) => [o.kind, o.flags, String(o.src), String(o.dst), o.target && String(o.target), o.stat.size])).toEqual([
      [T.OpKind.Symlink, T.OpFlag.Target, 's', 'd', 'target', 6],
      [T.OpKind.File, 0, 'a', 'b', undefined, 99],
    ]);
  });

  it('an op\'s x-rules follow its target, counted by the header\'s u16; readBatch gives them back', () => {
    const w = new BatchWriter();
    const st = { mode: 0o120777, uid: 0, gid: 0, size: 99, mtimeSec: 1, mtimeNsec: 2, ino: 3, dev: 4, nlink: 1, rdev: 0, blocks: 0 };
    const x = Buffer.from([XR.WILD, 0x75, 0x2e, 0x2a, 0, XV_GEN, 0, 0x75, 0]);
    w.add(T.OpKind.Symlink, Buffer.from('s'), Buffer.from('d'), st, 0, 0, Buffer.from('target'), x);
    w.add(T.OpKind.Attrs, Buffer.from('a'), Buffer.from('b'), { ...st, mode: 0o100644 }, 0, 0, undefined, x);
    w.add(T.OpKind.File, Buffer.from('c'), Buffer.from('e'), { ...st, mode: 0o100644 });
    const ops = [...readBatch(w.finish())];
    expect(ops.map((o) => [String(o.src), o.target && String(o.target), o.xrules && Buffer.compare(o.xrules, x)])).toEqual([
      ['s', 'target', 0],
      ['a', undefined, 0],
      ['c', undefined, undefined],
    ]);
  });
});
