// The run's tally: totals, counts by type, the errors reported (each printed once, as it happens) and
// the inputs of the exit code. Every phase adds to this one object; progress/ and the summary read its
// RunTotals (model/run-totals.ts), never the run itself.

import { COUNTER_SLOTS, Counter, OpFlag, OpKind } from '../model/ops.js';
import type { OpFailure } from '../engine/types.js';
import type { Counts, ErrorRecord, RunTotals } from '../model/run-totals.js';
import { ERRNO, Exit, attrRefusedMessage, fsError, showPath } from '../util/errors.js';
import { absolutePath, joinPath } from '../util/names.js';
import { errnoSuffix } from '../util/strerror.js';
import type { Op } from '../engine/batch.js';
import { FailWords } from './fail-words.js';

/**
 * The engines' "the source ended before the size fstat gave" (native/copy.h copy_fail_short, the node
 * engine's zero-byte read): it shrank while it was read. rsync's sender says so through map_ptr's read
 * error (sender.c), in its words.
 */
export const sourceEndedEarly = (f: OpFailure): boolean => !f.onDest && f.errno === ERRNO.ENODATA && f.syscall === 'read';


/**
 * A File op that failed before its temp file existed: its mkstemp (`open`; in place, the file's own open),
 * or a pull's received file linked in at its temp name (`link`, native/adopt.c; not arsync's own check
 * that the staged inode is unchanged, ESTALE). None of its bytes were counted as written.
 */
function tempNotMade(f: OpFailure, op: Op): boolean {
  return op.kind === OpKind.File && f.onDest && (f.syscall === 'open' || (f.syscall === 'link' && f.errno !== ERRNO.ESTALE));
}

/**
 * A file whose data rsync's sender sent although the receiving side then failed it (its temp file could
 * not be made, written, renamed, given its attributes): rsync's receiver counts it among the files and
 * bytes transferred before it opens anything (receiver.c), so --stats does here too. Not a basis copied
 * from a --*-dest twin (the generator's own copy), nor a -c compare that could not read the destination
 * (the generator's step, before anything is sent), nor --reflink's clone (no step of rsync's); an
 * attribute refused on a file already in place (`attr`) was counted when the file was.
 */
function sentAnyway(f: OpFailure, op: Op): boolean {
  if (op.kind !== OpKind.File || !f.onDest || f.attr || op.flags & OpFlag.Basis) return false;
  if (f.syscall === 'clone' || (op.flags & OpFlag.Compare && f.syscall === 'read')) return false;
  return true;
}

export const zeroCounts = (): Counts => ({ reg: 0, dir: 0, link: 0, dev: 0, special: 0 });

const sum = (n: Counts): number => n.reg + n.dir + n.link + n.dev + n.special;

