// --write-batch and --only-write-batch: the batch file rsync's --read-batch applies, in rsync's format for
// protocol 32 (batch.c, io.c's write_batch_monitor): the stream-flags word (which data-changing options
// were on), the protocol, the compatibility flags, the checksum seed, then what rsync's receiver would
// read from its sender for this run: the file list (remote/flist-send.ts, one whole list: no incremental
// recursion), and in the list's order each entry the run itemized, as its index and item flags, a
// transferred file followed by its sum header, its data as tokens and its whole-file MD5; the ends of the
// three phases; the sender's statistics. What to record is the local run's own decision: every itemize
// string it made (progress/output.ts tells BatchRecorder), turned back into rsync's item flags. Files
// go whole (rsync's --whole-file form: an empty sum header, literal data), which any reader applies.

import * as fs from 'node:fs';
import type { Config } from '../model/config.js';
import type { Engine } from '../engine/engine.js';
import type { FilterList } from '../plan/filter.js';
import type { EntryEvent } from '../progress/output.js';
import { walkSources } from '../run/push-source.js';
import { encodeFlist, type SendEntry } from '../remote/flist-send.js';
import { Cf } from '../remote/handshake.js';
import { Item } from '../remote/iflags.js';
import { NDX_DONE, NdxWriter } from '../remote/ndx.js';
import { strong } from '../remote/checksum.js';
import { tokenCodec } from '../remote/token-codec.js';
import { int32, varint, varlong, vstring } from '../remote/wire.js';
import { isDir, isLink, isReg } from '../remote/flist.js';
import { groups, users } from '../util/userdb.js';
import { showPath } from '../util/errors.js';
import { batchFlags } from './batch-flags.js';
import { XattrSender, abbreviated, encodeAnswer } from '../remote/xattr-list.js';
import type { RemoteXattrs } from '../run/remote-xattrs.js';
import type { Addon } from '../engine/native.js';
import { readSendAcls } from '../run/acl-read.js';
import { flistSettings } from '../remote/flist-settings.js';

/** The protocol rsync 3.5 writes its batches in. */
export const BATCH_PROTOCOL = 32;
/** rsync 3.5's compatibility flags for a local batch, without incremental recursion (arsync sends whole lists). */
const COMPAT = Cf.SymlinkTimes | Cf.SymlinkIconv | Cf.SafeFlist | Cf.AvoidXattrOptim | Cf.ChksumSeedFix | Cf.InplacePartialDir | Cf.VarintFlistFlags | Cf.Id0Names;
/** The sum header of a whole file: no blocks. */
const NO_SUMS = Buffer.alloc(16);
const READ_SPAN = 256 * 1024;

/** What the run itemized, by the name it printed. */
export class BatchRecorder {
  readonly items = new Map<string, { itemize: string; suffix: string }>();

  readonly observe = (e: EntryEvent, itemize: string): void => {
    this.items.set(e.name, { itemize, suffix: e.suffix });
  };
}

/** rsync's item flags behind an itemize string (the inverse of remote/iflags.ts itemizeFlags). */
export function itemFlags(s: string): number {
  let f = 0;
  const y = s[0];
  if (y === '>') f |= Item.Transfer;
  else if (y === 'c') f |= Item.LocalChange;
  else if (y === 'h') f |= Item.LocalChange | Item.XnameFollows;
  const attrs = s.slice(2, 11);
  if (attrs === '+++++++++') return f | Item.IsNew;
  if (attrs[0] === 'c') f |= Item.ReportChange;
  if (attrs[1] === 's') f |= Item.ReportSize;
  if (attrs[2] === 't' || attrs[2] === 'T') f |= Item.ReportTime;
  if (attrs[3] === 'p') f |= Item.ReportPerms;
  if (attrs[4] === 'o') f |= Item.ReportOwner;
  if (attrs[5] === 'g') f |= Item.ReportGroup;
  if (attrs[6] === 'u' || attrs[6] === 'b') f |= Item.ReportAtime;
  if (attrs[6] === 'n' || attrs[6] === 'b') f |= Item.ReportCrtime;
  if (attrs[7] === 'a') f |= Item.ReportAcl;
  if (attrs[8] === 'x') f |= Item.ReportXattr;
  return f;
}

/** The name the run printed for a list entry ("./" for the root, a directory with its slash). */
function shownName(e: SendEntry): string {
  const name = e.name.length === 1 && e.name[0] === 0x2e ? '.' : showPath(e.name);
  return isDir(e.mode) ? `${name}/` : name;
}

const nameBytes = (n: string | undefined): Buffer | undefined => (n === undefined ? undefined : Buffer.from(n, 'utf8'));

/**
 * Writes the batch to `fd` after the run: the sources are walked again for the list (the run's own
 * walk is the engines'), each recorded entry written in the list's order. Returns the messages of files
 * that could not be read (rsync's sender errors: the run's exit code counts them).
 */
