// The local ends of -X in a transfer with another machine, through the addon (Node has no xattr API):
// a push lists each source entry's xattrs for the file list, a pull reads the destination's values to
// spare asking for abbreviated ones it already has, and writes the sender's lists onto its private
// staging tree, from where the ordinary local run copies them like any source's. Which names travel is
// remote/xattr-list.ts's rule.

import * as fs from 'node:fs';
import { loadAddon, isFailure, type Addon } from '../engine/native.js';
import { XATTR_SUM_LEN, abbreviated, senderItems, xattrSum, type ReceiveRule, type XattrItem } from '../remote/xattr-list.js';
import type { Config } from '../model/config.js';
import { attrRefusedMessage, errnoText, showPath } from '../util/errors.js';
import { S_IFMT } from '../model/stat.js';
import type { PatternRule } from '../plan/filter-rules.js';
import { configXattrRules, xattrExcluded } from '../plan/xattr-rules.js';

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

export interface RemoteXattrs {
  /**
   * A source entry's items as a sender lists them, or rsync's message when they cannot be read. With
   * `follow` (-L) a file or directory is read through what its path leads to; `fake`: --fake-super;
   * `all`: -XX (rsync's own records go too); `rules`: the x-rules, which then alone say which names go
   * (remote/xattr-list.ts senderItems).
   */
  source(path: Buffer, mode: number, follow: boolean, fake: boolean, all?: boolean, rules?: readonly PatternRule[]): XattrItem[] | { message: string };
  /** The values an open destination entry has now, by name (none when they cannot be read). */
  current(fd: number): Map<string, Buffer>;
  /** Sets one value on a staging entry; rsync's message when that fails. */
  put(path: Buffer, name: Buffer, value: Buffer): string | undefined;
}

/**
 * How this side keeps the names of the lists it receives (a pull, a batch read): rsync's am_root
 * (--super, --no-super, --fake-super, else the effective uid), -XX, and the x-rules in the receiver's
 * view (plan/xattr-rules.ts).
 */
export function receiveRule(c: Config): ReceiveRule {
  const amRoot = c.amRoot ?? (process.geteuid?.() === 0 ? 1 : 0);
  const rules = configXattrRules(c);
  return { root: amRoot > 0, fake: amRoot < 0, all: c.xattrsAll === true, ...(rules.length ? { excluded: (name: Buffer) => xattrExcluded(rules, name, false) } : {}) };
}

/** The addon's xattr calls, or why they cannot be had (the caller refuses -X with it). */
export function remoteXattrs(): RemoteXattrs | { reason: string } {
  const a = loadAddon();
  if (!a.ok) return { reason: `${a.reason}. To fix: ${a.fix}` };
  return make(a.addon);
}

function make(addon: Addon): RemoteXattrs {
  const text = (errno: number): string => `${errnoText(Math.abs(errno))} (${Math.abs(errno)})`;
  return {
    source(path, mode, follow, fake, all = false, rules = []) {
      let target: Buffer | number = path;
      let fd = -1;
      const type = mode & S_IFMT;
      if (follow && (type === S_IFREG || type === S_IFDIR)) {
        try {
          fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
          target = fd;
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          return { message: `get_xattr_names: open("${showPath(path)}") failed: ${text(-(e.errno ?? 0))}` };
        }
      }
      try {
        const r = addon.xattrRead(target);
        if (isFailure(r)) return { message: `get_xattr_names: l${r.syscall}("${showPath(path)}") failed: ${text(r.errno)}` };
        return senderItems(r.names, r.values, fake, all, rules.length ? (name) => xattrExcluded(rules, name, true) : undefined);
      } finally {
        if (fd >= 0) fs.closeSync(fd);
      }
    },
    current(fd) {
      const r = addon.xattrRead(fd);
      const out = new Map<string, Buffer>();
      if (isFailure(r)) return out;
      r.names.forEach((n, i) => out.set(n.toString('latin1'), r.values[i]!));
      return out;
    },
    put(path, name, value) {
      const r = addon.xattrWrite(path, name, value);
      return r === null ? undefined : attrRefusedMessage(r.errno, 'lsetxattr', showPath(path), name);
    },
  };
}

/**
 * A receiver's view of one entry's list (rsync's xattr_diff with find_all): every value it will write,
 * taking an abbreviated one from the destination when its current value has the same length and sum,
 * and the numbers of those it must ask the sender for.
 */
export function resolveAgainst(items: readonly XattrItem[], current: Map<string, Buffer>): { values: Map<number, Buffer>; ask: number[] } {
  const values = new Map<number, Buffer>();
  const ask: number[] = [];
  for (const it of items) {
    if (!abbreviated(it)) {
      values.set(it.num, it.value!);
      continue;
    }
    const have = current.get(it.name.toString('latin1'));
    if (have && have.length === it.len && xattrSum(have).equals(it.sum!)) values.set(it.num, have);
    else ask.push(it.num);
  }
  return { values, ask };
}

