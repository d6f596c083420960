// The directory metadata ledger: every directory the run made or entered, and whether its metadata
// (mode, owner, times) must be set again at the end. The rule: directories are recorded in the order the
// walk reaches them, parents before children, so going over the records in reverse sets children before
// parents; writing into a directory moves its mtime, so a directory's times are set only once nothing
// more is written into it, and a read-only directory is made read-only last.

import { BatchWriter } from '../engine/batch.js';
import { OpFlag, OpKind } from '../model/ops.js';
import { S_IFLNK, type Stat } from '../model/stat.js';

export interface DirRecord {
  src: Buffer;
  rel: Buffer;
  stat: Stat;
  /** Set DirMeta at the end: new, attributes differ, or its entries changed (its mtime moved). */
  needMeta: boolean;
  /** -K: the destination is a symlink to a directory; rsync stamps the directory's times on the link. */
  keptLink?: boolean;
  /**
   * The run fills it with all of the owner's bits (made by this run, or opened up: dirs.ts), which
   * `stat.mode` may lack: without -p they are taken away at the end (OpFlag.OwnerBits), when nothing
   * more is written into it.
   */
  ownerBits?: boolean;
}

export class DirLedger {
  private readonly records: DirRecord[] = [];
  /**
   * By relative path (latin1): every record when several sources can reach the same directory, else
   * only those recorded as `indexed` (-R's implied directories, which a file operand inside looks up).
   */
  private byRel: Map<string, DirRecord> | undefined;

  constructor(
    private readonly indexByPath: boolean,
    /**
     * A --protocol before 31 (plan/old-protocol.ts): a directory whose entries this run changed has its
     * time "now", never the same as the list's, so rsync gives it the list's whole-second time.
     */
    private readonly wholeSeconds = false,
  ) {
    this.byRel = indexByPath ? new Map() : undefined;
  }

  /**
   * Directories the native tree scan found dirty, recorded before the walk of their parent reaches them
   * (run/transfer-pass.ts treeFrames), by relative path: that walk's record for one is merged into it,
   * so its metadata is set once.
   */
  private readonly early = new Map<string, DirRecord>();

  /** A dirty directory of the tree scan: recorded now, its parent's walk may record it again (merged). */
  recordEarly(r: DirRecord): DirRecord {
    this.early.set(r.rel.toString('latin1'), r);
    return this.record(r);
  }

  /** A directory the walk reached (made, or to be compared): called before anything inside it is planned. */
  record(r: DirRecord, indexed = false): DirRecord {
    const key = r.rel.toString('latin1');
    const had = this.early.size ? this.early.get(key) : undefined;
    if (had && had !== r) {
      this.early.delete(key);
      had.src = r.src;
      had.stat = r.stat;
      had.needMeta ||= r.needMeta;
      if (r.keptLink) had.keptLink = true;
      if (r.ownerBits) had.ownerBits = true;
      return had;
    }
    this.records.push(r);
    if (this.indexByPath || indexed) (this.byRel ??= new Map()).set(r.rel.toString('latin1'), r);
    return r;
  }

  /** A directory entered without a record (a delete pass, a merged root) whose entries this run changed. */
  changedUnrecorded(src: Buffer, rel: Buffer, stat: Stat): void {
    this.records.push({ src, rel, stat: this.wholeSeconds ? { ...stat, mtimeNsec: 0 } : stat, needMeta: true });
  }

  /** Its entries changed (or it is new): its metadata is set again at the end. */
  touch(r: DirRecord | undefined): void {
    if (!r) return;
    r.needMeta = true;
    if (this.wholeSeconds && r.stat.mtimeNsec !== 0) r.stat = { ...r.stat, mtimeNsec: 0 };
  }

  /** The record an earlier source made for this path (several sources only). */
  find(rel: Buffer): DirRecord | undefined {
    return this.byRel?.get(rel.toString('latin1'));
  }

  has(rel: Buffer): boolean {
    return this.byRel?.has(rel.toString('latin1')) ?? false;
  }

  /**
   * The final ops, children before parents; `anchor` gives each source path's operator part, `xrules`
   * an op's own x-rules (run/xattr-views.ts).
   */
  finalOps(anchor: (src: Buffer) => number, xrules?: (kind: OpKind, rel: Buffer) => Buffer | undefined): BatchWriter {
    const meta = new BatchWriter();
    for (let i = this.records.length - 1; i >= 0; i--) {
      const d = this.records[i]!;
      if (!d.needMeta) continue;
      // -K: rsync sets the directory's attributes on the symlink itself, not on its target.
      if (d.keptLink) meta.add(OpKind.Attrs, d.src, d.rel, { ...d.stat, mode: S_IFLNK | (d.stat.mode & 0o7777) }, 0, anchor(d.src), undefined, xrules?.(OpKind.Attrs, d.rel));
      else meta.add(OpKind.DirMeta, d.src, d.rel, d.stat, d.ownerBits ? OpFlag.OwnerBits : 0, anchor(d.src), undefined, xrules?.(OpKind.DirMeta, d.rel));
    }
    return meta;
  }
}
