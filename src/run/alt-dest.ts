// The --compare-dest / --copy-dest / --link-dest directories (rsync's basis dirs): where they are, and
// which twin of an entry they hold and how well it matches (rsync's try_dests_reg / try_dests_non).
// An old snapshot is not trusted more than a source: the directory itself is an operator path
// (operator-path.ts), nothing beneath it is reached through a symlink, a twin owned by someone else
// is never copied or linked under -o, and the engines open the chosen file with no symlink followed
// and check it is still the inode chosen here (OpFlag.Basis).

import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import { withRecord, type FakeReader } from './fake-source.js';
import { resolve as resolvePath } from 'node:path';
import type { Config } from '../model/config.js';
import type { DirListing } from '../model/listing.js';
import { isFailure } from '../model/failure.js';
import { S_IFDIR, S_IFMT, S_IFREG, type Stat, type FileType } from '../model/stat.js';
import type { OpFailure } from '../engine/types.js';
import type { OpKind } from '../model/ops.js';
import { resolveOperatorPath, UNTRUSTED_SYMLINK } from '../plan/operator-path.js';
import { attrChanges, sameTime } from '../plan/quickcheck.js';
import { ERRNO, showPath } from '../util/errors.js';
import { dirName, joinPath } from '../util/names.js';
import { anyChange } from './lines.js';
import type { CheckOptions } from '../plan/quickcheck.js';

export type AltKind = 'compare' | 'copy' | 'link';

/**
 * How well a twin matches (rsync's match_level): 1 same type, 2 same data too (size and mtime, or
 * symlink target), 3 same preserved attributes too.
 */
export interface Twin {
  path: Buffer;
  st: Stat;
  level: 1 | 2 | 3;
  /** -X/-A: which of xattrs (bit 1) and ACLs (bit 2) differ from the source's (asked at level 2 only). */
  xattrs?: number;
  /** In a directory outside --confine-root: rsync's name for the twin, which it may stat but not open. */
  outside?: string;
  /** rsync's name for the twin (its directory made absolute beneath the destination, as given). */
  shown: string;
  /** Its directory's place among the alternate directories (rsync's FNAMECMP_BASIS_DIR_LOW + index). */
  index: number;
}

/**
 * What an op that reads a basis file falls back to when that file changed or vanished under it (or a
 * symlink appeared on its path): the copy from the source the twin stood in for, as rsync transfers a
 * file normally when its basis cannot be used.
 */
export interface Fallback {
  basis: Buffer;
  op: OpKind;
  src: Buffer;
  rel: Buffer;
  st: Stat;
  flags: number;
}

/** Basis-side errnos that mean "not the file chosen any more" (OpFlag.Basis reports a symlink as ESTALE). */
const BASIS_GONE = new Set<number>([ERRNO.ESTALE, ERRNO.ENOENT, ERRNO.ELOOP, ERRNO.ENOTDIR]);

interface AltDir {
  kind: AltKind;
  /** As rsync names it in --debug=FUZZY's lines: the argument, after the destination's absolute path when relative. */
  shown: string;
  /** Absolute, with no symlink in it (resolved once, at start). */
  dir: Buffer;
  /** Directories beneath it (relative, latin1) found to be real directories all the way down. */
  real: Map<string, boolean>;
  /** It resolves outside --confine-root: its entries are looked at, never read or linked. */
  outside?: boolean;
}

/** How many directory answers an alternate directory keeps before starting over. */
const REAL_DIRS_KEPT = 4096;

export class AltDests {
  private readonly dirs: AltDir[] = [];
  /** Failures of basis ops held back until their fallback is queued (by basis path, latin1). */
  private readonly parked = new Map<string, OpFailure>();
  private parking = true;

  constructor(
    private readonly engine: Engine,
    private readonly check: CheckOptions,
    /** --fake-super receiving: twins are as their user.rsync.%stat records describe them. */
    private readonly fake?: FakeReader,
  ) {}

