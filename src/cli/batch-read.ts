// --read-batch: a pull whose far side is a file. The batch (rsync's or arsync's: batch-write.ts says the
// layout) is read as rsync's receiver reads it: the stream flags set the options they name, then the
// protocol, compatibility flags and seed; the file list, whole or (rsync's default) incremental, with each
// directory's part arriving between the files' data; each transferred file's tokens rebuilt against the
// destination's current file (remote/pull.ts rebuildFile). As in a pull (cli/pull.ts), everything goes
// into a private staging tree and the ordinary local run copies it to the destination with the list's
// metadata. rsync's rules for which recorded update is used: a file the destination already has (the
// same quick check a pull makes) is skipped ("Skipping batched update"); a file it needs that the batch
// does not hold is an error ("No batched update"); a file whose sum does not match (another basis than
// the one the batch was made against) is tried again from its resend in the batch, else "failed
// verification -- update discarded" (exit 23).

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { Writable } from 'node:stream';
import type { Config } from '../model/config.js';
import { deleteScopeRules } from './pull-delete-scope.js';
import { selectEngine } from '../engine/index.js';
import { useNativeOrderFor } from './native-order.js';
import { Conn } from '../remote/conn.js';
import { Cf } from '../remote/handshake.js';
import { FlistDecoder, impliedDir, isDir, sortAndClean, type RemoteEntry } from '../remote/flist.js';
import { several } from '../remote/listing.js';
import { NDX_DONE, NDX_FLIST_EOF, NdxReader } from '../remote/ndx.js';
import { Item } from '../remote/iflags.js';
import { strong } from '../remote/checksum.js';
import { rebuildFile, type Fetch } from '../remote/pull.js';
import { tokenCodec } from '../remote/token-codec.js';
import { ProtocolError } from '../remote/wire.js';
import { filelistEnd } from '../progress/filelist-progress.js';
import { Exit, showPath } from '../util/errors.js';
import { removeStaging, type Pulled } from './pull.js';
import { destBase, groupLeads, localId, Stage, type StagedFetch } from './pull-stage.js';
import { aclAddon, applyStagedAcls } from './remote-acls.js';
import { groups, users } from '../util/userdb.js';
import { PullDest } from './pull-dest.js';
import { linkable, makeStaging, stagingOperands } from './staging-dir.js';
import { openForReading } from './batch-files.js';
import { XattrReceiver, abbreviated, readAnswer } from '../remote/xattr-list.js';
import { StagedXattrs, receiveRule, remoteXattrs } from '../run/remote-xattrs.js';
import { matchBatchFlags } from './batch-flags.js';
import { BATCH_PROTOCOL } from './batch-write.js';
import { flistSettings } from '../remote/flist-settings.js';

/** rsync's NDX_FLIST_OFFSET: an index at or below it announces the list of directory OFFSET - ndx. */
const NDX_FLIST_OFFSET = -101;
const IOERR_VALID_MASK = 0x7;

interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** One part of the list (the whole list, or with incremental recursion a directory's), sorted. */
interface Part {
  start: number;
  entries: (RemoteEntry | undefined)[];
  /** Incremental recursion: the directory whose part this is ("." for the first); its index is start - 1. */
  dir?: RemoteEntry;
}

export type ReadBatch = (Pulled & { config: Config }) | { code: number };

export async function readBatch(c0: Config, io: Io): Promise<ReadBatch> {
  const opened = openForReading(c0.batch!.file, c0.insecureLinks);
  if ('message' in opened) {
    io.err.write(`arsync: ${opened.message}\n`);
    return { code: opened.code };
  }
  const input = fs.createReadStream('', { fd: opened.fd, highWaterMark: 1 << 20 });
  const conn = new Conn(input, new Writable({ write: (_b, _e, cb) => cb() }), () => {});
  try {
    return await readStream(c0, conn, io);
  } catch (err) {
    if (err instanceof ProtocolError) {
      io.err.write(`arsync: ${err.message}\n`);
      return { code: err.code };
    }
    const e = err as NodeJS.ErrnoException;
    if (e.syscall) {
      io.err.write(`arsync: reading the batch failed: ${e.message}\n`);
      return { code: Exit.StreamIO };
    }
    throw err;
  } finally {
    input.destroy();
  }
}

async function readStream(c0: Config, conn: Conn, io: Io): Promise<ReadBatch> {
  const flags = await conn.read((c) => c.int32());
  const protocol = await conn.read((c) => c.int32());
  if (protocol > BATCH_PROTOCOL) {
    io.err.write(`The protocol version in the batch file is too new (${protocol} > ${BATCH_PROTOCOL}).\n`);
    return { code: Exit.Protocol };
  }
  if (protocol < 30) {
    io.err.write(`arsync: the batch file's protocol ${protocol} is older than arsync reads (30: rsync 3.0)\n`);
    return { code: Exit.Protocol };
  }
  // rsync's check_batch_flags: bit 9 (--iconv) cannot be matched by arsync, which has no --iconv.
  if (flags & (1 << 9)) {
    io.err.write('Please specify the --iconv option to use this batch file.\n');
    return { code: Exit.Usage };
  }
  const c: Config = { ...c0 };
  const said = matchBatchFlags(c, flags);
  if (c.info.MISC > 0 && !c.quiet && !c.json) for (const l of said) io.out.write(`${l}\n`);
  // -A: the lists in the batch go onto the staged entries once their data is in (as a pull's: cli/remote-acls.ts).
  const acl = aclAddon(c);
  if (acl.error) {
    io.err.write(`arsync: ${acl.error}\n`);
    return { code: Exit.Usage };
  }
  // -X: the lists in the batch go onto the staged entries through the addon (as a pull's: run/remote-xattrs.ts).
  let xattrs: { receiver: XattrReceiver; staged: StagedXattrs } | undefined;
  if (c.xattrs) {
    const xio = c.engine === 'node' ? { reason: 'the node engine cannot write extended attributes' } : remoteXattrs();
    if ('reason' in xio) {
      io.err.write(`arsync: -X/--xattrs needs the native addon: ${xio.reason}\n`);
      return { code: Exit.Usage };
    }
    xattrs = { receiver: new XattrReceiver(receiveRule(c)), staged: new StagedXattrs(xio, c.dryRun) };
  }
  const compat = await conn.read((cur) => cur.varint());
  const seed = await conn.read((cur) => cur.int32());
  void seed;
  const inc = (compat & Cf.IncRecurse) !== 0;
  // rsync's set_allow_inc_recurse, from the command line (not the batch): -r, and nothing that needs the
  // whole list first.
  if (inc && !c0.incRecursive) {
    io.err.write('Incompatible options specified for inc-recursive batch file.\n');
    return { code: Exit.Usage };
  }
  const showList = c.info.FLIST > 0 && !c.json && !c.quiet && (c.recursive || c.dirs);
  if (showList) io.out.write('receiving file list ... ');

  /** Each part of the list as sent: its first index, where its entries start in the decoder's. */
  const sentParts: { start: number; offset: number }[] = [];
  const decoder: FlistDecoder = new FlistDecoder({
    protocol,
    ...flistSettings(c),
    atimes: c.atimes,
    checksumLen: c.checksum ? 16 : 0,
    relative: c.relative,
    varintFlags: (compat & Cf.VarintFlistFlags) !== 0,
    safeFlist: protocol >= 31 || (compat & Cf.SafeFlist) !== 0,
    id0Names: (compat & Cf.Id0Names) !== 0,
    ...(xattrs ? { xattrReceiver: xattrs.receiver } : {}),
    acls: c.acls,
    aclNamesInline: inc,
    // rsync numbers a hard link's first entry by its list index in the order sent (incremental lists).
    ...(inc
      ? {
          hlinkRef: (ref: number) => {
            for (let i = sentParts.length - 1; i >= 0; i--) {
              const p = sentParts[i]!;
              const end = i === sentParts.length - 1 ? decoder.entries.length : sentParts[i + 1]!.offset;
              if (ref >= p.start && ref < p.start + (end - p.offset)) return { index: p.offset + ref - p.start, abbreviated: i === sentParts.length - 1 };
            }
            return undefined;
          },
        }
      : {}),
  });
  /** Reads one part of the list up to its end marker. */
  const readPart = async (start: number): Promise<{ entries: RemoteEntry[]; ioError: number }> => {
    const from = decoder.entries.length;
    sentParts.push({ start, offset: from });
    for (;;) {
      const got = await conn.read((cur) => several(decoder, cur));
      if ('end' in got) return { entries: decoder.entries.slice(from), ioError: got.ioError };
    }
  };
  useNativeOrderFor(c.engine);
  const first = await readPart(inc ? 1 : 0);
  if (!inc) await conn.read((cur) => decoder.idLists(cur));
  let ioError = first.ioError;
  const parts: Part[] = [{ start: inc ? 1 : 0, entries: sortAndClean(first.entries) }];
  /** Incremental recursion: every directory of the list so far, in rsync's dir_flist order. */
  const dirs: RemoteEntry[] = [];
  const addDirs = (p: Part): void => {
    for (const e of p.entries) if (e && isDir(e.mode)) dirs.push(e);
  };
  addDirs(parts[0]!);
  if (inc) parts[0]!.dir = dirs[0];
  if (showList) io.out.write(filelistEnd(first.entries.length, c.info.FLIST, 'receiving'));

  const holder = makeStaging(c.dest, 'arsync-batch-', c.engine);
  const staging = nodePath.join(holder, 'tree');
  fs.mkdirSync(staging, 0o700);
  let errors = 0;
  const error = (m: string): void => {
    io.err.write(`${m}\n`);
    errors++;
  };
  try {
    const engine = selectEngine(c.engine, [c.dest]);
    const ready = 'error' in engine ? undefined : engine;
    const dest = new PullDest(destBase(c, parts[0]!.entries), ready && ((at, anchor) => ready.scanDir(at, anchor)));
    const stage = new Stage(c, staging, dest, (m) => error(`arsync: ${m}`));
    const sum = strong('md5');
    const list = { userNames: decoder.userNames, groupNames: decoder.groupNames, sent: decoder.entries };
    /** What the destination needs, by index (the Stage's own choice, a pull's rule). */
    const wanted = new Map<number, StagedFetch>();
    /** -H: a group's members share the staged inode, so the data recorded for any member fills it. */
    const groupNdx = new Map<number, number>();
    /** -X: who takes the long values of each list when the batch brings them (the first entry that needs them). */
    const valuesFor = new Map<number, (values: Map<number, Buffer>) => void>();
    const stageAll = (p: Part): void => {
      // -H: a group's data is wanted under the member rsync's generator takes (cli/pull-stage.ts groupLeads).
      if (c.hardLinks) stage.useGroupLeads(groupLeads(p.entries, c, dest, p.start, (e) => stage.sameSum(e, sum)));
      p.entries.forEach((e, i) => {
        if (!e) return;
        const f = stage.add(e, p.start + i, list, sum);
        // (By the index its data is wanted under: with -H another member's.)
        if (f) wanted.set(f.ndx, f);
        if (f && e.hlinkGroup !== undefined) groupNdx.set(e.hlinkGroup, f.ndx);
        if (xattrs && e.xattr !== undefined) {
          const ask = stage.xattrs(e, e.xattr, xattrs.receiver.lists[e.xattr]!, xattrs.staged);
          if (ask && !valuesFor.has(e.xattr)) valuesFor.set(e.xattr, ask.got);
        }
      });
    };
    stageAll(parts[0]!);
    const entryAt = (ndx: number): RemoteEntry | undefined => {
      for (const p of parts) {
        if (ndx >= p.start && ndx < p.start + p.entries.length) return p.entries[ndx - p.start];
        if (ndx === p.start - 1 && p.dir) return p.dir;
      }
      return undefined;
    };

    const codec = tokenCodec({ name: (flags & (1 << 8)) !== 0 ? 'zlib' : 'none', level: 6 }, protocol);
    const ndxIn = new NdxReader();
    const pending = Buffer.allocUnsafe(1 << 20);
    const wire = { literal: 0, matched: 0, sent: 0, received: 0, listBytes: 0, buildMs: 0, xferMs: 0 };
    const done = new Set<number>();
    const redo = new Set<number>();
    let phase = 0;
    let live = inc ? 1 : 0;
    for (;;) {
      const ndx = await conn.read((cur) => ndxIn.decode(cur));
      if (ndx === NDX_DONE) {
        // With incremental recursion each part of the list ends with one; the last ends the phase.
        if (inc && live > 0 && --live > 0) continue;
        if (++phase > 2) break;
        continue;
      }
      if (ndx === NDX_FLIST_EOF) continue;
      if (ndx <= NDX_FLIST_OFFSET) {
        const dir = dirs[NDX_FLIST_OFFSET - ndx];
        if (!inc || !dir) throw new ProtocolError(`Invalid dir index: ${NDX_FLIST_OFFSET - ndx} (${dirs.length})`, Exit.Protocol);
        const last = parts[parts.length - 1]!;
        const start = last.start + last.entries.length + 1;
        const got = await readPart(start);
        ioError |= got.ioError;
        const part: Part = { start, entries: sortAndClean(got.entries), dir };
        parts.push(part);
        addDirs(part);
        stageAll(part);
        live++;
        continue;
      }
      if (ndx < 0) throw new ProtocolError(`Invalid file index: ${ndx}`, Exit.Protocol);
      const e = entryAt(ndx);
      if (!e) throw new ProtocolError(`Invalid file index: ${ndx} (not in the list)`, Exit.Protocol);
      const iflags = await conn.read((cur) => cur.byte() | (cur.byte() << 8));
      if (iflags & Item.BasisTypeFollows) await conn.read((cur) => cur.byte());
      if (iflags & Item.XnameFollows) await conn.read((cur) => cur.vstring(4096));
      // -X: the sender's answer for the long values of the entry's list (each comes once).
      if (xattrs && iflags & Item.ReportXattr) {
        const list = e.xattr !== undefined ? xattrs.receiver.lists[e.xattr]! : [];
        const values = await conn.read((cur) => readAnswer(cur, new Set(list.filter(abbreviated).map((it) => it.num))));
        if (e.xattr !== undefined) valuesFor.get(e.xattr)?.(values);
      }
      // An entry's itemized change without data: the local run decides and prints its own.
      if (!(iflags & Item.Transfer)) continue;
      const head = await conn.read((cur) => ({ count: cur.int32(), blength: cur.int32(), s2length: cur.int32(), remainder: cur.int32() }));
      if (head.count < 0 || head.blength < 0 || head.s2length < 0 || head.remainder < 0) throw new ProtocolError(`invalid sum header for file index ${ndx}`, Exit.Protocol);
      const target = wanted.has(ndx) || e.hlinkGroup === undefined ? ndx : groupNdx.get(e.hlinkGroup) ?? ndx;
      const f = wanted.get(target);
      const usable = f && !done.has(target) && (phase === 0 || redo.has(target));
      if (!usable) {
        // rsync's discard_receive_data: the recorded update is read and dropped.
        if (phase === 0 || !f) io.out.write(`(Skipping batched update for${phase ? ' resend of' : ''} "${showPath(e.name)}")\n`);
        await discard(conn, head, codec.reader(conn, head.count), pending);
        continue;
      }
      // The basis is the destination's file of the name the record is for (with -H, another member's).
      const basis = target === ndx ? f.basis : basisOf(dest, e.name.toString('latin1'));
      const into: Fetch = { ndx: f.ndx, size: f.size, openOut: () => f.openOut() };
      const use = head.count && basis ? basis : f.basis;
      if (use) into.basis = use;
      const ok = await rebuildFile(conn, into, head, sum, codec.reader(conn, head.count), wire, pending);
      if (ok) {
        done.add(target);
        redo.delete(target);
      } else if (phase === 0) {
        redo.add(target);
        if (c.info.NAME > 0 || c.itemize > 0) io.out.write(`WARNING: ${showPath(e.name)} failed verification -- update discarded (may try again).\n`);
      } else {
        redo.delete(target);
        done.add(target);
        error(`ERROR: ${showPath(e.name)} failed verification -- update discarded.`);
        stage.discard(e, decoder.entries);
      }
    }
    // rsync's we_want_redo and gen_wants_ndx: what the destination needed that the batch did not bring.
    for (const [ndx, f] of wanted) {
      if (done.has(ndx)) continue;
      error(`(No batched update for${redo.has(ndx) ? ' resend of' : ''} "${showPath(f.entry.name)}")`);
      stage.discard(f.entry, decoder.entries);
    }
    stage.close();
    if (acl.addon) {
      const mapId = (id: number, user: boolean): number => localId(c, id, user ? decoder.userNames : decoder.groupNames, user ? users : groups);
      const staged = (e: RemoteEntry): string | undefined => {
        const at = stage.path(e.name.toString('latin1'));
        return stage.meta.has(at) ? at : undefined;
      };
      errors += applyStagedAcls(acl.addon, parts.flatMap((p) => p.entries), staged, mapId, (m) => io.err.write(`arsync: ${m}\n`), c);
    }
    codec.close();
    const stats = await conn.read((cur) => ({ a: cur.varlong(3), b: cur.varlong(3), size: cur.varlong(3), build: cur.varlong(3), xfer: cur.varlong(3) }));
    wire.sent = stats.a;
    wire.received = stats.b;
    wire.buildMs = stats.build;
    wire.xferMs = stats.xfer;
    const operands = stagingOperands(parts[0]!.entries, staging, c.relative, c.impliedDirs ? undefined : impliedDir);
    const code = Math.max(errors ? Exit.Partial : 0, ioError & IOERR_VALID_MASK & ~2 ? Exit.Partial : ioError ? Exit.Vanished : 0);
    // The batch names everything the run copies: the local half needs no source operand besides the staging tree's.
    // -R: --delete stays out of the implied directories, which came without their contents (as a pull's local half).
    const scoped = c.relative && c.deleteMode !== 'none' ? { ...c, filters: [...c.filters, ...deleteScopeRules(parts.flatMap((p) => p.entries))] } : c;
    return { staging: holder, operands, meta: stage.meta, wire, code, linkable: linkable(holder, c.dest, c.tempDir), uncounted: stage.uncounted, config: scoped };
  } catch (err) {
    removeStaging(holder);
    throw err;
  }
}

/** The destination's regular file at `rel`, as a basis to rebuild against. */
function basisOf(dest: PullDest, rel: string): Fetch['basis'] {
  const st = dest.entry(rel);
  if (!st || (st.mode & 0o170000) !== 0o100000 || st.size === 0) return undefined;
  return { size: st.size, open: () => dest.openFile(rel) };
}

/** A recorded file's data read and dropped (its blocks stand for zeros: only a zlib dictionary sees them). */
async function discard(conn: Conn, head: { count: number; blength: number; remainder: number }, reader: ReturnType<ReturnType<typeof tokenCodec>['reader']>, pending: Buffer): Promise<void> {
  for (;;) {
    const t = await reader.next();
    if (t.kind === 'end') break;
    if (t.kind === 'match') {
      for (let b = t.block, n = t.blocks ?? 1; n > 0; b++, n--) {
        const len = b === head.count - 1 && head.remainder ? head.remainder : head.blength;
        reader.matched(len <= pending.length ? pending.fill(0, 0, len).subarray(0, len) : Buffer.alloc(len));
      }
    }
  }
  await conn.read((cur) => cur.bytes(16));
}

