// The xattr lists of rsync's file list (-X, rsync's xattrs.c), both ways: after each entry its list, or
// the index of an identical list sent before (each side keeps every distinct list it has seen, in
// order, so the index means the same list on both); a value longer than 32 bytes travels as its MD5
// only, and the receiver asks for the full values it lacks with its per-file request (the item flag
// "xattrs changed" followed by the wanted items' numbers), which the sender answers in its echo of that
// index. Which names travel, and how a receiver maps them, are rsync's namespace rules, held here once.
// The peer is not trusted: counts, lengths and names are checked against rsync's own bounds.

import { createHash } from 'node:crypto';
import { Exit } from '../util/errors.js';
import { Cursor, ProtocolError, varint } from './wire.js';

/** rsync's MAX_FULL_DATUM: longer values are sent as their checksum (abbreviated). */
export const MAX_FULL_DATUM = 32;
/** The abbreviated value's checksum: MD5 (every protocol 30+ peer), unseeded. */
export const XATTR_SUM_LEN = 16;
/** rsync's MAX_WIRE_XATTR_COUNT, MAX_WIRE_XATTR_NAMELEN, its per-value and per-file limits. */
const MAX_COUNT = 65536;
const MAX_NAMELEN = 4096;
const MAX_VALUE = 128 * 1024 * 1024;
const MAX_LIST = 512 * 1024 * 1024;

/** One xattr as a list carries it. */
export interface XattrItem {
  /** The name, without the NUL the wire carries. */
  name: Buffer;
  /** The value's length. */
  len: number;
  /** The value, when known (always on the sending side; up to 32 bytes, or asked for, on the receiving side). */
  value?: Buffer;
  /** An abbreviated value's MD5. */
  sum?: Buffer;
  /** The item's 1-based place in the sender's list: what a request names. */
  num: number;
}

export const abbreviated = (it: XattrItem): boolean => it.len > MAX_FULL_DATUM;
export const xattrSum = (value: Buffer): Buffer => createHash('md5').update(value).digest();

const USER = Buffer.from('user.');
const SYSTEM = Buffer.from('system.');
const RSYNC = Buffer.from('user.rsync.');
const startsWith = (b: Buffer, p: Buffer): boolean => b.length >= p.length && b.subarray(0, p.length).equals(p);
/** rsync's own records (user.rsync.%stat, %aacl, %dacl...): sent and kept only with -XX. */
const isRsyncRecord = (name: Buffer): boolean => name.length > RSYNC.length && name[RSYNC.length] === 0x25 && startsWith(name, RSYNC);

/**
 * The sender's side of the namespace rule (rsync_xal_get with am_sender): every name but the system
 * namespace (ACLs travel in their own lists) and rsync's own records; sorted by name bytes, numbered.
 * Under --fake-super (`fake`) a name the receiver once hid as `user.rsync.NAME` goes out as NAME again
 * (rsync's send_xattr), keeping its place in the order of the names on disk. `all` (-XX): rsync's own
 * records go too. `excluded`: given when there are x-rules (the sender's view, plan/xattr-rules.ts),
 * which then alone say which names go (rsync_xal_get with saw_xattr_filter).
 */
export function senderItems(names: readonly Buffer[], values: readonly Buffer[], fake = false, all = false, excluded?: (name: Buffer) => boolean): XattrItem[] {
  const items: XattrItem[] = [];
  names.forEach((name, i) => {
    // x-rules replace the namespace rule: what they do not exclude goes, system.* included.
    if (excluded ? excluded(name) : startsWith(name, SYSTEM)) return;
    if (isRsyncRecord(name) && !all) return;
    const value = values[i]!;
    items.push({ name, len: value.length, value, num: 0, ...(value.length > MAX_FULL_DATUM ? { sum: xattrSum(value) } : {}) });
  });
  items.sort((a, b) => Buffer.compare(a.name, b.name));
  items.forEach((it, i) => {
    it.num = i + 1;
    if (fake && it.name.length > RSYNC.length && startsWith(it.name, RSYNC)) it.name = it.name.subarray(RSYNC.length);
  });
  return items;
}

