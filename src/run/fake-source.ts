// --fake-super on the local walk: an EntrySource that hands the planner each entry as its
// user.rsync.%stat record describes it (rsync's get_stat_xattr: type, permissions, device numbers,
// owner and group), on the sending side when --fake-super is given on the line, and for the
// destination twins when the receiving side fakes (rsync's am_root < 0, also -M--fake-super). A real
// device, FIFO or socket keeps its own stat; a fake symlink's target is the content of its file.

import { isFailure, type SysFailure } from '../model/failure.js';
import type { PairListing, TreeScan } from '../model/listing.js';
import { S_IFDIR, S_IFMT, S_IFREG, seenAs, type Stat } from '../model/stat.js';
import { makedev } from '../model/devnum.js';
import type { Config } from '../model/config.js';
import type { Engine } from '../engine/engine.js';
import type { EngineContext } from '../engine/types.js';
import type { DirEntries, EntrySource } from './source.js';

/** Reads a record (content false) or a fake symlink's target (content true); null when there is none. */
export type FakeReader = (path: Buffer, content: boolean) => Buffer | null | SysFailure;

/** rsync's "%o %d,%d %d:%d" record, or undefined when it does not parse. */
export function parseRecord(text: string): { mode: number; rdev: number; uid: number; gid: number } | undefined {
  const m = /^([0-7]+) (\d+),(\d+) (\d+):(\d+)$/.exec(text);
  if (!m) return undefined;
  return { mode: parseInt(m[1]!, 8), rdev: makedev(Number(m[2]!), Number(m[3]!)), uid: Number(m[4]!), gid: Number(m[5]!) };
}

/**
 * `st` as the record read through `read` describes it. Only regular files and directories carry
 * records (user.* xattrs exist on nothing else). `corrupt` gets rsync's message for a record that
 * does not parse, `unread` a record that could not be read (a file this user may not read: the kernel
 * checks user.* reads as file reads); the entry then keeps its own stat.
 */
export function withRecord(st: Stat, path: Buffer, read: FakeReader, corrupt: (path: Buffer, value: string) => void, unread?: (path: Buffer, f: SysFailure) => void): Stat {
  const type = st.mode & S_IFMT;
  if (type !== S_IFREG && type !== S_IFDIR) return st;
  const v = read(path, false);
  if (v === null) return st;
  if (isFailure(v)) {
    unread?.(path, v);
    return st;
  }
  const r = parseRecord(v.toString('latin1'));
  if (!r) {
    corrupt(path, v.toString('latin1'));
    return st;
  }
  return seenAs(st, { mode: r.mode, rdev: r.rdev, uid: r.uid, gid: r.gid });
}

/**
 * --fake-super receiving: whether an entry the run leaves unchanged must still be rewritten on disk, as
 * rsync's receiver does for every entry it passes (xattrs.c set_stat_xattr, from set_file_attrs): the
 * file keeps only the source's permission bits with owner access added (0600; 0700 for a directory), and
 * its set-id and sticky bits, like its owner, live in the record. `st`: the source; `destSt`: the entry
 * as the run saw it (its own mode on disk in `own` when a record described it otherwise).
 */
export function fakeDiskStale(st: Stat, destSt: Stat): boolean {
  const disk = destSt.own?.mode ?? destSt.mode;
  const want = (st.mode & 0o777) | ((disk & S_IFMT) === S_IFDIR ? 0o700 : 0o600);
  return (disk & 0o7777) !== want;
}

export interface FakeSides {
  /** Records read on source entries (--fake-super on the line). */
  source?: FakeReader;
  /** Records read on destination twins (the receiving side fakes); paths relative to the root. */
  dest?: FakeReader;
  /** rsync's message for a record that does not parse (`onDest`: a destination twin's, path relative to the root). */
  corrupt: (path: Buffer, value: string, onDest?: boolean) => void;
  /** A source record that could not be read (rsync's sender reports it, exit 23, and uses the lstat). */
  unread?: (path: Buffer, f: SysFailure) => void;
}

const join = (dir: Buffer | null, name: Buffer): Buffer => (dir && dir.length ? Buffer.concat([dir, Buffer.from('/'), name]) : name);