/** The names the kernel holds ACLs under: it takes only a valid ACL there (x-rules put them in the lists). */
const ACL_NAMES = new Set(['system.posix_acl_access', 'system.posix_acl_default']);

/**
 * A dry run's stand-in for an ACL's abbreviated value: a valid ACL (the kernel refuses the sum-shaped
 * stand-in there) that differs from the destination's `have`: the owner, a named user, the group, the
 * mask and others, the named user's id the first one `have` does not show. The staged entry's mode is
 * the list's (run/staged-source.ts) and -A's own ACLs are put on it afterwards (cli/remote-acls.ts).
 */
export function aclStandIn(have: Buffer | undefined): Buffer {
  for (let id = 0x7fff_0000; ; id++) {
    const v = Buffer.alloc(4 + 5 * 8);
    v.writeUInt32LE(2, 0);
    // (tag, perm, id) entries in the kernel's order: USER_OBJ, USER, GROUP_OBJ, MASK, OTHER.
    [[0x01, 6, 0xffff_ffff], [0x02, 4, id], [0x04, 4, 0xffff_ffff], [0x10, 4, 0xffff_ffff], [0x20, 4, 0xffff_ffff]].forEach(([tag, perm, n], i) => {
      v.writeUInt16LE(tag!, 4 + i * 8);
      v.writeUInt16LE(perm!, 6 + i * 8);
      v.writeUInt32LE(n!, 8 + i * 8);
    });
    if (!have?.equals(v)) return v;
  }
}

/**
 * A pull's staging side of -X: each entry's list put on its staged copy, an abbreviated value taken
 * from the destination's same entry when its length and sum agree, the others asked for (a dry run
 * asks nothing: a stand-in that differs from the destination's value makes the local run see the
 * change all the same). The sender answers for one value of a list once (entries with the same list
 * share it, hard links among them), so every entry that needs it waits for that one answer.
 */
export class StagedXattrs {
  /** Who waits for each value asked for, by "list:num". */
  private readonly waits = new Map<string, ((v: Buffer) => void)[]>();

  constructor(
    private readonly xio: RemoteXattrs,
    private readonly dryRun: boolean,
  ) {}

  /**
   * Whether the list differs from what the destination's entry (open as `destFd`; none: missing) has:
   * rsync's generator then names the entry to the sender (ITEM_REPORT_XATTR), which a batch records.
   * A name the destination has beyond the list counts (its removal is a change too).
   */
  differs(items: readonly XattrItem[], destFd: number | undefined): boolean {
    if (destFd === undefined) return items.length > 0;
    const current = this.xio.current(destFd);
    if (current.size !== items.length) return true;
    return items.some((it) => {
      const have = current.get(it.name.toString('latin1'));
      if (!have || have.length !== it.len) return true;
      return abbreviated(it) ? !xattrSum(have).equals(it.sum!) : !have.equals(it.value!);
    });
  }

  /** Puts what is known on `at` now; returns what to ask the sender for, if anything. */
  entry(at: Buffer, list: number, items: readonly XattrItem[], destFd: number | undefined, error: (m: string) => void): { nums: number[]; got(values: Map<number, Buffer>): void } | undefined {
    const known = resolveAgainst(items, destFd === undefined ? new Map() : this.xio.current(destFd));
    const put = (num: number, v: Buffer): void => {
      const it = items.find((x) => x.num === num)!;
      const failed = this.xio.put(at, it.name, v);
      if (failed) error(failed);
    };
    known.values.forEach((v, num) => put(num, v));
    if (this.dryRun) {
      const have = destFd === undefined ? undefined : this.xio.current(destFd);
      for (const num of known.ask) {
        const it = items.find((x) => x.num === num)!;
        const name = it.name.toString('latin1');
        put(num, ACL_NAMES.has(name) ? aclStandIn(have?.get(name)) : Buffer.concat([it.sum!, Buffer.alloc(XATTR_SUM_LEN)]));
      }
      return undefined;
    }
    const nums: number[] = [];
    for (const num of known.ask) {
      const key = `${list}:${num}`;
      const waiting = this.waits.get(key);
      if (waiting) waiting.push((v) => put(num, v));
      else {
        this.waits.set(key, [(v) => put(num, v)]);
        nums.push(num);
      }
    }
    if (!nums.length) return undefined;
    return { nums, got: (values) => values.forEach((v, num) => this.waits.get(`${list}:${num}`)?.forEach((f) => f(v))) };
  }
}
