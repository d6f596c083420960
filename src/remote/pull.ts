// The data phases of a pull, client side (rsync's generator and receiver when the server sends): for
// each file to fetch, the request (its index, item flags and the block checksums of the basis file, or
// an empty sum header for a whole-file transfer), then the sender's answer read back and rebuilt into a
// file the caller opened, its whole-file checksum verified; a file that fails it is asked for again in
// the redo phase with full-length block sums; then the phase ends, the sender's statistics and the
// goodbye. Files are read and written through descriptors the caller owns: where they live, and every
// rule about the destination, are the caller's (cli/pull.ts).

import * as fs from 'node:fs';
import { Exit, errnoText, fsError } from '../util/errors.js';
import { NOT_YET, type Conn } from './conn.js';
import type { Session } from './handshake.js';
import { strong } from './checksum.js';
import { PlainTokenReader, type TokenReader } from './tokens.js';
import { ProtocolError, int32, type Cursor } from './wire.js';
import { NDX_DONE, NdxReader, NdxWriter } from './ndx.js';
import type { NdxOrder } from './iconv-wire.js';
import type { SenderStats } from './listing.js';
import { encodeRequest, readAnswer } from './xattr-list.js';
import { Msg } from './mux.js';

/** rsync's item flags (rsync.h ITEM_*) that a pulling client sends or reads. */
const ITEM_REPORT_XATTR = 1 << 8;
const ITEM_BASIS_TYPE_FOLLOWS = 1 << 11;
const ITEM_XNAME_FOLLOWS = 1 << 12;
const ITEM_IS_NEW = 1 << 13;
const ITEM_TRANSFER = 1 << 15;

/** rsync's BLOCK_SIZE, MAX_BLOCK_SIZE (protocol 30+), SUM_LENGTH, SHORT_SUM_LENGTH, BLOCKSUM_BIAS. */
const BLOCK_SIZE = 700;
const MAX_BLOCK_SIZE = 1 << 17;
const SUM_LENGTH = 16;
const SHORT_SUM_LENGTH = 2;
const BLOCKSUM_BIAS = 10;
/** How much of a basis is read at once to sum its blocks. */
const SUM_READ = 1 << 20;
/** How much of a rebuilt file is gathered before it is written. */
const WRITE_SPAN = 1 << 20;
/** At most this many pieces go into one writev (Linux's IOV_MAX is 1024). */
const MAX_PARTS = 256;
/** How much of the requests is gathered before it is written. */
const REQUEST_SPAN = 256 * 1024;
/** The sum header of a whole-file request: no blocks. */
const NO_SUMS = Buffer.alloc(16);

/** One file to fetch. */
export interface Fetch {
  /** Its index in the sorted file list (what the sender knows it by). */
  ndx: number;
  /** The sender's size of it (what the rebuilt file must come to). */
  size: number;
  /**
   * The basis to rebuild against (the destination's current file), or none: a whole-file transfer. Files
   * are opened only while they are used (a tree has more files than a process may hold open); the caller
   * closes what `open` returns. A basis that changed in between fails the file's checksum: the redo.
   */
  basis?: { size: number; open(): number };
  /**
   * The basis is not the destination's own file but a --link-dest/--compare-dest/--copy-dest directory's
   * (rsync's fnamecmp_type, FNAMECMP_BASIS_DIR_LOW + the directory's index): the request says so, as
   * rsync's generator does (ITEM_BASIS_TYPE_FOLLOWS and the type's byte).
   */
  basisType?: number;
  /** A --fuzzy basis's name in its directory, which the request carries (ITEM_XNAME_FOLLOWS). */
  basisName?: Buffer;
  /**
   * Where the file is rebuilt: opened for writing (and reading, for a redo). `empty` when the file was
   * just created by this call (nothing to truncate: a fresh pull's common case saves a syscall per file).
   */
  openOut(): { fd: number; empty: boolean };
  /**
   * Where one is offered, a file whose whole data came in one write is created with it in one call
   * (created, written, closed) instead of openOut's open, write and close; undefined when it cannot be
   * now (the file exists already: a redo), so that openOut is used. Throws as openOut would.
   */
  writeNew?(): ((parts: Buffer[]) => void) | undefined;
}

export interface SumHead {
  count: number;
  blength: number;
  s2length: number;
  remainder: number;
}

