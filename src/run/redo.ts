// rsync's redo phase in a local copy: a file whose source ended before the size its open saw (it shrank
// while it was read) is not placed (DESIGN §3 rule 9); once the pass is over it is copied once more, as
// rsync's receiver does when the whole-file checksum of what it got is wrong: it warns ("failed
// verification -- update discarded (will try again)") and its generator sends the file again in phase 2,
// which reads what the source holds by then under the file list's metadata (the engines copy the size
// their open's fstat gives). A second failure is rsync's ERROR line, and nothing is placed.

import { basename } from 'node:path';
import { readBatch } from '../engine/batch.js';
import type { OpFailure } from '../engine/types.js';
import type { Config } from '../model/config.js';
import { Counter, OpFlag, OpKind } from '../model/ops.js';
import type { Stat } from '../model/stat.js';
import { quickCheck, type Verdict } from '../plan/quickcheck.js';
import { NO_CHANGES } from './lines.js';
import { itemizes } from '../progress/output.js';
import { showPath } from '../util/errors.js';
import type { RunContext } from './context.js';
import { sourceEndedEarly } from './tally.js';

/** A File op to run again: what the batch held. */
interface Shrunk {
  src: Buffer;
  rel: Buffer;
  st: Stat;
  flags: number;
}

/** The File ops whose source shrank under them, gathered from the batches' failures as they come. */
export class ShrunkFiles {
  private files: Shrunk[] = [];
  /** Failures seen during the redo itself are final. */
  private redoing = false;
  private readonly again: Shrunk[] = [];

  get count(): number {
    return this.files.length;
  }

  /** From one batch's failures (indexes into `batch`): keep the File ops whose source ended early. */
  note(batch: Uint8Array, failures: OpFailure[]): void {
    const at = new Set<number>();
    for (const f of failures) if (f.index >= 0 && sourceEndedEarly(f)) at.add(f.index);
    if (at.size === 0) return;
    let i = 0;
    for (const op of readBatch(batch)) {
      // A basis file (--copy-dest and friends) that shrank has its own fallback: only sources are redone.
      if (at.has(i) && op.kind === OpKind.File && !(op.flags & OpFlag.Basis)) {
        const s = { src: Buffer.from(op.src), rel: Buffer.from(op.dst), st: op.stat, flags: op.flags };
        (this.redoing ? this.again : this.files).push(s);
      }
      i++;
    }
  }

  /** The files to copy again (empties the list); failures noted from now on are the redo's. */
  take(): Shrunk[] {
    this.redoing = true;
    const t = this.files;
    this.files = [];
    return t;
  }

  /** The redo's own failures (empties the list). */
  takeAgain(): Shrunk[] {
    return this.again.splice(0);
  }
}

/** What rsync 3.5's receiver says became of the bad copy (receiver.c's keptstr, as it comes out locally). */
const kept = (c: Config): string => (c.inplace ? 'retained' : 'discarded');

/**
 * Whether rsync left the bad copy under the file's name: written in place (--inplace), or kept as a partial
 * file (--partial without a partial dir). It has the list's size and mode, not its time, so the redo's
 * line shows only the time; arsync placed nothing of it (DESIGN §3 rule 9), so that line is made here.
 */
const leftInPlace = (c: Config): boolean => c.inplace || (c.partial && c.partialDir === undefined && !c.delayUpdates);

/** Name as rsync's receiver gives it: the path in the transfer (a lone file: its own name). */
const nameOf = (s: Shrunk): string => showPath(s.rel.length ? s.rel : Buffer.from(basename(s.src.toString('latin1')), 'latin1'));

/**
 * After the pass (every batch drained): each shrunk file warned about, its line printed again and its op
 * queued once more; the run's figures count both sends, as rsync's do.
 */
export async function redoShrunk(rc: RunContext, shrunk: ShrunkFiles): Promise<void> {
  const files = shrunk.take();
  if (files.length === 0 || rc.c.dryRun) return;
  const c = rc.c;
  const text = !c.json;
  // rsync's FWARNING goes out only at -v or -i (its ERROR_XFER always).
  if (text && (c.info.NAME > 0 || itemizes(c))) {
    for (const s of files) rc.reporter.warn(`WARNING: ${nameOf(s)} failed verification -- update ${kept(c)} (will try again).`);
  }
  const counters = rc.tally.counters;
  const before = Number(Atomics.load(counters, Counter.Bytes));
  let listed = 0;
  for (const s of files) {
    // The destination still holds what it held: the same verdict as in the pass, except that -c's compare
    // is settled (the list's sum is the old content's, not the destination's: it is sent).
    const v = quickCheck(s.st, rc.dest.stat(s.rel), rc.spec.check);
    const verdict: Verdict = leftInPlace(c)
      ? { action: 'transfer', changes: { ...NO_CHANGES, time: c.times } }
      : v.action === 'compare' ? { action: 'transfer', changes: { ...v.changes, value: true } } : v.action === 'skip' || v.action === 'none' ? { action: 'create' } : v;
    rc.lines.emit('reg', verdict, rc.lines.lineFor(s.rel, s.src, s.st, 'reg'));
    // A Backup op went before the first copy; none goes before this one. The source changed since the
    // list: --remove-source-files leaves it (below).
    rc.sink.add(OpKind.File, s.src, s.rel, s.st, s.flags & ~(OpFlag.AfterBackup | OpFlag.Compare | OpFlag.RemoveSource));
    listed += s.st.size;
  }
  await rc.sink.flush();
  await rc.sink.drain();
  await rc.sink.retryFdShortage();
  // rsync counts the first send too: the list's size as transferred and literal (its sender pads what it
  // could not read), and the redo's list size as transferred, its real bytes as literal. The engines
  // counted what the first copy read before the end came (what the file holds by then, which the redo
  // read again): that is taken out.
  const resent = Number(Atomics.load(counters, Counter.Bytes)) - before;
  rc.tally.totals.redo = { files: files.length, transferred: 2 * (listed - resent), literal: listed - resent };
  const failed = shrunk.takeAgain();
  for (const s of failed) {
    if (text) rc.reporter.warn(`ERROR: ${nameOf(s)} failed verification -- update ${kept(c)}.`);
  }
  // rsync's sender removes a sent source only if it still has the list's size and mtime (sender.c).
  if (c.removeSourceFiles) {
    const again = new Set(failed.map((s) => s.src.toString('latin1')));
    for (const s of files) {
      // (Where removals wait for the transfer's end, the op went without its flag: removal-queue.ts.)
      const removes = (s.flags & OpFlag.RemoveSource) !== 0 || rc.removals?.waits(s.rel) === true;
      if (again.has(s.src.toString('latin1')) || !removes) continue;
      rc.tally.totals.ioErrors++;
      if (text) rc.reporter.warn(`ERROR: Skipping sender remove for changed file: ${nameOf(s)}`);
    }
  }
}
