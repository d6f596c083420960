// remote/acl-list.ts: the kernel's ACL values to rsync's ACLs and back, what the sender strips, the
// index caches on both sides, and the decoder's bounds and retry-safety.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AclDecoder, AclEncoder, NO_ENTRY, fromKernel, fromRecord, stripForSend, toKernel, type RsyncAcl } from '../../../src/remote/acl-list.js';
import { ByteWriter } from '../../../src/remote/byte-writer.js';
import { Cursor, ProtocolError, Short, varint } from '../../../src/remote/wire.js';
import { Exit } from '../../../src/util/errors.js';

const same = (id: number): number => id;

/** The kernel's value of a file's ACL after `setfacl args` (getfattr prints it in hex). */
function kernelAcl(args: string[], mode = 0o644, name = 'system.posix_acl_access', dir = false): Buffer | undefined {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-acl-unit-'));
  try {
    const p = path.join(root, 'x');
    if (dir) fs.mkdirSync(p);
    else fs.writeFileSync(p, '');
    fs.chmodSync(p, mode);
    if (args.length) execFileSync('setfacl', [...args, p]);
    const out = execFileSync('getfattr', ['-e', 'hex', '-n', name, p], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const hex = /=0x([0-9a-f]+)/.exec(out)?.[1];
    return hex ? Buffer.from(hex, 'hex') : undefined;
  } catch {
    return undefined;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const acl = (o: Partial<RsyncAcl>): RsyncAcl => ({ userObj: NO_ENTRY, groupObj: NO_ENTRY, maskObj: NO_ENTRY, otherObj: NO_ENTRY, names: [], ...o });

describe('kernel values', () => {
  it('reads named users and groups, the mask and the objects, and writes back the same bytes', () => {
    const v = kernelAcl(['-m', 'u:7:rw,u:3:r,g:9:x,m::rwx'], 0o640)!;
    const a = fromKernel(v);
    expect(a).toEqual({ userObj: 6, groupObj: 4, maskObj: 7, otherObj: 0, names: [{ id: 3, perms: 4, user: true }, { id: 7, perms: 6, user: true }, { id: 9, perms: 1, user: false }] });
    // The mode after setfacl: g = the mask.
    expect(toKernel(a, 0o670, false, same)).toEqual(v);
  });

  it('fills an owning group the sender left out from the final mode (after --chmod), and keeps one it sent', () => {
    const left = acl({ maskObj: 4, names: [{ id: 3, perms: 6, user: true }] });
    expect(fromKernel(toKernel(left, 0o640, false, same, 0o660)!).groupObj).toBe(6);
    expect(fromKernel(toKernel(left, 0o640, false, same)!).groupObj).toBe(4);
    expect(fromKernel(toKernel({ ...left, groupObj: 5 }, 0o640, false, same, 0o600)!).groupObj).toBe(5);
  });

  it('gives no access value when the mode says everything, and none for an absent default ACL', () => {
    expect(toKernel(acl({}), 0o644, false, same)).toBeUndefined();
    expect(toKernel(acl({ groupObj: 4 }), 0o644, false, same)).toBeUndefined();
    expect(toKernel(acl({}), 0o755, true, same)).toBeUndefined();
  });

  it('a default ACL is written as sent, sorted as the kernel wants, with the ids mapped', () => {
    const want = kernelAcl(['-d', '-m', 'u:5:rwx,g:6:rx'], 0o755, 'system.posix_acl_default', true)!;
    const sent = fromKernel(want);
    // Named groups before named users in the list: the kernel still gets them by tag, then id.
    sent.names.reverse();
    expect(toKernel(sent, 0o755, true, same)).toEqual(want);
    const mapped = fromKernel(toKernel(sent, 0o755, true, (id, user) => (user ? id + 100 : id))!);
    expect(mapped.names).toEqual([{ id: 105, perms: 7, user: true }, { id: 6, perms: 5, user: false }]);
  });

  it('refuses a value that is not a POSIX ACL', () => {
    expect(() => fromKernel(Buffer.from([1, 0, 0, 0]))).toThrow();
    expect(() => fromKernel(Buffer.from([2, 0, 0, 0, 1]))).toThrow();
  });
});

describe('what the sender strips (rsync_acl_strip_perms)', () => {
  it('keeps the named entries, and the owning group and the mask only where they differ from the mode', () => {
    const a = acl({ userObj: 6, groupObj: 4, maskObj: 6, otherObj: 4, names: [{ id: 1, perms: 6, user: true }] });
    expect(stripForSend(a, 0o664)).toEqual(acl({ groupObj: 4, names: a.names }));
    expect(stripForSend(a, 0o644)).toEqual(acl({ maskObj: 6, names: a.names }));
    expect(stripForSend({ ...a, groupObj: 6 }, 0o664)).toEqual(acl({ names: a.names }));
  });

  it('keeps the owning group when a mask stands in its place and they differ', () => {
    const a = acl({ userObj: 6, groupObj: 4, maskObj: 7, otherObj: 4, names: [{ id: 4, perms: 6, user: true }] });
    expect(stripForSend(a, 0o674)).toEqual(acl({ groupObj: 4, names: a.names }));
  });

  it('an entry without an ACL sends nothing but its (empty) mode-made ACL', () => {
    expect(stripForSend(undefined, 0o751)).toEqual(acl({}));
  });
});

/** Encodes entries' ACLs one after the other; returns each entry's bytes. */
function encodeAll(list: { mode: number; access?: RsyncAcl; def?: RsyncAcl; dir?: boolean }[], names: [number, boolean][] = []): Buffer[] {
  const enc = new AclEncoder();
  return list.map((e) => {
    const out = new ByteWriter();
    enc.encode(out, e.mode, { ...(e.access ? { access: e.access } : {}), ...(e.def ? { def: e.def } : {}) }, e.dir ?? false, (id, user) => {
      names.push([id, user]);
      return undefined;
    });
    return Buffer.from(out.take());
  });
}

describe('the caches', () => {
  const shared = acl({ userObj: 6, groupObj: 4, maskObj: 6, otherObj: 4, names: [{ id: 65534, perms: 6, user: true }, { id: 100, perms: 4, user: false }] });

  it('an ACL sent once goes by its index after that; names are announced once', () => {
    const names: [number, boolean][] = [];
    const bytes = encodeAll([{ mode: 0o664, access: shared }, { mode: 0o664, access: shared }, { mode: 0o644 }, { mode: 0o664, access: shared }, { mode: 0o600 }], names);
    expect(bytes[0]![0]).toBe(0); // new
    expect(bytes[1]).toEqual(varint(1)); // index 0, plus one
    expect(bytes[2]![0]).toBe(0); // the empty ACL: new once
    expect(bytes[3]).toEqual(varint(1));
    expect(bytes[4]).toEqual(varint(2)); // the empty ACL again, whatever the mode
    expect(names).toEqual([[65534, true], [100, false]]);
  });

  it('the decoder rebuilds what the encoder sent, the access mask from the mode', () => {
    const dirDef = acl({ userObj: 7, groupObj: 5, otherObj: 5, names: [{ id: 3, perms: 4, user: true }] });
    const list = [
      { mode: 0o100664, access: shared },
      { mode: 0o040755, dir: true, def: dirDef },
      { mode: 0o100664, access: shared },
      { mode: 0o040700, dir: true, def: dirDef },
    ];
    const bytes = Buffer.concat(encodeAll(list));
    const dec = new AclDecoder();
    const c = new Cursor(bytes);
    const got = list.map((e) => {
      const r = dec.decode(c, e.mode, e.dir ?? false);
      r.commit();
      return r.acls;
    });
    expect(c.left).toBe(0);
    expect(got[0]!.access).toEqual(acl({ groupObj: 4, maskObj: 6, names: shared.names }));
    expect(got[2]!.access).toBe(got[0]!.access);
    // A default ACL with names and no mask gets one covering the names and the owning group.
    expect(got[1]!.def).toEqual({ ...dirDef, maskObj: 5 });
    expect(got[3]!.def).toBe(got[1]!.def);
    expect(toKernel(got[0]!.access, 0o664, false, same)).toEqual(toKernel(shared, 0o664, false, same));
  });

  it('a short read leaves the caches as they were', () => {
    const bytes = Buffer.concat(encodeAll([{ mode: 0o664, access: shared }]));
    const dec = new AclDecoder();
    expect(() => dec.decode(new Cursor(bytes.subarray(0, bytes.length - 1)), 0o100664, false)).toThrow(Short);
    // Nothing was cached: index 1 is still unknown.
    expect(() => dec.decode(new Cursor(varint(1)), 0o100664, false)).toThrow(/ACL index 1 > 0/);
    dec.decode(new Cursor(bytes), 0o100664, false).commit();
    expect(dec.decode(new Cursor(varint(1)), 0o100664, false).acls.access.names).toEqual(shared.names);
  });
});

describe('a hostile sender', () => {
  const fails = (bytes: Buffer, code: number, msg: RegExp): void => {
    let err: unknown;
    try {
      new AclDecoder().decode(new Cursor(bytes), 0o100644, false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(code);
    expect((err as Error).message).toMatch(msg);
  };

  it('an index past the cache is a broken stream (12)', () => fails(varint(3), Exit.StreamIO, /ACL_TYPE_ACCESS ACL index 3 > 0/));
  it('a negative index too', () => fails(varint(-1), Exit.StreamIO, /ACL index -1/));
  it('more named entries than rsync allows is a protocol error (2)', () => fails(Buffer.concat([varint(0), Buffer.from([0x10]), varint(65537)]), Exit.Protocol, /ACL count out of range: 65537/));
  it('permission bits out of range are a broken stream', () => {
    fails(Buffer.concat([varint(0), Buffer.from([0x04]), varint(8)]), Exit.StreamIO, /value out of range/);
    fails(Buffer.concat([varint(0), Buffer.from([0x10]), varint(1), varint(5), varint(8 << 2)]), Exit.StreamIO, /value out of range/);
  });
  it('a name inline (incremental recursion, never asked for) is refused', () =>
    fails(Buffer.concat([varint(0), Buffer.from([0x10]), varint(1), varint(5), varint((4 << 2) | 1)]), Exit.Protocol, /inline/));
  it("a name inline is read where one may be (a batch's incremental list): the name told, the entry kept", () => {
    const named: [number, boolean, string][] = [];
    const bytes = Buffer.concat([varint(0), Buffer.from([0x10]), varint(1), varint(5), varint((4 << 2) | 3), Buffer.from([6]), Buffer.from('nobody')]);
    const got = new AclDecoder((id, user, name) => named.push([id, user, name.toString()])).decode(new Cursor(bytes), 0o100644, false);
    expect(named).toEqual([[5, true, 'nobody']]);
    expect(got.acls.access.names).toEqual([{ id: 5, perms: 4, user: true }]);
  });

  it('under incremental recursion a name the encoder is handed follows its id inline, the first time only', () => {
    const enc = new AclEncoder();
    const seen = new Set<number>();
    const named = (id: number): Buffer | undefined => (seen.has(id) ? undefined : (seen.add(id), Buffer.from('nobody')));
    const acl: RsyncAcl = { userObj: 6, groupObj: 4, maskObj: 4, otherObj: 4, names: [{ id: 65534, perms: 4, user: true }] };
    const out = new ByteWriter();
    enc.encode(out, 0o100644, { access: acl }, false, named);
    const bytes = Buffer.from(out.take());
    // The id, then its bits with XFLAG_NAME_FOLLOWS (1) and XFLAG_NAME_IS_USER (2), the length and the name.
    expect(bytes.subarray(bytes.length - 8)).toEqual(Buffer.concat([Buffer.from([(4 << 2) | 3, 6]), Buffer.from('nobody')]));
    // Another ACL with that id carries no name.
    const again = new ByteWriter();
    enc.encode(again, 0o100644, { access: { ...acl, names: [{ id: 65534, perms: 6, user: true }] } }, false, named);
    const b2 = Buffer.from(again.take());
    expect(b2[b2.length - 1]).toBe((6 << 2) | 2);
  });
});

describe('fromRecord', () => {
  const record = (obj: number[], names: [number, number][]): Buffer => {
    const b = Buffer.alloc(16 + names.length * 8);
    obj.forEach((v, i) => b.writeUInt32LE(v, i * 4));
    names.forEach(([id, perms], i) => {
      b.writeUInt32LE(id, 16 + i * 8);
      b.writeUInt32LE(perms >>> 0, 20 + i * 8);
    });
    return b;
  };
  it('fills the entries a record leaves out from the mode, all but the mask', () => {
    const acl = fromRecord(record([NO_ENTRY, NO_ENTRY, 4, NO_ENTRY], [[1, 0x8000_0004], [4, 6]]), 0o751);
    expect(acl).toEqual({ userObj: 7, groupObj: 5, maskObj: 4, otherObj: 1, names: [{ id: 1, perms: 4, user: true }, { id: 4, perms: 6, user: false }] });
  });
  it('keeps the entries a record names, and a mask it leaves out stays out', () => {
    expect(fromRecord(record([7, 5, NO_ENTRY, 0], []), 0o644)).toEqual({ userObj: 7, groupObj: 5, maskObj: NO_ENTRY, otherObj: 0, names: [] });
  });
  it('refuses a record of the wrong length', () => {
    expect(() => fromRecord(Buffer.alloc(15), 0o644)).toThrow();
    expect(() => fromRecord(Buffer.alloc(20), 0o644)).toThrow();
  });
});