/** rsync's sum_sizes_sqroot: block length and strong-sum length for a basis of `len` bytes. */
export function sumSizes(len: number, csumLength: number, xferSumLen: number, blockSize = 0): SumHead {
  const maxS2 = Math.min(SUM_LENGTH, xferSumLen);
  let blength: number;
  if (blockSize) blength = blockSize;
  else if (len <= BLOCK_SIZE * BLOCK_SIZE) blength = BLOCK_SIZE;
  else {
    let c = 1;
    for (let l = Math.floor(len / 4); l > 0; l = Math.floor(l / 4)) c *= 2;
    if (c >= MAX_BLOCK_SIZE) blength = MAX_BLOCK_SIZE;
    else {
      blength = 0;
      do {
        blength |= c;
        if (len < blength * blength) blength &= ~c;
        c >>= 1;
      } while (c >= 8);
      blength = Math.max(blength, BLOCK_SIZE);
    }
  }
  let s2length: number;
  if (csumLength === SUM_LENGTH) s2length = maxS2;
  else {
    let b = BLOCKSUM_BIAS;
    for (let l = Math.floor(len / 2); l > 0; l = Math.floor(l / 2)) b += 2;
    for (let c = blength >> 1; c && b; c >>= 1) b--;
    s2length = Math.trunc((b + 1 - 32 + 7) / 8);
    s2length = Math.min(Math.max(s2length, csumLength), maxS2);
  }
  const remainder = len % blength;
  return { count: Math.floor(len / blength) + (remainder ? 1 : 0), blength, s2length, remainder };
}

export interface PullTotals {
  /** Bytes of literal data the sender sent, and bytes rebuilt from the basis (rsync's --stats). */
  literal: number;
  matched: number;
  /** Files that failed verification twice: not kept (rsync's "failed verification -- update discarded"). */
  failed: number[];
  stats: SenderStats;
}

export interface PullOptions {
  /** -W: no block sums are sent, every file comes whole. */
  wholeFile: boolean;
  /** -B: a fixed block length. */
  blockSize?: number;
  /**
   * --append (1) or --append-verify (2), rsync's append_mode, which the sender was given too: in the
   * first phase a file's request carries the sum header of the destination's file (its length) and no
   * sums, whatever -W says, and the sender sends only what lies past that length (rsync's generator
   * and match_sums); the redo phase asks as without it.
   */
  append?: number;
  /** A reader of the sender's tokens for one file (the plain one unless -z plugs its own in). */
  tokens?(conn: Conn, blocks: number): TokenReader;
  /** -X: abbreviated xattr values to ask for, by entry (with its transfer, or on their own). */
  xattrAsks?: XattrAsk[];
  /**
   * --remove-source-files: the session is left open before its last goodbye (the sender waits for it,
   * reading messages); endPull then tells the sender which sources to remove and says goodbye.
   */
  holdGoodbye?: boolean;
  /** A file that failed verification in the first phase, before it is asked for again (rsync's warning). */
  onRedo?(ndx: number): void;
  /** --iconv: the list's indexes as sent, which the wire then uses (iconv-wire.ts); absent, the sorted places are. */
  order?: NdxOrder;
  /** Kept up to date as files arrive, so a session that ends early can still place what came whole. */
  progress?: PullProgress;
  /** --progress/--info=progress2 drawn as the data arrives (progress/receive-progress.ts). */
  lines?: ReceiveLines;
}

/** What a receiver's progress lines are told, in rsync's receiver's order. */
export interface ReceiveLines {
  /** The data of the file at list index `ndx` starts, `size` bytes in all. */
  begin(ndx: number, size: number): void;
  /** A token arrived, `ofs` bytes of the file before it. */
  data(ofs: number): void;
  /** The file at list index `ndx` is received (verified or not). */
  end(ndx: number): void;
  /** The sender's NDX_DONE: a phase ended. */
  phaseDone(): void;
}

/**
 * What has arrived so far (rsync's receiver places each file as it is verified; a pull places them after
 * the session, so a session cut short needs this to know which staged files are whole: cli/pull-salvage.ts).
 */
export interface PullProgress {
  /** Files rebuilt whole whose whole-file sum matched (a first-phase failure joins only once its redo passes). */
  verified: Set<number>;
  /**
   * The file being rebuilt, if any, and whether literal data of it has come (rsync's cleanup_got_literal:
   * only then does --partial keep it); never in the redo phase, whose file is rewritten over the failed
   * first copy.
   */
  current?: { ndx: number; gotLiteral(): boolean; flush?: () => void };
}