/** `inner`'s entries as their records describe them. */
export class FakeStatSource implements EntrySource {
  private readonly done = new WeakSet<PairListing>();
  /** Operands whose unreadable record was reported up front (operandRecords): not reported again. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly inner: EntrySource,
    private readonly sides: FakeSides,
  ) {}

  private src(st: Stat, path: Buffer): Stat {
    if (!this.sides.source) return st;
    const report = this.sides.unread;
    const unread = report && ((p: Buffer, f: SysFailure): void => {
      if (!this.reported.has(p.toString('latin1'))) report(p, f);
    });
    return withRecord(st, path, this.sides.source, this.sides.corrupt, unread);
  }

  /**
   * rsync's sender stats each operand as it takes it from the command line, and a non-directory once
   * more as it lists it (flist.c send_file_list's link_stat, then make_file's readlink_stat): a record
   * it cannot read is reported twice, operand by operand in argv order, before any entry is listed.
   * A directory's stat is handed on, so its record is read once (by the walk, as any other).
   */
  operandRecords(paths: Buffer[]): void {
    const read = this.sides.source;
    const unread = this.sides.unread;
    if (!read || !unread) return;
    for (const path of paths) {
      const st = this.inner.lstat(path);
      if (isFailure(st) || (st.mode & S_IFMT) !== S_IFREG) continue;
      const v = read(path, false);
      if (!isFailure(v)) continue;
      unread(path, v);
      unread(path, v);
      this.reported.add(path.toString('latin1'));
    }
  }

  private listing(l: PairListing, src: Buffer, destRel: Buffer | null): PairListing {
    if (this.done.has(l)) return l;
    for (const e of l.entries) {
      if (e.st) e.st = this.src(e.st, join(src, e.name));
      if (e.dest && this.sides.dest && destRel !== null) e.dest = withRecord(e.dest, join(destRel, e.name), this.sides.dest, (p, v) => this.sides.corrupt(p, v, true));
    }
    this.done.add(l);
    return l;
  }

  lstat(path: Buffer): Stat | SysFailure {
    const st = this.inner.lstat(path);
    return isFailure(st) ? st : this.src(st, path);
  }

  follow(path: Buffer): Stat | undefined {
    return this.inner.follow(path);
  }

  readlink(path: Buffer): Buffer | undefined {
    const t = this.inner.readlink(path);
    if (t !== undefined || !this.sides.source) return t;
    const c = this.sides.source(path, true);
    return c === null || isFailure(c) ? undefined : c;
  }

  names(path: Buffer, anchor: number): Buffer[] | SysFailure {
    return this.inner.names(path, anchor);
  }

  openDir(src: Buffer, destRel: Buffer | null, anchor: number): DirEntries | SysFailure {
    const d = this.inner.openDir(src, destRel, anchor);
    if (isFailure(d)) return d;
    const whole = d.whole && this.listing(d.whole, src, destRel);
    const chunks = function* (this: FakeStatSource, extrasOnly?: boolean): Generator<PairListing> {
      for (const l of d.chunks(extrasOnly)) yield this.listing(l, src, destRel);
    };
    return {
      whole,
      destErrno: d.destErrno,
      chunks: (extrasOnly?: boolean) => chunks.call(this, extrasOnly),
      close: () => d.close(),
    };
  }

  /** Never asked: a --fake-super run leaves nothing to the native quick check (run/spec.ts). */
  unfetched(path: Buffer): boolean {
    return this.inner.unfetched?.(path) === true;
  }

  dirtyDirs(src: Buffer, destRel: Buffer, recordOnly?: boolean): TreeScan | SysFailure | undefined {
    return this.inner.dirtyDirs(src, destRel, recordOnly);
  }
}

/** `inner` as a --fake-super run sees it (itself when neither side fakes). */
export function fakeStatSource(c: Config, engine: Engine, ctx: EngineContext | undefined, inner: EntrySource, report: Pick<FakeSides, 'corrupt' | 'unread'>): EntrySource {
  const source = c.fakeSuper ? engine.fakeRead?.bind(engine) : undefined;
  const dest = c.amRoot === -1 ? ctx?.fakeReadDest?.bind(ctx) : undefined;
  if (!source && !dest) return inner;
  return new FakeStatSource(inner, { ...(source ? { source } : {}), ...(dest ? { dest } : {}), ...report });
}
