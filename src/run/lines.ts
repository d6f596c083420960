// What the planner prints per entry: the line's fields (only built when something is printed at all)
// and rsync's itemize string for a verdict. Output (progress/output.ts) chooses the format.

import type { Config } from '../model/config.js';
import type { Stat, FileType } from '../model/stat.js';
import { itemize, type Changes } from '../plan/quickcheck.js';
import type { LineInfo } from '../progress/format.js';
import type { Output } from '../progress/output.js';
import { showPath } from '../util/errors.js';
import { rawName } from '../util/names.js';
import type { Verdict } from '../plan/quickcheck.js';
import { LOCAL_PROTOCOL, deltaWireBytes, sendersHead, wholeFileWireBytes, xferSumLength, type WireSettings } from './wire-bytes.js';

export type Line = Omit<LineInfo, 'itemize'>;

/** The checksum header rsync's generator sends before a file's block sums (count, lengths, remainder). */
const SUM_HEAD = 16;

export const NO_LINE: Line = { name: '', fullName: '', suffix: '', size: 0, bytes: 0, mode: 0, uid: 0, gid: 0, mtimeSec: 0, op: 'send' };

export const NO_CHANGES: Changes = { value: false, size: false, time: false, perms: false, owner: false, group: false, acl: false, xattr: false };

export const anyChange = (c: Changes): boolean => c.value || c.size || c.time || c.perms || c.owner || c.group || c.acl || c.xattr;

/** %C's sums: the source file's, or rsync's text when none is known. */
export interface LineSums {
  of(src: Buffer, st: Stat): string;
  blank(): string;
  zeros(): string;
}

export class Lines {
  /** A regular file's source, for %C (only recorded when a format prints it). */
  private readonly sources = new WeakMap<Line, { src: Buffer; st: Stat }>();
  /** What rsync's stream would carry per file (%b). */
  private readonly wire: WireSettings;

  constructor(
    private readonly c: Config,
    readonly out: Output,
    private readonly sums?: LineSums,
    /** --iconv: how a destination name is printed (the sender's name; a deleted one as rsync prints it). */
    private readonly names?: { shown(rel: Buffer): Buffer; deleted(rel: Buffer): Buffer },
    /** -vvv's trace (trace.ts): told of each entry decided, with the lines its output prints. */
    private readonly decided?: (kind: FileType, name: string, verdict: Verdict, how: { hardlinked: boolean; leader?: string; local: boolean; all: boolean }, print: () => void) => void,
    /**
     * A pull: the lines are rsync's receiver's, whose %b counts what it read of a file after its index and
     * item flags; a file the remote sender sent against a basis keeps arsync's data count.
     */
    readonly receiver = false,
  ) {
    this.wire = { protocol: c.protocol ?? LOCAL_PROTOCOL, sumLength: xferSumLength(c.xferSum) };
  }

  /**
   * -R of an absolute operand (plan/sources.ts Root.absolute): the names rsync's sender prints start with
   * "/" (set as the walk starts each root; deletions, named by the generator, keep the relative name).
   */
  fromRoot = false;
  /** The walk's root is a "dir/" operand's contents: its own entry is rsync's "dir/." (%f). */
  dotRoot = false;

  /** Is anything printed per entry at all? */
  get active(): boolean {
    // -vvv's trace (or its --debug words without -v) is told of every entry, printed or not.
    return this.out.active || this.decided !== undefined;
  }

  /**
   * Only sent files' bare names are printed (Output.namesOnly), by no trace and under no --iconv: the
   * direct path's files (run/direct.ts) are then printed by sentFile without a Line each.
   */
  get namesOnly(): boolean {
    return this.decided === undefined && this.names === undefined && !this.sums && this.out.namesOnly;
  }

  /** namesOnly, and a sent file's line is its bare name whether it is new or replaces one (no -i). */
  get bareNames(): boolean {
    return this.namesOnly && this.out.bareNames;
  }