/** What identifies a list for the cache: names, lengths and values (or their sums when abbreviated). */
function listKey(items: readonly XattrItem[]): string {
  const parts: string[] = [];
  for (const it of items) {
    const v = abbreviated(it) ? it.sum! : it.value!;
    parts.push(`${it.name.toString('latin1')}\0${it.len}\0${v.toString('latin1')}`);
  }
  return parts.join('\x01');
}

/** The sending side (rsync's send_xattr): each entry's list, or the index of the same list sent before. */
export class XattrSender {
  private readonly known = new Map<string, number>();
  /** Every distinct list, by index: what a request for an entry's abbreviated values is answered from. */
  readonly lists: XattrItem[][] = [];

  /** The bytes that follow an entry; returns them and the list's index. */
  encode(items: XattrItem[]): { bytes: Buffer; ndx: number } {
    const key = listKey(items);
    const had = this.known.get(key);
    if (had !== undefined) return { bytes: varint(had + 1), ndx: had };
    const out: Buffer[] = [varint(0), varint(items.length)];
    for (const it of items) {
      out.push(varint(it.name.length + 1), varint(it.len), it.name, Buffer.from([0]));
      out.push(abbreviated(it) ? it.sum! : it.value!);
    }
    const ndx = this.lists.length;
    this.lists.push(items);
    this.known.set(key, ndx);
    return { bytes: Buffer.concat(out), ndx };
  }
}

/** How the receiving side keeps names (rsync's receive_xattr on Linux). */
export interface ReceiveRule {
  /** Root keeps every namespace; anyone else only user.* (the others are dropped). */
  root: boolean;
  /** --fake-super (rsync's am_root < 0): another namespace's NAME is kept as user.rsync.NAME. */
  fake?: boolean;
  /** -XX: rsync's own user.rsync.% records are kept too. */
  all?: boolean;
  /**
   * Given when there are x-rules (their receiver's view, plan/xattr-rules.ts): a name they exclude is
   * dropped, and a receiver that is not root keeps another namespace's NAME as user.rsync.NAME instead
   * of dropping it (receive_xattr with saw_xattr_filter).
   */
  excluded?: (name: Buffer) => boolean;
}

/** A list read from the wire but not yet stored (so a short read leaves the cache unchanged). */
export type PendingXattrs = { ref: number } | { items: XattrItem[] };

/** The receiving side (rsync's receive_xattr): the lists in the order they arrived. */
export class XattrReceiver {
  readonly lists: XattrItem[][] = [];

  constructor(private readonly rule: ReceiveRule) {}

  /** Reads an entry's list; nothing is stored until `commit` (the decoder's retry-on-short rule). */
  read(c: Cursor): PendingXattrs {
    const ndx = c.varint();
    if (ndx < 0 || ndx > this.lists.length) {
      throw new ProtocolError(`receive_xattr: xa index ${ndx} out of range (${this.lists.length} lists)`, Exit.StreamIO);
    }
    if (ndx !== 0) return { ref: ndx - 1 };
    const count = c.varintIn(0, MAX_COUNT, 'xattr count');
    const items: XattrItem[] = [];
    let total = 0;
    let resort = false;
    for (let num = 1; num <= count; num++) {
      const nameLen = size(c, MAX_NAMELEN, 'xattr name_len');
      const len = size(c, 0x7fffffff, 'xattr datum_len');
      if (len > MAX_VALUE) throw new ProtocolError('xattr datum_len exceeds per-value limit', Exit.Protocol);
      total += nameLen + len;
      if (total > MAX_LIST) throw new ProtocolError('xattr list exceeds per-file limit', Exit.Protocol);
      const raw = c.bytes(nameLen);
      if (nameLen < 1 || raw[nameLen - 1] !== 0) throw new ProtocolError('Invalid xattr name received (missing trailing \\0).', Exit.FileIO);
      let name = Buffer.from(raw.subarray(0, nameLen - 1));
      if (name.length === 0 || name.includes(0)) throw new ProtocolError('Invalid xattr name received (empty or with a NUL inside).', Exit.FileIO);
      const value = len > MAX_FULL_DATUM ? undefined : Buffer.from(c.bytes(len));
      const sum = value ? undefined : Buffer.from(c.bytes(XATTR_SUM_LEN));
      // Non-root keeps only the user namespace (a fake super user, or anyone once x-rules are given,
      // keeps the others under user.rsync.); nobody keeps rsync's own records without -XX.
      const { excluded } = this.rule;
      if (excluded?.(name)) continue;
      if (!startsWith(name, USER)) {
        if (this.rule.fake || (excluded && !this.rule.root)) {
          name = Buffer.concat([RSYNC, name]);
          resort = true;
        } else if (!this.rule.root) continue;
      }
      if (isRsyncRecord(name) && this.rule.all !== true) continue;
      items.push({ name, len, num, ...(value ? { value } : { sum: sum! }) });
    }
    if (resort) items.sort((a, b) => Buffer.compare(a.name, b.name));
    return { items };
  }