/** The full values of an entry's abbreviated xattrs that the destination does not have (rsync's XSTATE_TODO). */
export interface XattrAsk {
  ndx: number;
  /** The items' numbers in the sender's list. */
  nums: number[];
  /** The values, once the sender's echo brought them. */
  got(values: Map<number, Buffer>): void;
}


/** The index writer, turning each list place into the index the wire uses (--iconv's order as sent). */
function mappedWriter(w: NdxWriter, order: NdxOrder | undefined): Pick<NdxWriter, 'encode'> {
  return order ? { encode: (n) => w.encode(n >= 0 ? order.toWire(n) : n) } : w;
}

/** The index reader, turning each index the wire uses back into a list place. */
function mappedReader(r: NdxReader, order: NdxOrder | undefined): Pick<NdxReader, 'decode'> {
  if (!order) return r;
  return {
    decode: (c) => {
      const n = r.decode(c);
      return n >= 0 ? order.fromWire(n) : n;
    },
  };
}

/**
 * A rebuilt file could not be written where it is staged (a full disk, a quota): rsync's receiver stops at
 * a failed write (exit 11, its "write failed on" line). `ndx` names the file for the caller's message.
 */
export class StageWriteError extends ProtocolError {
  constructor(
    readonly ndx: number,
    readonly errno: number,
    readonly syscall: string,
  ) {
    super(`write failed (index ${ndx}): ${errnoText(errno)} (${errno})`, Exit.FileIO);
  }
}

/** The system calls that put a rebuilt file down (Fetch.openOut, writeNew, rebuildFile's writes). */
const STAGE_CALLS = new Set(['open', 'write', 'writev', 'ftruncate', 'close', 'fsync']);

