// The client side of a push (rsync's client_run for a sender, then send_files and
// read_final_goodbye): the handshake, the filter rules and the file list out, then the receiving
// server's generator asks for files by index with its item flags and block checksums, and we answer
// each with the delta against its basis (match.ts) and the whole-file checksum; three phases (the
// transfer, the redo of files whose checksum failed, the end), then the goodbye. The far side decides
// what to transfer, delete and back up; this side reads only the entries it listed, through the
// source's own opener, and never an index it did not send.

import { Exit, showPath } from '../util/errors.js';
import { NOT_YET, type Conn } from './conn.js';
import { nativeMatch, strong, type FileHasher } from './checksum.js';
import { encodeFlist, type EncodeOptions, type SendEntry } from './flist-send.js';
import { isDevice, isDir, isLink, isReg, isSpecial } from './flist.js';
import { Cf, handshake, type Session } from './handshake.js';
import { Item } from './iflags.js';
import { appendFile } from './append-send.js';
import { matchFile, receiveSums, readSumHead, writeSumHead, writeSumHeadAt, type BlockSums, type MatchResult, type ReadAt, type SearchCounts, type SumHead, type WindowStore } from './match.js';
import { matchFileNative } from './match-native.js';
import { sendWhole } from './whole-send.js';
import { Msg } from './mux.js';
import { FRAME_ROOM, FrameOut } from './frame-out.js';
import { NDX_DEL_STATS, NDX_DONE, NDX_MAX, NdxReader, NdxWriter } from './ndx.js';
import { tokenCodec } from './token-codec.js';
import type { TokenWriter } from './tokens.js';
import type { ClientCompress } from './compress.js';
import { ProtocolError, int32, varlong, type Cursor } from './wire.js';
import { symlinkIconv, wireEntries, type WireCharset } from './iconv-wire.js';
import { XattrSender, encodeAnswer, readRequest } from './xattr-list.js';

/** rsync's MAXPATHLEN, the bound on a name the receiver sends back (a hard link's leader). */
const MAXPATHLEN = 1024;
const IOERR_GENERAL = 1;
const IOERR_VANISHED = 2;
/** More output than this waiting for the peer and the sender waits for it (no file is held in memory). */
const BACKLOG = 4 * 1024 * 1024;
/**
 * The sender hands its output to the pipe at least this often (bytes of files covered): `pace` below.
 * 4 MiB: every MiB made as many small writes as ssh sends packets, and a 1 GiB push delta took 1.10x
 * rsync's wall and 1.09x its client CPU against 0.98x and 0.96x at 4 MiB (12 alternating rounds,
 * docs/benchmarks.md, session 32).
 */
export const TURN = 4 * 1024 * 1024;
/** What a file sent counts for in `pace`, besides its bytes: the receiver's work of making it. */
const PER_FILE = 4096;
/** One turn of the event loop, in which the stream writes what waits for the pipe. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** The sums of a request without blocks (a file the receiver lacks). */
const NO_SUMS = new Uint32Array(0);
const NO_BYTES = Buffer.alloc(0);
/** The checksum header a generator sends before a file's block sums (count, lengths, remainder). */
const SUM_HEAD_BYTES = 16;

/** The largest file sent by Opened.readWhole: its run, end token and sum (16 bytes at most) fit one frame. */
const SMALL_WHOLE = FRAME_ROOM - 4 - 4 - 16;

/** A file that shrank while it was read: a wrong checksum makes the receiver discard it. */
function spoilSum(b: Buffer, at: number): void {
  b[at] = (b[at]! + 1) & 0xff;
}

/** A file opened for sending; `read` returns fewer bytes only at its end. */
export interface Opened {
  read: ReadAt;
  /**
   * When the source can: reads the file's first `len` bytes into `buf` at `at` (zeros after a file that
   * shrank), writes its whole-file sum of checksum.ts's kind `kind` at `sumAt`, and closes it; returns
   * the bytes read (fewer: it shrank).
   */
  readWhole?(buf: Buffer, at: number, len: number, kind: number, sumAt: number): number;
  close(): void;
}

