// rsync's rule for what of an access ACL the mode bits already say is implemented twice: in C for
// --fake-super's user.rsync.%aacl record (native/fakesuper.c, the ACL a receiver keeps), and in
// TypeScript for the file list of a push and a pull (remote/acl-list.ts: the sender strips, the receiver
// puts back the mask a name list needs). The record is exactly what rsync's receiver holds after the wire,
// so for every ACL the two must agree: a local `-aA -M--fake-super` copy's record against the TypeScript
// strip, encode and decode of the same kernel value.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AclDecoder, AclEncoder, NO_ENTRY, fromKernel } from '../../src/remote/acl-list.js';
import { ByteWriter } from '../../src/remote/byte-writer.js';
import { Cursor } from '../../src/remote/wire.js';
import { BIN, isBuilt } from '../helpers/cli.js';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-aclstrip-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const CASES: [string, number, string[]][] = [
  ['named', 0o644, ['-m', 'u:65534:rw,g:100:r']],
  ['mask-below', 0o644, ['-m', 'u:1:rwx,g:2:rx,m::r']],
  ['group-differs', 0o644, ['-m', 'u:4:rw,g::r,m::rwx']],
  ['mask-only', 0o640, ['-m', 'm::r']],
  ['group-only', 0o600, ['-m', 'g:7:rwx']],
  ['plain', 0o751, []],
];

const hex = (p: string, name: string): Buffer | undefined => {
  try {
    const out = execFileSync('getfattr', ['-e', 'hex', '-n', name, p], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const h = /=0x([0-9a-f]+)/.exec(out)?.[1];
    return h ? Buffer.from(h, 'hex') : undefined;
  } catch {
    return undefined;
  }
};

it.skipIf(!isBuilt())('the fake-super record (C) and the wire round trip (TypeScript) keep the same ACL', () => {
  const src = path.join(root, 'src');
  fs.mkdirSync(src);
  for (const [name, mode, args] of CASES) {
    const p = path.join(src, name);
    fs.writeFileSync(p, name);
    fs.chmodSync(p, mode);
    if (args.length) execFileSync('setfacl', [...args, p]);
  }
  execFileSync(process.execPath, [BIN, '--engine=sync', '-aA', '-M--fake-super', `${src}/`, `${root}/dst/`]);
  for (const [name] of CASES) {
    const p = path.join(src, name);
    const mode = fs.statSync(p).mode;
    const kernel = hex(p, 'system.posix_acl_access');
    const out = new ByteWriter();
    new AclEncoder().encode(out, mode, kernel ? { access: fromKernel(kernel) } : undefined, false, () => {});
    const got = new AclDecoder().decode(new Cursor(out.take()), mode, false).acls.access;
    const record = hex(path.join(root, 'dst', name), 'user.rsync.%aacl');
    if (!record) {
      // No record: the mode says everything, and the wire carries nothing either.
      expect({ name, acl: got }, name).toEqual({ name, acl: { userObj: NO_ENTRY, groupObj: NO_ENTRY, maskObj: NO_ENTRY, otherObj: NO_ENTRY, names: [] } });
      continue;
    }
    const n = (record.length - 16) / 8;
    const names = Array.from({ length: n }, (_, i) => {
      const access = record.readUInt32LE(20 + 8 * i);
      return { id: record.readUInt32LE(16 + 8 * i), perms: access & 7, user: (access & 0x80000000) !== 0 };
    });
    expect({ name, acl: got }).toEqual({
      name,
      acl: { userObj: record.readUInt32LE(0), groupObj: record.readUInt32LE(4), maskObj: record.readUInt32LE(8), otherObj: record.readUInt32LE(12), names },
    });
  }
});