export function writeBatch(fd: number, c: Config, engine: Engine, filters: FilterList | undefined, rec: BatchRecorder, xio?: RemoteXattrs, aclIo?: Addon): string[] {
  const problems: string[] = [];
  const walk = walkSources(c, engine, filters, xio);
  // -A: each entry's ACLs in the list, as a push's sender reads them (a failed read: an I/O error).
  if (aclIo) walk.ioError |= readSendAcls(aclIo, c, walk.entries, (m) => problems.push(m));
  // -X: each entry's list follows it; a value too long to go in the list goes once, with the first record of an entry that has it.
  const xattrs = xio ? new XattrSender() : undefined;
  const valuesSent = new Set<string>();
  const sum = strong('md5');
  const out = new Out(fd);
  // rsync's setup_protocol(): --checksum-seed's, else its time-and-pid rule.
  const seed = c.checksumSeed ?? (Math.floor(Date.now() / 1000) ^ (process.pid << 6)) | 0;
  out.put(int32(batchFlags(c)));
  out.put(int32(BATCH_PROTOCOL));
  out.put(varint(COMPAT));
  out.put(int32(seed));
  const started = out.total;
  let totalSize = 0;
  const buf = Buffer.allocUnsafe(READ_SPAN);
  // -c: each regular file's MD5 in the list, as rsync's file_checksum (unreadable files: zeros).
  for (const e of walk.entries) {
    if (isReg(e.mode) || isLink(e.mode)) totalSize += e.size;
    if (!c.checksum || !isReg(e.mode)) continue;
    const f = walk.open(e);
    if ('message' in f) continue;
    try {
      const h = sum.file();
      for (let at = 0; ; ) {
        const n = f.read(buf, 0, buf.length, at);
        if (!n) break;
        h.update(buf.subarray(0, n));
        at += n;
      }
      e.sum = h.digest();
    } finally {
      f.close();
    }
  }
  out.put(
    encodeFlist(
      walk.entries,
      {
        protocol: BATCH_PROTOCOL,
        varintFlags: true,
        id0Names: true,
        ...flistSettings(c),
        checksumLen: c.checksum ? sum.length : 0,
        atimes: c.atimes,
        acls: aclIo !== undefined,
        userName: (id) => nameBytes(users.nameOf(id)),
        groupName: (id) => nameBytes(groups.nameOf(id)),
        ...(xattrs ? { xattrSender: xattrs } : {}),
      },
      walk.ioError,
    ),
  );
  const ndxOut = new NdxWriter();
  // What rsync's generator would have sent its sender (the reader shows it as "sent N bytes").
  let asked = 0;
  const codec = tokenCodec({ name: compressing(c) ? 'zlib' : 'none', level: compressLevel(c) }, BATCH_PROTOCOL);
  walk.entries.forEach((e, ndx) => {
    const item = rec.items.get(shownName(e));
    if (!item) return;
    let iflags = itemFlags(item.itemize);
    const transfer = (iflags & Item.Transfer) !== 0 && isReg(e.mode);
    if (!transfer) iflags &= ~Item.Transfer;
    // -X: rsync's generator reports a new entry's xattrs, and the sender answers with the long values.
    const list = xattrs && e.xattr !== undefined ? xattrs.lists[e.xattr]! : undefined;
    const owed = list ? list.filter((it) => abbreviated(it) && !valuesSent.has(`${e.xattr}:${it.num}`)).map((it) => it.num) : [];
    if (list && (owed.length || (iflags & Item.IsNew && list.length))) iflags |= Item.ReportXattr;
    const head = [ndxOut.encode(ndx), Buffer.from([iflags & 0xff, (iflags >> 8) & 0xff])];
    // A hard link made from its group's first name: rsync's xname is that name.
    if (iflags & Item.XnameFollows) head.push(vstring(Buffer.from(item.suffix.replace(/^ => /, ''), 'utf8')));
    if (list && iflags & Item.ReportXattr) {
      head.push(encodeAnswer(list, owed));
      for (const n of owed) valuesSent.add(`${e.xattr}:${n}`);
    }
    if (!transfer) {
      for (const b of head) out.put(b);
      asked += head.reduce((n, b) => n + b.length, 0);
      return;
    }
    const f = walk.open(e);
    if ('message' in f) {
      problems.push(f.message);
      return;
    }
    try {
      for (const b of head) out.put(b);
      out.put(NO_SUMS);
      asked += head.reduce((n, b) => n + b.length, 0) + NO_SUMS.length;
      const h = sum.file();
      const w = codec.writer((b) => out.put(Buffer.from(b)));
      for (let at = 0; ; ) {
        const n = f.read(buf, 0, buf.length, at);
        if (!n) break;
        const piece = buf.subarray(0, n);
        h.update(piece);
        w.literal(piece);
        at += n;
      }
      w.end();
      out.put(h.digest());
    } finally {
      f.close();
    }
  });
  codec.close();
  // The three phases end (rsync's sender echoes each NDX_DONE), then its statistics and the goodbye.
  for (let i = 0; i < 3; i++) out.put(ndxOut.encode(NDX_DONE));
  asked += 4;
  const written = out.total - started;
  for (const v of [asked, written, totalSize, 0, 0]) out.put(varlong(v, 3));
  // The sender's answer to the receiver's goodbye (protocol 31+).
  out.put(ndxOut.encode(NDX_DONE));
  out.flush();
  for (const m of walk.messages) if (m.error) problems.push(m.text);
  return problems;
}

/** -z in the batch: rsync records zlib's token stream (batches always use the old-style choice). */
function compressing(c: Config): boolean {
  return (c.compress?.count ?? 0) > 0 && c.compress?.choice !== 'none' && c.compress?.level !== 0;
}

function compressLevel(c: Config): number {
  const l = c.compress?.level;
  return l === undefined || l < 0 ? 6 : Math.min(9, Math.max(1, l));
}

/** The batch's bytes, gathered and written a quarter megabyte at a time. */
class Out {
  private parts: Buffer[] = [];
  private size = 0;
  total = 0;

  constructor(private readonly fd: number) {}

  put(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
    this.total += b.length;
    if (this.size >= READ_SPAN) this.flush();
  }

  flush(): void {
    const all = Buffer.concat(this.parts, this.size);
    for (let at = 0; at < all.length; ) at += fs.writeSync(this.fd, all, at, all.length - at);
    this.parts = [];
    this.size = 0;
  }
}