  /**
   * Resolve the directories (relative ones from the destination, as in rsync; called once the
   * destination exists), each through the operator-path rule: one behind another user's symlink is
   * not used at all (rsync refuses every lookup in it, so the files are transferred normally), and
   * the refusal is reported.
   */
  resolve(c: Config, destRoot: Buffer, report: (message: string, bare?: boolean) => void): void {
    const given: { kind: AltKind; arg: string }[] = [
      ...c.compareDest.map((arg) => ({ kind: 'compare' as const, arg })),
      ...c.copyDest.map((arg) => ({ kind: 'copy' as const, arg })),
      ...c.linkDest.map((arg) => ({ kind: 'link' as const, arg })),
    ];
    for (const { kind, arg } of given) {
      const raw = Buffer.from(arg);
      // Joined, not normalized: ".." is taken physically, as rsync's walk does. Under -n the
      // destination may not exist, and then only the lexical reading can find the directory.
      const path = raw[0] === 0x2f ? raw : joinPath(destRoot, raw);
      const o = { insecure: c.insecureLinks };
      let at = resolveOperatorPath(path, o);
      if (at.ok && !at.exists) {
        const lexical = resolveOperatorPath(Buffer.from(resolvePath(path.toString('latin1')), 'latin1'), o);
        if (!lexical.ok || lexical.exists) at = lexical;
      }
      // Outside --confine-root rsync still stats the twins there (so they steer the itemizing and a
      // --compare-dest skip) but refuses every open: the twin is never read or linked (tryAltDirs).
      const outside = at.ok && resolveOperatorPath(at.path, { ...o, confine: c.confineRoot }).ok === false;
      if (!at.ok) {
        report(UNTRUSTED_SYMLINK);
        report(`--${kind}-dest arg not used: ${showPath(path)}`);
        continue;
      }
      // rsync's warning is an rprintf line: no program name.
      if (!at.exists || isFailure(this.engine.lstat(at.path))) report(`--${kind}-dest arg does not exist: ${showPath(path)}`, true);
      const shown = raw[0] === 0x2f ? arg : `${resolvePath(destRoot.toString('latin1'))}/${arg}`;
      this.dirs.push({ kind, shown, dir: at.path, real: new Map([['', true]]), ...(outside ? { outside } : {}) });
    }
  }

  get any(): boolean {
    return this.dirs.length > 0;
  }

  /**
   * -yy: the listing of directory `rel` beneath each alternate directory (empty where it is missing or
   * reached through a symlink), with the name rsync gives that directory (the argument joined to it),
   * its path, and whether it lies outside --confine-root (its files are never opened).
   */
  listings(rel: Buffer): { shown: string; listing: DirListing; path: Buffer; outside: boolean }[] {
    const out: { shown: string; listing: DirListing; path: Buffer; outside: boolean }[] = [];
    for (const a of this.dirs) {
      // rsync's pathjoin of the argument and the directory, cleaned as its file list cleans names.
      const joined = `${a.shown}/${showPath(rel)}`.split('/').filter((part, i) => i === 0 || (part !== '' && part !== '.'));
      const shown = joined.length > 1 && joined[0] === '.' ? joined.slice(1).join('/') : joined.join('/') || '/';
      const listing = this.realDir(a, rel) ? this.engine.scanDir(joinPath(a.dir, rel)) : undefined;
      out.push({ shown, listing: listing && !isFailure(listing) ? listing : { names: [], stats: [], errors: [] }, path: joinPath(a.dir, rel), outside: a.outside === true });
    }
    return out;
  }

  /** Whether some alternate directory holds an entry of `st`'s type at `rel` (a basis, at least). */
  hasTwin(rel: Buffer, st: Stat): boolean {
    return this.dirs.some((a) => {
      const alt = this.lstat(a, rel);
      return alt !== undefined && (alt.mode & S_IFMT) === (st.mode & S_IFMT);
    });
  }