export class Tally {
  readonly totals: RunTotals;
  /** The counters the engines bump from any thread (engine/types.ts Counter slots). */
  readonly counters = new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8));
  private readonly words: FailWords;

  constructor(
    /**
     * Each error as it happens: its message, and the record the summary keeps (none for a note that
     * only follows an error). `bare`: rsync prints the line as it is (rprintf), without the "rsync: "
     * its rsyserr() lines start with.
     */
    private readonly error: (message: string, record: ErrorRecord | undefined, bare?: boolean) => void,
    /** Destination paths in failures are relative to it. */
    private readonly destRoot: Buffer,
    /** The run changes owners: acts as root and -o (see FailWords). */
    asRoot = false,
    /** --inplace (see FailWords). */
    inplace = false,
  ) {
    this.words = new FailWords(destRoot, asRoot, inplace);
    this.totals = {
      listed: zeroCounts(),
      created: zeroCounts(),
      deleted: zeroCounts(),
      totalSize: 0,
      plannedBytes: 0,
      plannedFiles: 0,
      ioErrors: 0,
      vanished: 0,
      deleteSkipped: 0,
      aborted: false,
      fileListMs: 0,
      counters: this.counters,
      threads: 0,
      errors: [],
    };
  }

  /**
   * An op (or a walk step, with no op) that failed: a vanished source counts apart from I/O errors (exit
   * 24, not 23). The line is rsync's for the step (fail-words.ts). `xfer`: one of rsync's FERROR_XFER
   * lines that leave its io_error alone (a deletion that failed, delete.c; any failure on the
   * destination is one): exit 23, --delete goes on.
   */
  fail(f: OpFailure, op?: Op, xfer = false): void {
    const vanished = !f.onDest && (f.errno === ERRNO.ENOENT || f.errno === ERRNO.ESTALE);
    // Destination paths are relative, except a backup name, which is absolute (it may lie outside).
    const where = (p: Buffer): string => showPath(f.onDest && p[0] !== 0x2f ? joinPath(this.destRoot, p) : p);
    const t = this.totals;
    if (vanished) {
      t.vanished++;
      const message =
        f.errno === ERRNO.ESTALE
          ? `file has changed during the run, not copied: "${showPath(absolutePath(f.path))}"`
          : `file has vanished: "${showPath(absolutePath(f.path))}"`;
      const rec = { path: where(f.path), message, code: f.errno === ERRNO.ESTALE ? 'ESTALE' : 'ENOENT' };
      t.errors.push(rec);
      this.error(message, rec, true);
      return;
    }
    // Only the sender's reading errors set rsync's io_error, which stops --delete; what its generator and
    // receiver fail to do on the destination (FERROR_XFER lines: a mkstemp, a write, a mkdir, an attribute)
    // and its bare lines (fail-words.ts) leave it alone: exit 23, and the deletions go on.
    const bare = f.attr ? undefined : this.words.bare(f, op);
    if (xfer || bare !== undefined || f.onDest) t.xferErrors = (t.xferErrors ?? 0) + 1;
    else t.ioErrors++;
    if (op && sentAnyway(f, op)) {
      Atomics.add(this.counters, Counter.Files, 1n);
      // The temp file (or, in place, the file) was never made: none of its bytes were counted as written.
      if (tempNotMade(f, op)) Atomics.add(this.counters, Counter.Bytes, BigInt(op.stat.size));
    }
    const e = fsError(f.errno, f.syscall, where(f.path), f.dest ? where(f.dest) : undefined);
    const message = bare ?? (f.attr ? attrRefusedMessage(f.errno, f.syscall, where(f.path), f.attr) : this.words.line(f, op));
    const rec = { path: where(f.path), message, code: e.code };
    t.errors.push(rec);
    this.error(message, rec, bare !== undefined);
  }

  /**
   * An error the planner words whole, as rsync does (no errno): counted as an I/O error. `bare`: one
   * rsync prints without its program name (an rprintf line, such as "symlink has no referent: ...").
   */
  xferError(path: Buffer, message: string, bare = false): void {
    this.totals.ioErrors++;
    const rec = { path: showPath(path), message, code: 'EIO' };
    this.totals.errors.push(rec);
    this.error(message, rec, bare);
  }

  /**
   * rsync's generator's own FERROR_XFER line, worded whole ("could not make way for new ..."): exit 23,
   * printed bare; like sendError it leaves --delete alone (rsync's got_xfer_error, not its io_error).
   */
  generatorError(path: Buffer, message: string): void {
    this.xferError23(path, message, 'EIO', true);
  }

  /**
   * An error that makes the exit code 23 but, unlike the I/O errors, does not stop --delete (rsync's
   * FERROR_XFER lines that leave io_error alone). `what` is rsync's wording, before the errno's text.
   */
  sendError(path: Buffer, errno: number, syscall: string, what: string): void {
    this.xferError23(path, `${what}: ${errnoSuffix(errno)}`, fsError(errno, syscall, showPath(path)).code, false);
  }

  /**
   * An error arsync words whole and goes on after where rsync stops the run (exit 11): exit 23, and like
   * sendError it leaves --delete alone (the entry is still listed, only its metadata was in doubt).
   * Printed bare, as rsync's rprintf line.
   */
  goOnError(path: Buffer, message: string): void {
    this.xferError23(path, message, 'EINVAL', true);
  }

  /** The three above: counted for exit 23 only (not an I/O error), recorded, printed. */
  private xferError23(path: Buffer, message: string, code: string, bare: boolean): void {
    this.totals.xferErrors = (this.totals.xferErrors ?? 0) + 1;
    const rec = { path: showPath(path), message, code };
    this.totals.errors.push(rec);
    this.error(message, rec, bare);
  }

  /** A line rsync prints on stderr as it is, after an error already counted (no program name). */
  note(message: string): void {
    this.error(message, undefined, true);
  }

  /** An I/O error found by the planner itself, with rsync's wording in front (`what`). */
  ioError(path: Buffer, errno: number, syscall: string, what?: string): void {
    this.totals.ioErrors++;
    const e = fsError(errno, syscall, showPath(path));
    const message = what ? `${what}: ${errnoSuffix(errno)}` : e.message;
    const rec = { path: showPath(path), message, code: e.code };
    this.totals.errors.push(rec);
    this.error(message, rec);
  }

  /** Entries counted without being planned one by one (found unchanged by a native quick check). */
  addListed(n: Partial<Counts>, size: number): void {
    const l = this.totals.listed;
    l.reg += n.reg ?? 0;
    l.dir += n.dir ?? 0;
    l.link += n.link ?? 0;
    l.dev += n.dev ?? 0;
    l.special += n.special ?? 0;
    this.totals.totalSize += size;
  }

  listedCount(): number {
    return sum(this.totals.listed);
  }

  deletedCount(): number {
    return sum(this.totals.deleted);
  }
}

/**
 * rsync's exit code for a finished run, in rsync's order of precedence: a signal (20), then any I/O error
 * (23, `priorIoErrors` counts the missing operands reported before the run), then --max-delete (25), then
 * vanished files only (24).
 */
export function exitCode(t: Pick<RunTotals, 'aborted' | 'ioErrors' | 'xferErrors' | 'deleteSkipped' | 'vanished'>, aborted: boolean, priorIoErrors: number): number {
  if (t.aborted || aborted) return Exit.Signal;
  if (t.ioErrors + (t.xferErrors ?? 0) + priorIoErrors > 0) return Exit.Partial;
  if (t.deleteSkipped > 0) return Exit.MaxDelete;
  if (t.vanished > 0) return Exit.Vanished;
  return Exit.Ok;
}
