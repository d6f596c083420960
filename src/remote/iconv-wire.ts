// --iconv between machines, as the protocol layer sees it. rsync's client converts what crosses the
// connection between its own charset and the wire's UTF-8 (the server does the same for its side, told
// --iconv=REMOTE): file-list names (each side converts its own), symlink targets when both sides agreed
// on the symlink-iconv compatibility flag, and the peer's messages it prints. Both sides then exchange
// file indexes by the list's order as sent, not as sorted, since converted names may sort otherwise.
// The conversions themselves are the addon's (engine/charset.ts ClientCharset, handed in by the CLI).

import { errnoText, showPath } from '../util/errors.js';
import { absolutePath } from '../util/names.js';
import { Cf } from './handshake.js';
import { isDir, type RemoteEntry } from './flist.js';
import type { SendEntry } from './flist-send.js';
import type { WireCharset } from './wire-charset.js';

export type { WireCharset };

const SLASH = 0x2f;

/**
 * --debug=ICONV (-vv): the client names its charset once the far side is started, before anything of
 * the transfer (rsync's setup_iconv after it spawns the remote shell); `side` is its role.
 */
export const charsetLine = (side: 'sender' | 'Receiver', charset: WireCharset): string => `[${side}] charset: ${charset.charset}\n`;

/** rsync's sender_symlink_iconv, on the client: it converts names, and the server set CF_SYMLINK_ICONV. */
export const symlinkIconv = (charset: WireCharset | undefined, compat: number): boolean => charset !== undefined && (compat & Cf.SymlinkIconv) !== 0;

/** How a list's indexes go on the wire: as placed in the sorted list, or (under --iconv) as sent. */
export interface NdxOrder {
  toWire(sorted: number): number;
  fromWire(wire: number): number;
}

/**
 * The received list's indexes as sent (rsync's need_unsorted_flist): `sent` in the sender's order,
 * `sorted` the same entries after sorting (a cleared place has none, and is never asked for). An
 * index the sender names that has no place in the sorted list maps past the list's end (never to a
 * negative index, which would read as one of the protocol's markers), where no request is.
 */
export function sentOrder(sent: readonly RemoteEntry[], sorted: readonly (RemoteEntry | undefined)[]): NdxOrder {
  const wireOf = new Map<RemoteEntry, number>();
  sent.forEach((e, i) => wireOf.set(e, i));
  const sortedOf = new Map<RemoteEntry, number>();
  sorted.forEach((e, i) => {
    if (e) sortedOf.set(e, i);
  });
  return {
    toWire: (i) => {
      const e = sorted[i];
      return e ? wireOf.get(e) ?? -1 : -1;
    },
    fromWire: (n) => {
      const e = sent[n];
      return (e && sortedOf.get(e)) ?? sorted.length + n;
    },
  };
}

/**
 * The sending client's half (rsync's send_file_name under --iconv): each entry's name, and with `links`
 * its symlink target, converted for the wire (`wireName`, `wireLink`; the entry keeps its local name,
 * by which it is sorted and printed). An entry whose name or target does not convert is reported in
 * rsync's words and left out of the list, a directory with everything beneath it (rsync never walks
 * into it); `failed` then says the list carries the sender's I/O error.
 */
export function wireEntries<T extends SendEntry>(entries: readonly T[], charset: WireCharset, links: boolean, report: (message: string) => void): { entries: T[]; failed: boolean } {
  const kept: T[] = [];
  const droppedDirs = new Set<string>();
  const beneathDropped = (name: Buffer): boolean => {
    for (let at = name.lastIndexOf(SLASH); at > 0; at = name.lastIndexOf(SLASH, at - 1)) {
      if (droppedDirs.has(name.toString('latin1', 0, at))) return true;
    }
    return false;
  };
  let failed = false;
  for (const e of entries) {
    if (droppedDirs.size && beneathDropped(e.name)) continue;
    const name = charset.toWire(e.name);
    let link: Buffer | number | undefined;
    if (typeof name === 'number') {
      report(`[sender] cannot convert filename: ${showPath(e.name)} (${errnoText(name)})`);
    } else if (links && e.link && typeof (link = charset.toWire(e.link)) === 'number') {
      // rsync's full_fname: the file as the sender reached it, from the root.
      report(`[sender] cannot convert symlink data for: "${showPath(absolutePath(e.path))}" (${errnoText(link)})`);
    } else {
      if (!name.equals(e.name)) e.wireName = name;
      if (Buffer.isBuffer(link) && !link.equals(e.link!)) e.wireLink = link;
      kept.push(e);
      continue;
    }
    failed = true;
    if (isDir(e.mode)) droppedDirs.add(e.name.toString('latin1'));
  }
  return { entries: kept, failed };
}