/** Runs the transfer phases for `fetches` (possibly none) and the end of the session. */
export async function pullFiles(conn: Conn, session: Session, fetches: Fetch[], o: PullOptions): Promise<PullTotals> {
  const sum = strong(session.checksum);
  const ndxOut = mappedWriter(new NdxWriter(), o.order);
  const ndxIn = mappedReader(new NdxReader(), o.order);
  const byNdx = new Map(fetches.map((f) => [f.ndx, f]));
  const asks = new Map((o.xattrAsks ?? []).map((a) => [a.ndx, a]));
  /** The item flags and rsync's xattr request that follow an index (first phase only: the values come once). */
  const attrs = (ndx: number, iflags: number, first: boolean, f?: Fetch): Buffer => {
    const ask = first ? asks.get(ndx) : undefined;
    if (ask) iflags |= ITEM_REPORT_XATTR;
    const type = f?.basis ? f.basisType : undefined;
    const xname = type !== undefined ? f!.basisName : undefined;
    if (type !== undefined) iflags |= ITEM_BASIS_TYPE_FOLLOWS;
    if (xname) iflags |= ITEM_XNAME_FOLLOWS;
    // The flags, the basis type, the fuzzy basis's name, then the xattr request (rsync's itemize's order).
    const parts: Buffer[] = [Buffer.from([iflags & 0xff, (iflags >> 8) & 0xff])];
    if (type !== undefined) parts.push(Buffer.from([type]));
    if (xname) parts.push(vstring(xname));
    if (ask) parts.push(encodeRequest(ask.nums));
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  };
  const totals: PullTotals = { literal: 0, matched: 0, failed: [], stats: undefined as unknown as SenderStats };

  // Requests are gathered and written a quarter megabyte at a time (a fresh pull of many small files
  // made one write, and one frame, per file).
  let queued: Buffer[] = [];
  let queuedBytes = 0;
  const flushQueue = (): void => {
    if (queued.length) conn.write(Buffer.concat(queued, queuedBytes));
    queued = [];
    queuedBytes = 0;
  };
  const queue = (b: Buffer): void => {
    queued.push(b);
    queuedBytes += b.length;
    if (queuedBytes >= REQUEST_SPAN) flushQueue();
  };

  // rsync's append_mode, on for the first phase only (its generator turns it off for the redo).
  let appending = o.append ?? 0;
  let firstPhase = true;
  /** Whether `f`'s request carries sums of its basis (its header at least, under --append). */
  const summed = (f: Fetch): boolean => f.basis !== undefined && (!o.wholeFile || appending > 0);
  const request = (f: Fetch, csumLength: number, first: boolean): void => {
    if (f.basis && summed(f)) {
      // Probe first: a basis that went away is dropped before anything of this request is written.
      try {
        fs.closeSync(f.basis.open());
      } catch {
        delete f.basis;
      }
    }
    const parts: Buffer[] = [ndxOut.encode(f.ndx), attrs(f.ndx, ITEM_TRANSFER | (f.basis && !f.basisName ? 0 : ITEM_IS_NEW), first, f)];
    if (!f.basis || !summed(f)) {
      parts.push(NO_SUMS);
    } else {
      const head = sumSizes(f.basis.size, csumLength, sum.length, o.blockSize);
      parts.push(int32(head.count), int32(head.blength), int32(head.s2length), int32(head.remainder));
      if (appending) {
        // The header alone: it tells the sender how much of the file the destination has.
        for (const b of parts) queue(b);
        return;
      }
      // The basis is read many blocks at a time, and the sums go straight into one buffer.
      const per = 4 + head.s2length;
      const sums = Buffer.allocUnsafe(head.count * per);
      const fd = f.basis.open();
      try {
        // The far side waits for these sums: with the addon the file is read and summed in C, a large one
        // by two threads (native/basissum.c); else one call sums each span read here.
        const n = sum.fileBlocks?.(fd, f.basis.size, head.blength, head.s2length, session.seed, sums);
        if (n !== undefined && n < 0) throw fsError(-n, 'read');
        if (n === undefined) {
          const span = Math.max(1, Math.floor(SUM_READ / head.blength)) * head.blength;
          const buf = Buffer.allocUnsafe(Math.min(span, f.basis.size));
          for (let pos = 0, i = 0; i < head.count; pos += span) {
            const got = readFull(fd, buf, Math.min(span, f.basis.size - pos), pos);
            i += sum.blocks(buf.subarray(0, got), head.blength, head.s2length, session.seed, sums, i * per);
          }
        }
      } finally {
        fs.closeSync(fd);
      }
      parts.push(sums);
    }
    for (const b of parts) queue(b);
  };

  /** Reads the sender's answers until its NDX_DONE; returns the indexes that failed verification. */
  const receive = async (): Promise<number[]> => {
    const bad: number[] = [];
    // Each field is taken at once when it has arrived (nearly always), awaited only when not.
    const readNdx = (c: Cursor): number => ndxIn.decode(c);
    const readFlags = (c: Cursor): number => c.byte() | (c.byte() << 8);
    const readHead = (c: Cursor): SumHead => ({ count: c.int32(), blength: c.int32(), s2length: c.int32(), remainder: c.int32() });
    for (;;) {
      let ndx = conn.readNow(readNdx);
      if (ndx === NOT_YET) ndx = await conn.read(readNdx);
      if (ndx === NDX_DONE) {
        o.lines?.phaseDone();
        return bad;
      }
      const f = byNdx.get(ndx);
      const ask = asks.get(ndx);
      if (!f && !ask) throw new ProtocolError(`Invalid file index: ${ndx} (the sender answered a request never made)`, Exit.Protocol);
      let iflags = conn.readNow(readFlags);
      if (iflags === NOT_YET) iflags = await conn.read(readFlags);
      if (iflags & ITEM_BASIS_TYPE_FOLLOWS) await conn.read((c) => c.byte());
      if (iflags & ITEM_XNAME_FOLLOWS) await conn.read((c) => c.vstring(4096));
      if (iflags & ITEM_REPORT_XATTR) {
        // Only what was asked for, once (a second echo of the same index may bring nothing).
        const got = await conn.read((c) => readAnswer(c, new Set(ask?.nums ?? [])));
        if (ask) {
          asks.delete(ndx);
          ask.got(got);
        }
      }
      if (!(iflags & ITEM_TRANSFER)) continue;
      if (!f) throw new ProtocolError(`Invalid file index: ${ndx} (a transfer never asked for)`, Exit.Protocol);
      let head = conn.readNow(readHead);
      if (head === NOT_YET) head = await conn.read(readHead);
      const sent = f.basis && summed(f) ? sumSizes(f.basis.size, SHORT_SUM_LENGTH, sum.length, o.blockSize) : undefined;
      // The echo must be the header we sent (its block count bounds every block reference below).
      if (head.count < 0 || head.count > (sent?.count ?? 0) || (head.count && head.blength !== sent!.blength)) {
        throw new ProtocolError(`invalid sum header for file index ${ndx}`, Exit.Protocol);
      }
      const progress = o.progress;
      const before = totals.literal;
      // (A redo's staged file holds the failed first copy until its first write: never a part to keep.)
      if (progress) progress.current = { ndx, gotLiteral: () => firstPhase && totals.literal > before };
      o.lines?.begin(ndx, f.size);
      const whole = await rebuild(f, head);
      o.lines?.end(ndx);
      if (progress) progress.current = undefined;
      if (whole) progress?.verified.add(ndx);
      else {
        bad.push(ndx);
        if (firstPhase) o.onRedo?.(ndx);
      }
    }
  };

  /** The rebuilt file's bytes gather here and are written (and hashed) a megabyte at a time. */
  const pending = Buffer.allocUnsafe(WRITE_SPAN);
  const rebuild = async (f: Fetch, head: SumHead): Promise<boolean> => {
    try {
      const held = o.progress?.current;
      const onPending = held
        ? (fn: (() => void) | undefined): void => {
            if (fn) held.flush = fn;
            else delete held.flush;
          }
        : undefined;
      return await rebuildFile(conn, f, head, sum, o.tokens ? o.tokens(conn, head.count) : new PlainTokenReader(conn, head.count), totals, pending, appending, o.lines, onPending);
    } catch (e) {
      const x = e as NodeJS.ErrnoException;
      if (!(e instanceof ProtocolError) && typeof x.errno === 'number' && typeof x.syscall === 'string' && STAGE_CALLS.has(x.syscall)) {
        throw new StageWriteError(f.ndx, Math.abs(x.errno), x.syscall);
      }
      throw e;
    }
  };

  // In the list's order, as rsync's generator goes: transfers, and entries whose xattr values alone are asked for.
  const firsts = [...fetches.map((f) => ({ ndx: f.ndx, f })), ...[...asks.keys()].filter((n) => !byNdx.has(n)).map((ndx) => ({ ndx, f: undefined }))];
  for (const { ndx, f } of firsts.sort((a, b) => a.ndx - b.ndx)) {
    if (f) request(f, SHORT_SUM_LENGTH, true);
    else queue(Buffer.concat([ndxOut.encode(ndx), attrs(ndx, 0, true)]));
  }
  queue(ndxOut.encode(NDX_DONE));
  flushQueue();
  const redo = await receive();
  // The redo phase: full-length block sums against the same basis.
  appending = 0;
  firstPhase = false;
  for (const ndx of redo) request(byNdx.get(ndx)!, SUM_LENGTH, false);
  queue(ndxOut.encode(NDX_DONE));
  flushQueue();
  totals.failed = redo.length ? await receive() : (await expectDone(conn, ndxIn), o.lines?.phaseDone(), []);
  // Phase 2 ends, and the goodbye (one write, as rsync's generator sends them). Before protocol 31 the
  // sender reads that one goodbye and leaves, so one held for --remove-source-files (MSG_SUCCESS must
  // come before it) goes later, in endPull.
  const modern = session.protocol >= 31;
  conn.write(Buffer.concat([ndxOut.encode(NDX_DONE), ...(modern || !o.holdGoodbye ? [ndxOut.encode(NDX_DONE)] : [])]));
  await expectDone(conn, ndxIn);
  o.lines?.phaseDone();
  totals.stats = await conn.read((c) => {
    const totalWritten = c.varlong(3);
    const totalRead = c.varlong(3);
    const totalSize = c.varlong(3);
    const flistBuildTime = c.varlong(3);
    const flistXferTime = c.varlong(3);
    return { totalRead, totalWritten, totalSize, flistBuildTime, flistXferTime };
  });
  if (!modern) {
    // The sender's goodbye has no answer before protocol 31.
    if (!o.holdGoodbye) conn.end();
    return totals;
  }
  // Its answer (protocol 31), and our last word.
  await expectDone(conn, ndxIn);
  if (!o.holdGoodbye) endPull(conn, []);
  return totals;
}