  /**
   * A directory's twin (rsync's try_dests_non) and its path: the first alternate directory's whose
   * attributes are all the source's (`exact`: rsync's unchanged_attrs), else the first one's there is.
   */
  dirTwin(rel: Buffer, exact?: (twin: { st: Stat; path: Buffer }) => boolean): { st: Stat; path: Buffer } | undefined {
    let first: { st: Stat; path: Buffer } | undefined;
    for (const a of this.dirs) {
      const st = this.lstat(a, rel);
      if (!st || (st.mode & S_IFMT) !== S_IFDIR) continue;
      const twin = { st, path: joinPath(a.dir, rel) };
      if (!exact || exact(twin)) return twin;
      first ??= twin;
    }
    return first;
  }

  /**
   * The best twin of a file or symlink (the first with the highest level). `target`: the source
   * symlink's target. Under -o as root a twin with another owner is only level 1: its data is never
   * copied or linked, or a user could have root-only content land readable under their own name.
   * `xattrs`: under -X/-A, which of them differ between the source and a twin (rsync's unchanged_attrs
   * counts them: a twin whose xattrs differ is copied, never linked). `sameData`: under -c, whether a
   * file twin holds the source's bytes (rsync compares the twin's sum with the sender's).
   */
  best(rel: Buffer, st: Stat, kind: FileType, target: Buffer | undefined, readlink: (p: Buffer) => Buffer | undefined, xattrs?: (path: Buffer) => number, sameData?: (path: Buffer) => boolean): Twin | undefined {
    let best: Twin | undefined;
    const check = { ...this.check, times: this.check.times && kind !== 'link' };
    for (const [index, a] of this.dirs.entries()) {
      const alt = this.lstat(a, rel);
      if (!alt || (alt.mode & S_IFMT) !== (st.mode & S_IFMT)) continue;
      const path = joinPath(a.dir, rel);
      let level: Twin['level'] = 1;
      const foreign = this.check.owner && this.check.isRoot && alt.uid !== st.uid;
      if (foreign) {
        // never better than "same type"
      } else if (kind === 'reg') {
        // rsync's quick_check_ok: the size, then -c's sums (`sameData`, where the caller can tell), else
        // the time unless --size-only; never a match under -I.
        if (st.size === alt.size && (sameData && this.check.checksum ? sameData(path) : this.check.sizeOnly || (!this.check.ignoreTimes && sameTime(st, alt, this.check)))) level = 2;
      } else if (kind === 'link') {
        const t = readlink(path);
        if (t && target && t.equals(target)) level = 2;
      } else if (kind === 'special' || st.rdev === alt.rdev) {
        level = 2; // devices and specials: rsync's quick check is the device number
      }
      const differ = level === 2 && xattrs ? xattrs(path) : 0;
      if (level === 2 && !differ && !anyChange(attrChanges(st, alt, check))) level = 3;
      if (!best || level > best.level) best = { path, st: alt, level, index, shown: `${a.shown}/${rel.toString('latin1')}`, ...(differ ? { xattrs: differ } : {}), ...(a.outside ? { outside: `${a.shown}/${rel.toString('latin1')}` } : {}) };
      if (level === 3) break;
    }
    return best;
  }

  /**
   * Every regular-file twin of `rel`, in the directories' order, each with its directory's index (rsync's
   * FNAMECMP_BASIS_DIR_LOW + i): what a pull's generator side weighs before it asks for the file
   * (cli/pull-basis.ts), where the first one is the delta basis and -c compares their sums.
   */
  fileTwins(rel: Buffer): { path: Buffer; st: Stat; index: number; outside: boolean }[] {
    const out: { path: Buffer; st: Stat; index: number; outside: boolean }[] = [];
    this.dirs.forEach((a, index) => {
      const st = this.lstat(a, rel);
      if (st && (st.mode & S_IFMT) === S_IFREG) out.push({ path: joinPath(a.dir, rel), st, index, outside: a.outside === true });
    });
    return out;
  }