  /** A regular file sent whole under namesOnly: the line emit() would print for it, from its name alone. */
  sentFile(rel: Buffer): void {
    this.out.sentName(this.fromRoot ? `/${showPath(rel)}` : showPath(rel));
  }

  /** -ii: unchanged entries are printed too. */
  get all(): boolean {
    return this.out.itemizeAll;
  }

  emit(kind: FileType, verdict: Verdict, line: Line, hardlinked = false): void {
    if (!this.active) return;
    const text = itemize(kind, verdict, this.c, { hardlinked, all: this.out.itemizeAll });
    const changed = verdict.action === 'create' || verdict.action === 'transfer';
    const wire = this.wireBytes(kind, verdict, hardlinked, line);
    const read = this.readBytes(wire, line);
    // A closure only for -vvv's trace: this runs for every entry of a -v run.
    if (this.decided) this.decided(kind, line.name, verdict, { hardlinked, ...(hardlinked && { leader: line.suffix.replace(/^ => /, '') }), local: false, all: this.out.itemizeAll }, () => this.out.entry({ ...line, changed, isDir: kind === 'dir', wire, read, ...this.sum(line, kind, changed) }, text));
    else this.out.entry({ ...line, changed, isDir: kind === 'dir', wire, read, ...this.sum(line, kind, changed) }, text);
  }

  /**
   * rsync's %c (log.c: 0 unless the file is transferred): what the sender read for it, the generator's
   * 16-byte checksum header and, for a basis searched (--no-whole-file), its block sums. A pull's lines
   * are its receiver's, which reads nothing of the kind: 0.
   */
  private readBytes(wire: number | undefined, line: Line): number {
    if (this.receiver || !wire) return 0;
    return SUM_HEAD + (line.read ?? 0);
  }

  /** --no-whole-file: the block sums rsync's generator sends for the file's basis (%c). */
  summed(line: Line, bytes: number): void {
    if (line !== NO_LINE) line.read = bytes;
  }

  /**
   * rsync's %b for an entry (log.c: 0 unless the file is transferred; a dry run sends nothing): a file sent
   * whole counts the bytes rsync's sender writes for it (wire-bytes.ts), one searched against its basis
   * what `searched` counted.
   */
  private wireBytes(kind: FileType, verdict: Verdict, hardlinked: boolean, line: Line): number | undefined {
    const sent = verdict.action === 'create' || verdict.action === 'transfer';
    if (kind !== 'reg' || !sent || hardlinked || this.c.dryRun) return 0;
    if (this.receiver) return verdict.action === 'create' ? wholeFileWireBytes(line.size, this.wire) - sendersHead(this.wire) : undefined;
    return line.wire ?? wholeFileWireBytes(line.size, this.wire);
  }

  /**
   * A file --no-whole-file searched against its basis: its %b counts the search's tokens (`tokens`:
   * wire-bytes.ts TokenBytes), not the whole data.
   */
  searched(line: Line, tokens: number): void {
    if (line !== NO_LINE) line.wire = deltaWireBytes(tokens, this.wire);
  }

  /** --append: rsync sends only what follows the `kept` bytes of the destination, as one literal run. */
  appended(line: Line, kept: number): void {
    if (line !== NO_LINE) line.wire = wholeFileWireBytes(Math.max(0, line.size - kept), this.wire);
  }

  /**
   * rsync's %C (log.c): under -c the list's sum of every regular file printed; else the sum of what was
   * sent, for a transferred one (a dry run sends nothing: zeros); else blanks.
   */
  private sum(line: Line, kind: FileType, sent: boolean): { sum?: string } {
    if (!this.sums) return {};
    const from = kind === 'reg' ? this.sources.get(line) : undefined;
    if (!from || (!this.c.checksum && !sent)) return { sum: this.sums.blank() };
    if (!this.c.checksum && this.c.dryRun) return { sum: this.sums.zeros() };
    return { sum: this.sums.of(from.src, from.st) };
  }