/**
 * The session's last goodbye, after a MSG_SUCCESS for each index in `placed`: rsync's sender, waiting
 * for that goodbye, removes each such source (after checking it is still the file it sent: its own
 * successful_send) as its receiver's MSG_SUCCESS tells it, whenever that comes.
 */
export function endPull(conn: Conn, placed: readonly number[]): void {
  for (const ndx of placed) conn.send(Msg.Success, int32(ndx));
  conn.write(new NdxWriter().encode(NDX_DONE));
  conn.end();
}

/**
 * Rebuilds one file from the sender's tokens (literal data and blocks of `f`'s basis) into `f.openOut()`,
 * then reads the sender's whole-file sum: true when the file came out whole and the sums agree. The
 * literal and matched bytes are added to `totals`; `pending` is the write buffer (a megabyte or more);
 * `lines` is told the offset before each token (rsync's receiver draws its progress there).
 * A pull (above) and a batch being read (cli/batch-read.ts) rebuild alike.
 */
export async function rebuildFile(conn: Conn, f: Fetch, head: SumHead, sum: ReturnType<typeof strong>, reader: TokenReader, totals: { literal: number; matched: number }, pending: Buffer, append = 0, lines?: Pick<ReceiveLines, 'data'>, onPending?: (flush: (() => void) | undefined) => void): Promise<boolean> {
  // Opened at the first write: a file whose data all fits in one write goes out in one call (writeNew).
  let out = -1;
  const open = (): number => {
    if (out >= 0) return out;
    const opened = f.openOut();
    out = opened.fd;
    if (!opened.empty) fs.ftruncateSync(out, 0);
    return out;
  };
  let basisFd = -1;
  let lost = false;
  let keepPending: (() => void) | undefined;
  try {
    const hasher = sum.file();
    const plain = reader instanceof PlainTokenReader;
    let at = 0;
    // The bytes gathered since the last write, in order: the plain reader's literal runs as the views
    // it hands out (the connection never writes over them: conn.ts), so received data is not copied
    // once more before its write; blocks of the basis (and a compressed reader's output, which it may
    // reuse) are read or copied into `pending`. Written with one writev a megabyte at a time.
    const parts: Buffer[] = [];
    let fill = 0;
    let used = 0;
    const flush = (): void => {
      if (fill === 0) return;
      for (const b of parts) hasher.update(b);
      writevFull(open(), parts, fill, at - fill);
      parts.length = 0;
      fill = 0;
      used = 0;
    };
    // A pull cut short keeps what came of this file (rsync's receiver has written it as it came): what
    // waits here is written out first (cli/pull-salvage.ts, through PullProgress.current).
    const keep = (): void => {
      try {
        flush();
      } catch {
        // No room for it: what was written stays.
      }
    };
    keepPending = keep;
    onPending?.(keep);
    // The sender may not make a file longer than it said it is (a hostile peer filling the disk).
    const room = (len: number, copied: boolean): void => {
      if (at + len > f.size) throw new ProtocolError(`the sender sent more data than the file's size (index ${f.ndx})`, Exit.Protocol);
      if (fill + len > WRITE_SPAN || parts.length >= MAX_PARTS || (copied && used + len > pending.length)) flush();
    };
    // --append (rsync's receive_data): the destination's first bytes, as long as the header says, come
    // from it (summed too under --append-verify, whose sender sums them as well); the tokens are the rest.
    if (append > 0 && head.count > 0 && f.basis) {
      const flength = head.count * head.blength - (head.remainder ? head.blength - head.remainder : 0);
      let fd = -1;
      try {
        fd = f.basis.open();
      } catch {
        lost = true;
      }
      try {
        const buf = Buffer.allocUnsafe(Math.min(pending.length, flength));
        for (let pos = 0; pos < flength; ) {
          const n = Math.min(buf.length, flength - pos);
          if (fd >= 0) readFull(fd, buf, n, pos);
          else buf.fill(0, 0, n);
          if (append === 2) hasher.update(buf.subarray(0, n));
          writeFull(open(), buf.subarray(0, n), pos);
          pos += n;
        }
      } finally {
        if (fd >= 0) fs.closeSync(fd);
      }
      at = flength;
    }
    /** Blocks b..b+m-1 of the basis, read in one piece. */
    const copyBlocks = (b: number, m: number): void => {
      const last = b + m === head.count && head.remainder;
      const len = m * head.blength - (last ? head.blength - head.remainder : 0);
      room(len, true);
      if (basisFd < 0 && !lost) {
        try {
          basisFd = f.basis!.open();
        } catch {
          // The basis went away since it was summed: this file cannot be rebuilt now (the redo asks again).
          lost = true;
        }
      }
      // A block longer than the buffer (-B beyond it) goes through a buffer of its own.
      const into = len > pending.length ? Buffer.allocUnsafe(len) : pending.subarray(used, used + len);
      if (lost) into.fill(0);
      else readFull(basisFd, into, len, b * head.blength);
      // The plain reader has no use for the blocks (a compressed one feeds them to its dictionary).
      if (!plain) for (let j = 0; j < m; j++) reader.matched(into.subarray(j * head.blength, Math.min(len, (j + 1) * head.blength)));
      if (into.buffer !== pending.buffer) {
        hasher.update(into);
        writeFull(open(), into, at);
      } else {
        parts.push(into);
        fill += len;
        used += len;
      }
      totals.matched += len;
      at += len;
    };
    for (;;) {
      const t = reader.poll?.() ?? (await reader.next());
      if (t.kind === 'end') break;
      lines?.data(at);
      if (t.kind === 'literal') {
        const len = t.data.length;
        room(len, !plain);
        if (len > pending.length) {
          hasher.update(t.data);
          writeFull(open(), t.data, at);
        } else if (plain) {
          parts.push(t.data);
          fill += len;
        } else {
          const into = pending.subarray(used, used + len);
          t.data.copy(into);
          parts.push(into);
          fill += len;
          used += len;
        }
        totals.literal += len;
        at += len;
      } else {
        // A run of consecutive blocks (the plain reader gathers them) is read as few pieces as fit the buffer.
        const per = Math.max(1, Math.floor(pending.length / head.blength));
        for (let b = t.block, left = t.blocks ?? 1; left > 0; ) {
          const m = Math.min(left, per);
          copyBlocks(b, m);
          b += m;
          left -= m;
        }
      }
    }
    // Nothing written yet: the whole file (perhaps empty) in one call where the fetch offers it.
    const whole = out < 0 ? f.writeNew?.() : undefined;
    if (whole) {
      for (const b of parts) hasher.update(b);
      whole(parts);
    } else {
      flush();
      open();
    }
    const readSum = (c: Cursor): Buffer => Buffer.from(c.bytes(sum.length));
    let theirs = conn.readNow(readSum);
    if (theirs === NOT_YET) theirs = await conn.read(readSum);
    return !lost && at === f.size && hasher.digest().equals(theirs);
  } catch (e) {
    // Cut short (the connection broke, the far side stopped): what came is written before it goes.
    if (e instanceof ProtocolError) keepPending?.();
    throw e;
  } finally {
    onPending?.(undefined);
    if (out >= 0) fs.closeSync(out);
    if (basisFd >= 0) fs.closeSync(basisFd);
  }
}