/** What the local side lists and how it reads (the second transport seam, seen from a push). */
export interface PushSource {
  /** Sorted and without repeated names (flist-send.ts's sortForSend). */
  entries: SendEntry[];
  /** IOERR_* flags from the walk (a directory that could not be read, a source that vanished). */
  ioError: number;
  /**
   * The list encoded by the source itself (the addon's walk: run/push-native.ts), or undefined for
   * options it does not encode; without it, or then, encodeFlist encodes `entries`.
   */
  encodeList?(o: EncodeOptions, ioError: number): Buffer | undefined;
  /** Opens a listed regular file for reading; an error says what rsync would say, and whether it vanished. */
  open(e: SendEntry): Opened | { message: string; vanished: boolean };
  /**
   * When the source can: `open` and Opened.readWhole in one call, for a small file sent whole (the
   * file's first `len` bytes at `at`, its sum of kind `kind` at `sumAt`); the bytes read, or what
   * `open` answers for a file it could not open as listed (nothing written then). A read error throws.
   */
  sendWhole?(e: SendEntry, buf: Buffer, at: number, len: number, kind: number, sumAt: number): number | { message: string; vanished: boolean };
}

export interface PushSettings {
  flist: Omit<EncodeOptions, 'protocol' | 'varintFlags' | 'id0Names' | 'checksumLen'>;
  /** -c: each regular file's whole checksum goes in the list. */
  checksum: boolean;
  dryRun: boolean;
  /** --inplace (or --append): the receiver overwrites its basis as it goes. */
  inplace: boolean;
  /** 1 --append, 2 --append-verify: a file's first request sends only what the receiver lacks (append-send.ts). */
  append?: number;
  /** The filter rules for the receiver, already encoded with their terminator (rsync's send_filter_list). */
  filterRules: Buffer;
  /** -z and its options, negotiated in the handshake (the environment for RSYNC_COMPRESS_LIST). */
  compress?: ClientCompress;
  env?: NodeJS.ProcessEnv;
  /** -X: each entry's xattr list follows it (the entries carry xattrItems), and abbreviated values are asked for. */
  xattrs?: boolean;
  /**
   * --write-batch (cli/batch-tap.ts): told the session, then every data byte sent after the filter rules
   * (rsync's write_batch_monitor_out), and before the goodbye the sender's statistics, which rsync's
   * sending client writes into its batch alone.
   */
  batch?: { start(session: Session): void; data(b: Buffer): void };
  /**
   * --only-write-batch (with `batch`): the server was told of it and runs dry, its receiver reading no
   * file data. As rsync's sender (its f_xfer is the batch), a file's index and flags go on the wire and
   * into the batch, its sum header, tokens and checksum into the batch alone.
   */
  batchOnly?: boolean;
  /** --iconv: this client's charset, and where a name it cannot convert for the wire is reported (iconv-wire.ts). */
  iconv?: { charset: WireCharset; report(message: string): void };
  /**
   * --debug=deltasum (-vv): rsync's match.c counters over the whole push, added to as files are
   * searched (match.ts's TypeScript search then, which looks at every offset in rsync's own table).
   */
  counts?: SearchCounts;
  /**
   * --bwlimit: the output is paced (remote/pacer.ts). The sender waits as soon as the pacer holds its
   * fill, as rsync's sender waits in its paced writes, so that --progress reads the paced rate.
   */
  paced?: boolean;
}

/** Where a push tells what happened, as it happens (the CLI prints it). */
export interface PushReport {
  /**
   * An entry the receiver looked at: its item flags, the name a hard link joins, and whether data went;
   * `wire`: a sent file's bytes in the stream, from its index to its checksum (rsync's %b).
   */
  /**
   * `wire`: what the stream carried for a sent file (%b); `read`: what this sender read for it, the sum
   * header and any block sums (%c).
   */
  item(e: SendEntry, iflags: number, xname: Buffer | undefined, transferred: boolean, wire?: number, read?: number): void;
  /** A read error or a vanished file, in rsync's words. */
  error(message: string): void;
  /** A file's data is about to go (after its sum header): its index in the list and its item flags. */
  sending?(e: SendEntry, ndx: number, iflags: number): void;
  /** `sent` bytes of that file's data have gone (for --progress). */
  sent?(sent: number): void;
  /** The receiver ended a phase (NDX_DONE in the transfer loop). */
  phaseDone?(): void;
  /** -n: a file that would be sent, `size` bytes (rsync's sender counts it for --info=progress2). */
  wouldSend?(size: number): void;
}