  /** An entry made from a local copy (rsync's ITEM_LOCAL_CHANGE): printed only when something differs. */
  emitLocal(kind: FileType, v: Verdict, line: Line): void {
    if (!this.active) return;
    const text = itemize(kind, v, this.c, { all: this.out.itemizeAll, local: true });
    const print = (): void => this.out.entry({ ...line, changed: false, isDir: kind === 'dir', local: true, wire: 0, ...this.sum(line, kind, false) }, text);
    if (this.decided) this.decided(kind, line.name, v, { hardlinked: false, local: true, all: this.out.itemizeAll }, print);
    else print();
  }

  /** A directory's own line, held back until its deletions are printed (rsync's order). */
  emitHeld(p: { verdict: Verdict; line: Line; local?: boolean }): void {
    if (p.local) this.emitLocal('dir', p.verdict, p.line);
    else this.emit('dir', p.verdict, p.line);
  }

  /** A name in a message of rsync's generator (--info=skip): raw sender bytes under --iconv, else escaped. */
  generatorName(rel: Buffer): string {
    return this.names ? rawName(this.names.shown(rel)) : showPath(rel);
  }

  /** A deleted entry's line. */
  deletedLineFor(rel: Buffer, st: Stat, kind: FileType): Line {
    return this.build(this.names ? this.names.deleted(rel) : rel, rel, st, kind, '', false);
  }

  lineFor(rel: Buffer, src: Buffer, st: Stat, kind: FileType, suffix = ''): Line {
    if (!this.names) return this.build(rel, src, st, kind, suffix);
    const shown = this.names.shown(rel);
    const line = this.build(shown, src, st, kind, suffix);
    // rsync's receiver sends its own lines' names back through the client's iconv: raw sender bytes.
    if (line !== NO_LINE) line.generatorName = kind === 'dir' ? `${shown.length ? rawName(shown) : '.'}/` : rawName(shown);
    return line;
  }

  private build(rel: Buffer, src: Buffer, st: Stat, kind: FileType, suffix: string, sender = true): Line {
    // Nothing is printed per entry: skip escaping names that nobody will see.
    if (!this.active) return NO_LINE;
    const lead = sender && this.fromRoot ? '/' : '';
    const line: Line = {
      // Names are printed relative to the transfer root, which is the destination root here.
      name: kind === 'dir' ? `${lead}${rel.length ? showPath(rel) : '.'}/` : lead + showPath(rel),
      // %f: a sender's path as it reads it; a pull's lines are its receiver's, which has the list's name.
      fullName: this.receiver ? (rel.length ? showPath(rel) : '.') : showPath(senderPath(src, kind === 'dir' && rel.length === 0 && this.dotRoot)),
      suffix,
      size: st.size,
      bytes: kind === 'reg' ? st.size : 0,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      mtimeSec: st.mtimeSec,
      // rsync's %o: the lines of a pull are its receiver's.
      op: this.receiver ? 'recv' : 'send',
    };
    if (this.sums && kind === 'reg') this.sources.set(line, { src, st });
    return line;
  }
}

/**
 * %f: the source path as rsync's sender names it, relative to where it started (clean_fname's form:
 * no "." components or doubled slashes, no leading slash); a "dir/" operand's own entry is "dir/.".
 */
export function senderPath(src: Buffer, dotRoot: boolean): Buffer {
  // Already clean (the common case on every printed line): as it is.
  if (!dotRoot && src.length && src[0] !== 0x2f && !src.includes('/./') && !src.includes('//') && !(src[0] === 0x2e && (src.length === 1 || src[1] === 0x2f)) && !(src.length > 1 && src[src.length - 1] === 0x2e && src[src.length - 2] === 0x2f)) return src;
  const parts = src.toString('latin1').split('/').filter((p) => p !== '' && p !== '.');
  const clean = parts.join('/');
  if (dotRoot) return Buffer.from(clean ? `${clean}/.` : '.', 'latin1');
  return Buffer.from(clean || '.', 'latin1');
}