/** rsync's write_vstring: a length of one byte, or two with the high bit set past 0x7f, then the bytes. */
function vstring(b: Buffer): Buffer {
  const len = b.length > 0x7fff ? b.subarray(0, 0x7fff) : b;
  const head = len.length > 0x7f ? Buffer.from([(len.length >> 8) | 0x80, len.length & 0xff]) : Buffer.from([len.length]);
  return Buffer.concat([head, len]);
}

async function expectDone(conn: Conn, ndx: Pick<NdxReader, 'decode'>): Promise<void> {
  const n = await conn.read((c) => ndx.decode(c));
  if (n !== NDX_DONE) throw new ProtocolError(`Invalid packet at end of run (index ${n})`, Exit.Protocol);
}

function readFull(fd: number, buf: Buffer, len: number, pos: number): number {
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  // A basis that shrank under us reads as zeros: the whole-file checksum catches it and the redo
  // phase fetches the file again.
  buf.fill(0, got, len);
  return len;
}

/** `parts` (`len` bytes in all) written at `pos` in one writev, or what is left of them piece by piece after a short write. */
function writevFull(fd: number, parts: Buffer[], len: number, pos: number): void {
  let done = parts.length === 1 ? fs.writeSync(fd, parts[0]!, 0, len, pos) : fs.writevSync(fd, parts, pos);
  if (done === len) return;
  for (const b of parts) {
    if (done >= b.length) {
      done -= b.length;
      continue;
    }
    writeFull(fd, b.subarray(done), pos);
    pos += b.length - done;
    done = 0;
  }
}

function writeFull(fd: number, data: Buffer, pos: number): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, pos + done);
}