export interface Counts {
  reg: number;
  dir: number;
  link: number;
  dev: number;
  special: number;
}

export interface PushStats {
  session: Session;
  listed: Counts;
  created: Counts;
  deleted: Counts;
  totalSize: number;
  transferredFiles: number;
  transferredSize: number;
  literal: number;
  matched: number;
  flistSize: number;
  flistBuildMs: number;
  ioError: number;
  /** rsync's total_written and total_read when the files are sent (before the goodbye). */
  wire: { sent: number; received: number };
}

const zero = (): Counts => ({ reg: 0, dir: 0, link: 0, dev: 0, special: 0 });

/** rsync's count for a mode: what is none of the other kinds is a regular file (a --delete-missing-args entry's mode 0 too). */
export function kindOf(mode: number): keyof Counts {
  return isDir(mode) ? 'dir' : isLink(mode) ? 'link' : isDevice(mode) ? 'dev' : isSpecial(mode) ? 'special' : 'reg';
}

/** Runs the whole push over a started connection; the caller has spawned `rsync --server` (receiving). */
/**
 * `source`: the list to send, or (for a --files-from list on the far side, which the receiver forwards
 * once it has our filter rules: remote/files-from.ts) a function that reads it and builds the list.
 */
export async function runPush(conn: Conn, source: PushSource | ((conn: Conn, protocol: number) => PushSource | Promise<PushSource>), s: PushSettings, report: PushReport, built: { ms: number }): Promise<PushStats> {
  const session = await handshake(conn, s.compress, s.env);
  // -z: the compressed token stream when the session negotiated one (token-codec.ts).
  const codec = tokenCodec(session.compress, session.protocol);
  conn.startMuxOut();
  conn.startMuxIn();
  // Output gathered into frames, flushed before every wait for the peer.
  const out = new FrameOut(conn, BACKLOG);
  conn.idle = () => out.flush();
  out.push(s.filterRules);
  if (s.batch) {
    const record = s.batch;
    record.start(session);
    const send = out.push;
    out.push = (b: Buffer): void => {
      record.data(b);
      send(b);
    };
  }
  if (typeof source === 'function') out.flush();
  const src = typeof source === 'function' ? await source(conn, session.protocol) : source;

  if (s.iconv) {
    // The names (and targets) the wire carries; the entries left out are no part of the list, whose
    // indexes are the places of what remains.
    const w = wireEntries(src.entries, s.iconv.charset, symlinkIconv(s.iconv.charset, session.compat), s.iconv.report);
    src.entries = w.entries;
    if (w.failed) src.ioError |= IOERR_GENERAL;
  }
  const sum = strong(session.checksum);
  let ioError = src.ioError;
  const listed = zero();
  let totalSize = 0;
  const started = Date.now();
  const sumBuf = Buffer.allocUnsafe(s.checksum ? 256 * 1024 : 0);
  for (const e of src.entries) {
    listed[kindOf(e.mode)]++;
    if (isReg(e.mode) || isLink(e.mode)) totalSize += e.size;
    if (s.checksum && isReg(e.mode)) {
      // rsync's file_checksum: the whole file, unseeded; unreadable files list with an all-zero sum.
      const f = src.open(e);
      if ('message' in f) continue;
      try {
        const h = sum.file();
        for (let at = 0; ; ) {
          const n = f.read(sumBuf, 0, sumBuf.length, at);
          if (!n) break;
          h.update(sumBuf.subarray(0, n));
          at += n;
        }
        e.sum = h.digest();
      } finally {
        f.close();
      }
    }
  }
  const xattrs = s.xattrs ? new XattrSender() : undefined;
  const flistOptions: EncodeOptions = {
    ...s.flist,
    ...(xattrs ? { xattrSender: xattrs } : {}),
    protocol: session.protocol,
    varintFlags: (session.compat & Cf.VarintFlistFlags) !== 0,
    id0Names: (session.compat & Cf.Id0Names) !== 0,
    checksumLen: s.checksum ? sum.length : 0,
  };
  // (The addon's encoder knows only the walk's own names: under --iconv the list is encoded here.)
  const flist = (s.iconv ? undefined : src.encodeList?.(flistOptions, ioError)) ?? encodeFlist(src.entries, flistOptions, ioError);
  out.push(flist);
  out.flush();
  const flistBuildMs = built.ms + (Date.now() - started);

  const stats: PushStats = {
    session,
    listed,
    created: zero(),
    deleted: zero(),
    totalSize,
    transferredFiles: 0,
    transferredSize: 0,
    literal: 0,
    matched: 0,
    flistSize: flist.length,
    flistBuildMs,
    ioError: 0,
    wire: { sent: 0, received: 0 },
  };
  const ndxIn = new NdxReader();
  const ndxOut = new NdxWriter();
  const ndxScratch = Buffer.alloc(NDX_MAX);
  // The indexes sent once (a redo is not counted as created again, --append's redo is a normal one):
  // one byte per entry, not a hash set's lookup per request.
  const sent = new Uint8Array(src.entries.length);
  const windowStore: WindowStore = { buf: Buffer.alloc(0) };
  // The search in C when the addon computes the negotiated sum; else match.ts's TypeScript search.
  const nm = nativeMatch();
  // A file the receiver lacks can be read straight into the frames (sendWhole), and small fields
  // written there, unless its tokens are compressed or a batch records the data as it is pushed (its
  // tap is out.push).
  const whole = session.compress.name === 'none' && !s.batch;
  // Where a sent file's data goes: the stream (and a batch's tap), or under --only-write-batch the batch alone.
  const dataOut: (b: Buffer) => void = s.batch && s.batchOnly ? s.batch.data : (b) => out.push(b);
  const sendDelta = (sums: BlockSums, len: number, read: ReadAt, hasher: FileHasher, w: TokenWriter, inplace: boolean, bp: (at: number) => Promise<void> | undefined): Promise<MatchResult> =>
    nm && sum.kind !== undefined && sums.head.count > 0 && len > 0 && !s.counts
      ? matchFileNative(nm, sum.kind, session.seed, sums, len, read, hasher, w, inplace, bp, windowStore)
      : matchFile(sums, len, read, hasher, (b) => sum.block(b, session.seed), w, inplace, bp, windowStore, s.counts);

  /** rsync's read_ndx_and_attrs: an index (deletion statistics read on the way), its flags and names. */
  type ItemIn = { ndx: number; iflags: number; basisType: number | undefined; xname: Buffer | undefined; xattrNums?: number[] };
  /** rsync's rule for the xattr request after an item's flags (want_xattr_optim is off: we send 'x'). */
  const xattrRequest = (iflags: number): boolean => xattrs !== undefined && (iflags & Item.ReportXattr) !== 0 && !s.dryRun;
  // The decoders, made once: a field that has already arrived (nearly every one: the generator runs
  // ahead) is read without an await, a promise or a closure per field (conn.readNow).
  const decodeNdx = (c: Cursor): number => ndxIn.decode(c);
  const decodeFlags = (c: Cursor): number => c.byte() | (c.byte() << 8);
  const decodeByte = (c: Cursor): number => c.byte();
  const decodeName = (c: Cursor): Buffer => Buffer.from(c.vstring(MAXPATHLEN));
  const decodeDeleted = (c: Cursor): number[] => [0, 1, 2, 3, 4].map(() => c.varintIn(0, 0x7fffffff, 'deleted'));
  const decodeSumHead = (c: Cursor): SumHead => readSumHead(c, sum.length);
  const field = <T>(decode: (c: Cursor) => T): T | Promise<T> => {
    const v = conn.readNow(decode);
    return v === NOT_YET ? conn.read(decode) : v;
  };
  /**
   * The common request (an index in the list and its flags, nothing after them) when its bytes are
   * there, without a promise; else readItemLater, given what was already read.
   */
  const readItem = (): ItemIn | Promise<ItemIn> => {
    const ndx = conn.readNow(decodeNdx);
    if (ndx === NOT_YET || ndx < 0 || ndx >= src.entries.length) return readItemLater(ndx);
    const iflags = conn.readNow(decodeFlags);
    if (iflags === NOT_YET || iflags & (Item.BasisTypeFollows | Item.XnameFollows) || xattrRequest(iflags)) return readItemLater(ndx, iflags);
    return { ndx, iflags, basisType: undefined, xname: undefined };
  };
  const readItemLater = async (first: number | typeof NOT_YET, firstFlags: number | typeof NOT_YET = NOT_YET): Promise<ItemIn> => {
    for (let at = 0; ; at++) {
      let ndx = at === 0 && first !== NOT_YET ? first : field(decodeNdx);
      if (typeof ndx !== 'number') ndx = await ndx;
      if (ndx === NDX_DONE) return { ndx, iflags: 0, basisType: undefined, xname: undefined };
      if (ndx === NDX_DEL_STATS) {
        const d = await field(decodeDeleted);
        stats.deleted = { reg: d[0]!, dir: d[1]!, link: d[2]!, dev: d[3]!, special: d[4]! };
        continue;
      }
      if (ndx < 0 || ndx >= src.entries.length) {
        throw new ProtocolError(`Invalid file index: ${ndx} (-1 - ${src.entries.length - 1}) [sender]`, Exit.Protocol);
      }
      let iflags = at === 0 && firstFlags !== NOT_YET ? firstFlags : field(decodeFlags);
      if (typeof iflags !== 'number') iflags = await iflags;
      const basisType = iflags & Item.BasisTypeFollows ? await field(decodeByte) : undefined;
      const xname = iflags & Item.XnameFollows ? await field(decodeName) : undefined;
      if (!xattrRequest(iflags)) return { ndx, iflags, basisType, xname };
      const list = xattrs!.lists[src.entries[ndx]!.xattr ?? -1] ?? [];
      const xattrNums = await conn.read((c) => readRequest(c, list));
      return { ndx, iflags, basisType, xname, xattrNums };
    }
  };
  const echo = ({ ndx, iflags, basisType, xname, xattrNums }: ItemIn): void => {
    if (whole) {
      // The index and the flags written into the frame (no Buffer per item).
      const n = ndxOut.encodeInto(ndx, ndxScratch, 0);
      const at = out.reserve(n + 2);
      const b = out.buffer;
      ndxScratch.copy(b, at, 0, n);
      b[at + n] = iflags & 0xff;
      b[at + n + 1] = (iflags >> 8) & 0xff;
    } else {
      out.push(ndxOut.encode(ndx));
      out.push(Buffer.from([iflags & 0xff, (iflags >> 8) & 0xff]));
    }
    if (basisType !== undefined) out.push(Buffer.from([basisType]));
    if (xname) out.push(Buffer.concat([Buffer.from(xname.length > 0x7f ? [(xname.length >> 8) | 0x80, xname.length & 0xff] : [xname.length]), xname]));
    // -X: the full values the receiver asked for with this index.
    if (xattrRequest(iflags)) out.push(encodeAnswer(xattrs!.lists[src.entries[ndx]!.xattr ?? -1] ?? [], xattrNums ?? []));
  };

  /** rsync's words for a file that shrank while it was sent (full_fname: its full path). */
  const shrank = (e: SendEntry): string => {
    const full = e.path[0] === 0x2f ? e.path : Buffer.concat([Buffer.from(`${process.cwd()}/`), e.path]);
    return `read errors mapping "${showPath(full)}": No data available (61)`;
  };

  // The file bytes covered since the output last went out (`pace`).
  let covered = 0;
  /**
   * Told the bytes of files covered (a file's search or read as it goes, PER_FILE for each file sent):
   * a promise to wait for while the peer catches up. Past BACKLOG unsent, until the pipe took it. Else,
   * every TURN bytes, what is gathered goes out and, while the pipe is full, the event loop gets a turn
   * to write it: this thread reads and searches without waiting for anything while the receiver's
   * requests are at hand, and a delta of a large file that mostly matches gathers only tokens, far less
   * than BACKLOG. Without the turn a write the full pipe refused waited while the search went hundreds of
   * megabytes on and the receiver, which copies a block per token, sat idle (0.27 s of a 1 GiB push
   * delta, docs/benchmarks.md).
   */
  const pace = (bytes: number): Promise<void> | undefined => {
    covered += bytes;
    if (conn.pendingOutput > BACKLOG || (s.paced && conn.outputFull)) return conn.drained();
    if (covered < TURN) return undefined;
    covered = 0;
    out.flushNow();
    return conn.pendingOutput > 0 ? nextTurn() : undefined;
  };

  let phase = 0;
  for (;;) {
    let item = readItem();
    if (item instanceof Promise) item = await item;
    const { ndx, iflags, basisType, xname } = item;
    if (ndx === NDX_DONE) {
      report.phaseDone?.();
      if (++phase > 2) break;
      out.push(ndxOut.encode(NDX_DONE));
      continue;
    }
    const e = src.entries[ndx]!;
    if (!(iflags & Item.Transfer)) {
      report.item(e, iflags, xname, false);
      echo(item);
      if (iflags & Item.IsNew) stats.created[kindOf(e.mode)]++;
      continue;
    }
    if (phase === 2) throw new ProtocolError('got transfer request in phase 2 [sender]', Exit.Protocol);
    if (!isReg(e.mode)) throw new ProtocolError(`refusing transfer of a non-regular file index ${ndx} [sender]`, Exit.Protocol);
    if (!sent[ndx] && iflags & Item.IsNew) stats.created.reg++;
    stats.transferredFiles++;
    stats.transferredSize += e.size;
    if (s.dryRun) {
      report.wouldSend?.(e.size);
      report.item(e, iflags, xname, true);
      echo(item);
      continue;
    }
    let head = field(decodeSumHead);
    if ('then' in head) head = await head;
    // --append: the first request carries no block sums; a redo (the verification failed) is a normal one.
    const appending = (s.append ?? 0) > 0 && !sent[ndx];
    const h = head;
    if (!appending && h.count === 0 && whole && src.sendWhole && sum.kind !== undefined && e.size <= SMALL_WHOLE && basisType === undefined && !xname && !xattrRequest(iflags)) {
      // A small file sent whole in one call of the source (open, check, read, sum, close), into frames
      // laid out as below; a file that cannot be opened as listed takes back the index, flags and sum
      // header written before it (held output), so the stream is what the two-call path sends.
      const from = out.data;
      const mark = out.hold();
      const prev = ndxOut.lastPositive;
      let got: number | { message: string; vanished: boolean };
      const len = e.size;
      const lit = len > 0 ? 4 : 0;
      try {
        echo(item);
        writeSumHeadAt(head, out.buffer, out.reserve(16));
        const at = out.reserve(lit + len + 4 + sum.length);
        const buf = out.buffer;
        if (len > 0) buf.writeInt32LE(len, at);
        buf.writeInt32LE(0, at + lit + len);
        const sumAt = at + lit + len + 4;
        got = src.sendWhole(e, buf, at + lit, len, sum.kind, sumAt);
        // Before release, which may hand this buffer to the pipe.
        if (typeof got === 'number' && got < len) spoilSum(buf, sumAt);
      } catch (err) {
        out.release();
        throw err;
      }
      if (typeof got !== 'number') {
        out.rollback(mark);
        ndxOut.rewind(prev);
        ioError |= got.vanished ? IOERR_VANISHED : IOERR_GENERAL;
        report.error(got.message);
        conn.send(Msg.NoSend, int32(ndx));
        continue;
      }
      out.release();
      report.sending?.(e, ndx, iflags);
      if (len > 0) report.sent?.(len);
      if (got < len) {
        ioError |= IOERR_GENERAL;
        report.error(shrank(e));
      }
      stats.literal += len;
      sent[ndx] = 1;
      report.item(e, iflags, xname, true, out.data - from, SUM_HEAD_BYTES);
      const wait = pace(len + PER_FILE);
      if (wait) await wait;
      continue;
    }
    const sums = appending ? undefined : h.count === 0 ? { head: h, sum1: NO_SUMS, sum2: NO_BYTES } : await receiveSums(conn, h);
    const f = src.open(e);
    if ('message' in f) {
      ioError |= f.vanished ? IOERR_VANISHED : IOERR_GENERAL;
      report.error(f.message);
      conn.send(Msg.NoSend, int32(ndx));
      continue;
    }
    // rsync's %b for the file: what the stream carried for it, from its index to its checksum.
    const from = out.data;
    try {
      echo(item);
      if (whole) {
        const at = out.reserve(16);
        writeSumHeadAt(head, out.buffer, at);
      } else dataOut(writeSumHead(head));
      // rsync's updating_basis_file: with --inplace the basis is the file itself (basis type 0).
      const inplace = s.inplace && (basisType ?? 0) === 0;
      report.sending?.(e, ndx, iflags);
      let done = 0;
      const backpressure = (at: number): Promise<void> | undefined => {
        report.sent?.(at);
        const n = at - done;
        done = at;
        return pace(n);
      };
      let r: MatchResult;
      if (whole && sums?.head.count === 0 && f.readWhole && sum.kind !== undefined && e.size <= SMALL_WHOLE) {
        // A small file sent whole, by the source in one call: its one literal run (none when empty),
        // the end token and the file's sum, all in one frame.
        const len = e.size;
        const lit = len > 0 ? 4 : 0;
        const at = out.reserve(lit + len + 4 + sum.length);
        const buf = out.buffer;
        if (len > 0) buf.writeInt32LE(len, at);
        buf.writeInt32LE(0, at + lit + len);
        const sumAt = at + lit + len + 4;
        const got = f.readWhole(buf, at + lit, len, sum.kind, sumAt);
        if (len > 0) report.sent?.(len);
        r = { literal: len, matched: 0, short: got < len };
        if (r.short) spoilSum(buf, sumAt);
      } else {
        const hasher = sum.file();
        // No basis, plain tokens, no batch tap: the file's bytes go straight into the frames (whole-send.ts).
        r = whole && sums?.head.count === 0
          ? await sendWhole(out, e.size, f.read, hasher, backpressure)
          : sums
          ? await sendDelta(sums, e.size, f.read, hasher, codec.writer(dataOut), inplace, backpressure)
          : await appendFile(head, e.size, f.read, hasher, codec.writer(dataOut), s.append === 2, backpressure);
        const digest = hasher.digest();
        if (r.short) spoilSum(digest, 0);
        dataOut(digest);
      }
      if (r.short) {
        ioError |= IOERR_GENERAL;
        report.error(shrank(e));
      }
      stats.literal += r.literal;
      stats.matched += r.matched;
    } finally {
      f.close();
    }
    sent[ndx] = 1;
    report.item(e, iflags, xname, true, out.data - from, SUM_HEAD_BYTES + (sums ? h.count * (4 + h.s2length) : 0));
    // Wait for the peer only when much is unsent: waiting after every file would stop the pipeline
    // (the receiver asks for the next files while this one is still in the pipe).
    const wait = pace(PER_FILE);
    if (wait) await wait;
  }
  if (ioError !== src.ioError) conn.send(Msg.IoError, int32(ioError));
  stats.ioError = ioError;
  out.push(ndxOut.encode(NDX_DONE));
  // rsync's handle_stats, after its send_files and a flush: the bytes each way so far (the goodbye
  // below comes after its count), for the summary line; with a batch, in the batch too.
  out.flush();
  stats.wire = { sent: conn.streamWritten, received: conn.streamReceived };
  s.batch?.data(Buffer.concat([stats.wire.received, stats.wire.sent, stats.totalSize, stats.flistBuildMs, 0].map((v) => varlong(v, 3))));
  // rsync's read_final_goodbye: the receiver's NDX_DONE, ours back (protocol 31), and its last one.
  let bye = await readItem();
  if (bye.ndx === NDX_DONE && session.protocol >= 31) {
    out.push(ndxOut.encode(NDX_DONE));
    bye = await readItem();
  }
  if (bye.ndx !== NDX_DONE) throw new ProtocolError(`Invalid packet at end of run (${bye.ndx}) [sender]`, Exit.Protocol);
  out.flush();
  conn.end();
  return stats;
}

/** The receiver's MSG_DELETED: a name (a directory's ends with a NUL), for the client to print. */
export function deletedName(payload: Buffer): { name: Buffer; dir: boolean } {
  const dir = payload.length > 0 && payload[payload.length - 1] === 0;
  return { name: dir ? payload.subarray(0, -1) : payload, dir };
}