  /** Stores what `read` returned; the entry's list index. */
  commit(p: PendingXattrs): number {
    if ('ref' in p) return p.ref;
    this.lists.push(p.items);
    return this.lists.length - 1;
  }
}

/** rsync's read_varint_size: a non-negative length up to `max`. */
function size(c: Cursor, max: number, what: string): number {
  const v = c.varint();
  if (v < 0 || v > max) throw new ProtocolError(`wire size ${what} out of range: ${v} > ${max}`, Exit.Protocol);
  return v;
}

/**
 * A receiver's request for abbreviated values (rsync's send_xattr_request from the generator): each
 * wanted item's number as the difference from the previous one, then a zero byte.
 */
export function encodeRequest(nums: readonly number[]): Buffer {
  const out: Buffer[] = [];
  let prior = 0;
  for (const n of [...nums].sort((a, b) => a - b)) {
    out.push(varint(n - prior));
    prior = n;
  }
  out.push(Buffer.from([0]));
  return Buffer.concat(out);
}

/**
 * The sender reads a request (rsync's recv_xattr_request on the sender): the numbers it names, each an
 * abbreviated item of the entry's list, or the session ends (exit 2).
 */
export function readRequest(c: Cursor, list: readonly XattrItem[]): number[] {
  const nums: number[] = [];
  let num = 0;
  for (;;) {
    const rel = c.varint();
    if (rel === 0) return nums;
    num += rel;
    const it = list.find((x) => x.num === num);
    if (!it) throw new ProtocolError(`could not find xattr #${num} [sender]`, Exit.Protocol);
    if (!abbreviated(it)) throw new ProtocolError(`internal abbrev error (${it.name.toString('latin1')}, len=${it.len}) [sender]`, Exit.Protocol);
    nums.push(num);
  }
}

/** The sender's answer in its echo (rsync's send_xattr_request with a file): number, length, value; a zero byte. */
export function encodeAnswer(list: readonly XattrItem[], nums: readonly number[]): Buffer {
  const out: Buffer[] = [];
  let prior = 0;
  const want = new Set(nums);
  for (const it of list) {
    if (!want.has(it.num)) continue;
    out.push(varint(it.num - prior), varint(it.value!.length), it.value!);
    prior = it.num;
  }
  out.push(Buffer.from([0]));
  return Buffer.concat(out);
}

/**
 * The receiver reads the answer to its request (rsync's recv_xattr_request on the receiver): only the
 * items it asked for, each value within rsync's per-value limit; by number.
 */
export function readAnswer(c: Cursor, asked: ReadonlySet<number>): Map<number, Buffer> {
  const got = new Map<number, Buffer>();
  let num = 0;
  for (;;) {
    const rel = c.varint();
    if (rel === 0) return got;
    num += rel;
    if (!asked.has(num) || got.has(num)) throw new ProtocolError(`could not find xattr #${num} in what was asked for`, Exit.Protocol);
    const len = size(c, MAX_VALUE, 'xattr datum_len');
    got.set(num, Buffer.from(c.bytes(len)));
  }
}