  /**
   * Hold back the failure of an op whose basis file was no longer the one chosen: its fallback (the
   * copy from the source) is queued when the batch's outcomes arrive, and then nothing is reported.
   * Returns false for every other failure (report it).
   */
  park(f: OpFailure): boolean {
    // A failed backup is never parked: the entry stays as it was (DESIGN.md §3.7). A link the
    // filesystem refuses (EXDEV, EMLINK, a type it cannot link) is copied instead, as rsync does.
    if (!this.parking || f.onDest || f.syscall === 'backup' || !this.holds(f.path)) return false;
    if (!BASIS_GONE.has(f.errno) && f.syscall !== 'link') return false;
    this.parked.set(f.path.toString('latin1'), f);
    return true;
  }

  /** True when the failure of the op reading `basis` was parked: the caller queues the fallback. */
  unpark(basis: Buffer): boolean {
    return this.parked.delete(basis.toString('latin1'));
  }

  /** Parked failures that got no fallback (an op retried outside its batch): to be reported after all. */
  leftovers(): OpFailure[] {
    this.parking = false;
    const left = [...this.parked.values()];
    this.parked.clear();
    return left;
  }

  private holds(p: Buffer): boolean {
    return this.dirs.some((a) => p.length > a.dir.length && p[a.dir.length] === 0x2f && p.subarray(0, a.dir.length).equals(a.dir));
  }

  /** lstat of `rel` beneath an alternate directory, only when no directory on the way is a symlink. */
  private lstat(a: AltDir, rel: Buffer): Stat | undefined {
    if (!this.realDir(a, dirName(rel))) return undefined;
    const path = joinPath(a.dir, rel);
    const st = this.engine.lstat(path);
    if (isFailure(st)) return undefined;
    return this.fake ? withRecord(st, path, this.fake, () => {}) : st;
  }

  private realDir(a: AltDir, rel: Buffer): boolean {
    const key = rel.toString('latin1');
    const known = a.real.get(key);
    if (known !== undefined) return known;
    let ok = this.realDir(a, dirName(rel));
    if (ok) {
      const st = this.engine.lstat(joinPath(a.dir, rel));
      ok = !isFailure(st) && (st.mode & S_IFMT) === S_IFDIR;
    }
    // Bounded: a walk asks about the directories it is in, so old answers are rarely wanted again.
    if (a.real.size >= REAL_DIRS_KEPT) a.real = new Map([['', true]]);
    a.real.set(key, ok);
    return ok;
  }
}

/**
 * Whether the files at `a` (the source, followed when `follow`) and `b` (a twin, never followed) hold
 * the same `size` bytes: -c's match of a twin (rsync compares its sum with the source's). Any failure
 * to read either is no match (the file is then transferred as usual).
 */
export function sameFileData(a: Buffer, b: Buffer, size: number, follow: boolean): boolean {
  const flags = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK;
  let fa = -1;
  let fb = -1;
  try {
    fa = openSync(a, flags | (follow ? 0 : fsConstants.O_NOFOLLOW));
    fb = openSync(b, flags | fsConstants.O_NOFOLLOW);
    if (!fstatSync(fa).isFile() || !fstatSync(fb).isFile()) return false;
    const span = Math.max(1, Math.min(size, 1 << 20));
    const ba = Buffer.allocUnsafe(span);
    const bb = Buffer.allocUnsafe(span);
    for (let pos = 0; ; ) {
      const na = readFull(fa, ba, pos);
      const nb = readFull(fb, bb, pos);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na < span) return pos + na === size;
      pos += na;
    }
  } catch {
    return false;
  } finally {
    if (fa >= 0) closeSync(fa);
    if (fb >= 0) closeSync(fb);
  }
}

function readFull(fd: number, buf: Buffer, pos: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
