// A pull that transfers nothing: the client side of `rsync host:path` with no destination (rsync's
// implicit --list-only). It runs the whole protocol a receiving client runs — filter list, file list,
// the three phases ended with NDX_DONE, the sender's statistics and the goodbye — requesting no file,
// and returns the sorted list for the caller to print.

import type { Conn } from './conn.js';
import { strong } from './checksum.js';
import { handshake, Cf, type Session } from './handshake.js';
import type { ClientCompress } from './compress.js';
import { FlistDecoder, sortAndClean, type FlistEnd, type FlistOptions, type RemoteEntry } from './flist.js';
import { Exit } from '../util/errors.js';
import { sentOrder, symlinkIconv, type NdxOrder, type WireCharset } from './iconv-wire.js';
import { ProtocolError, Short, int32, type Cursor } from './wire.js';

/** rsync's NDX_DONE on the wire (protocol 30+): one zero byte. */
const NDX_DONE = Buffer.from([0]);

export interface SenderStats {
  totalRead: number;
  totalWritten: number;
  totalSize: number;
  flistBuildTime: number;
  flistXferTime: number;
}

export interface ReceivedList {
  session: Session;
  /** In rsync's order; duplicates cleared to undefined. */
  entries: (RemoteEntry | undefined)[];
  /** As the sender sent them (the order hard-link references count in). */
  sent: RemoteEntry[];
  ioError: number;
  /**
   * rsync's "File list size": what the list cost on the wire, its data and the headers of the frames
   * that carried it (rsync counts its socket reads while the list comes in).
   */
  listBytes: number;
  userNames: Map<number, Buffer>;
  groupNames: Map<number, Buffer>;
  /** --iconv: the indexes the wire uses (the list as sent); absent, they are the places in `entries`. */
  order?: NdxOrder;
}

export interface Listing extends ReceivedList {
  /** Undefined when the list was empty (the sender sends none then). */
  stats: SenderStats | undefined;
}

export type ListOptions = Omit<FlistOptions, 'protocol' | 'id0Names' | 'varintFlags' | 'safeFlist'>;

/** Reads the file list; the caller has already started the server as a sender. */
export async function receiveList(
  conn: Conn,
  opts: ListOptions,
  /** What goes to the sender before its list: the filter rules, and a forwarded --files-from list (which depends on the protocol). */
  filterList: Buffer | ((session: Session) => Buffer) = int32(0),
  ask: { compress: ClientCompress; env: NodeJS.ProcessEnv } = { compress: { mode: 'off' }, env: {} },
  /** --iconv: this client's charset, and where a target it cannot convert is reported. */
  iconv?: { charset: WireCharset; report(message: string): void },
): Promise<ReceivedList> {
  // A listing moves no file data, but -z still goes through the negotiation, as with rsync.
  const session = await handshake(conn, ask.compress, ask.env);
  conn.startMuxIn();
  conn.startMuxOut();
  // The filter rules we send the sender (remote/filter-list.ts frames them; a listing sends none).
  conn.write(typeof filterList === 'function' ? filterList(session) : filterList);
  const decoder = new FlistDecoder({
    ...opts,
    // -c: each file's sum is as long as the negotiated checksum's (MD5 and xxh128 16 bytes, xxh3/xxh64 8).
    checksumLen: opts.checksumLen ? strong(session.checksum).length : 0,
    protocol: session.protocol,
    id0Names: (session.compat & Cf.Id0Names) !== 0,
    varintFlags: (session.compat & Cf.VarintFlistFlags) !== 0,
    safeFlist: session.protocol >= 31 || (session.compat & Cf.SafeFlist) !== 0,
    ...(iconv ? { names: { ...iconv, links: symlinkIconv(iconv.charset, session.compat) } } : {}),
  });
  const before = conn.consumed;
  const framesBefore = conn.dataFrames;
  const messagesBefore = conn.messageBytes;
  let got = await conn.read((c) => several(decoder, c));
  while (!('end' in got)) got = await conn.read((c) => several(decoder, c));
  const ioError = got.ioError;
  await conn.read((c) => decoder.idLists(c));
  const entries = sortAndClean(decoder.entries);
  // An entry --iconv dropped is in the list as sent (its index) but nowhere else.
  if (iconv) for (let i = 0; i < entries.length; i++) if (entries[i]?.dropped) entries[i] = undefined;
  return {
    session,
    sent: decoder.entries,
    entries,
    ...(iconv ? { order: sentOrder(decoder.entries, entries) } : {}),
    ioError,
    // rsync's flist_size: what was read while the list came, framing and the messages among it included.
    listBytes: conn.consumed - before + 4 * (conn.dataFrames - framesBefore) + conn.messageBytes - messagesBefore,
    userNames: decoder.userNames,
    groupNames: decoder.groupNames,
  };
}

/**
 * The end of a receiving client's run when it requested nothing (or everything is done). An empty
 * list ends the session at once on both sides (the sender exits): no phases, no statistics.
 */
export async function finishReceive(conn: Conn, empty: boolean, protocol = 31): Promise<SenderStats | undefined> {
  if (empty) {
    conn.end();
    return undefined;
  }
  // Phase 0 ends with NDX_DONE, which the sender echoes. With nothing to redo, rsync's generator then
  // ends phases 1 and 2 and says goodbye in one write; the same framing gives the sender the same
  // byte counts to report as it reports to rsync itself.
  // Before protocol 31 the goodbye goes after the statistics, which then do not count it (as rsync's).
  const modern = protocol >= 31;
  conn.write(NDX_DONE);
  await expectDone(conn);
  conn.write(Buffer.concat(modern ? [NDX_DONE, NDX_DONE, NDX_DONE] : [NDX_DONE, NDX_DONE]));
  await expectDone(conn);
  await expectDone(conn);
  const stats = await conn.read((c) => {
    // The sender's view: what it read is what we wrote, and the other way round.
    const totalWritten = c.varlong(3);
    const totalRead = c.varlong(3);
    const totalSize = c.varlong(3);
    const flistBuildTime = c.varlong(3);
    const flistXferTime = c.varlong(3);
    return { totalRead, totalWritten, totalSize, flistBuildTime, flistXferTime };
  });
  // The sender's answer to the goodbye and our receiver's last word (protocol 31), or the goodbye,
  // which the sender reads before it leaves.
  if (modern) await expectDone(conn);
  conn.write(NDX_DONE);
  conn.end();
  return stats;
}

async function expectDone(conn: Conn): Promise<void> {
  const b = await conn.read((c) => c.byte());
  if (b !== 0) throw new ProtocolError(`Invalid packet at end of run (byte ${b})`, Exit.Protocol);
}

/**
 * As many entries as have arrived, in one read (one cursor and one await per batch, not per entry);
 * the last one decoded, or the end. An entry cut short stays for the next read: the decoder keeps no
 * state of an entry it did not finish (Conn.read retries it the same way).
 */
export function several(decoder: FlistDecoder, c: Cursor): RemoteEntry | FlistEnd {
  let got = decoder.next(c);
  while (!('end' in got) && c.left > 0) {
    const at = c.pos;
    try {
      got = decoder.next(c);
    } catch (e) {
      if (!(e instanceof Short)) throw e;
      c.pos = at;
      break;
    }
  }
  return got;
}
