// The line of an entry rsync itemizes only once it exists: its generator prints a symlink, FIFO, socket or
// device, and a hard-link member, after atomic_create or hard_link_one made it (generator.c
// recv_generator, hlink.c maybe_hard_link), so an entry whose creation failed has no line (used for the
// symlinks and specials entry.ts queues, and for the members of their -H groups, link-member.ts). The line waits
// for its op's outcome at the place it would have had, in whichever output prints it, and is left out when
// the op failed.

import { Outcome } from '../model/ops.js';
import { showPath } from '../util/errors.js';
import type { RunContext } from './context.js';
import type { Pending } from './sink.js';

/**
 * Where the line waits, in each output: -vvv's trace keeps every entry's lines until the pass is over, so
 * the line is given to it now and taken back if the op failed (RunTrace.unmade); --progress holds a place
 * in its queue of files (FileMark.held); otherwise a place in the line order (-v, -i, --out-format,
 * --log-file, a pull's too), and with neither (--json, whose entry event means the entry was made) it is
 * printed at the outcome.
 */
export function madeLine(rc: RunContext, rel: Buffer, emit: () => void): Pick<Pending, 'made' | 'unmade' | 'slot' | 'mark'> {
  const trace = rc.trace;
  if (trace) {
    emit();
    const name = showPath(rel);
    return { made: () => {}, unmade: () => trace.unmade(name) };
  }
  const mark = rc.reporter.settle ? rc.reporter.hold?.() : undefined;
  if (mark) return { made: emit, mark };
  return { made: emit, slot: rc.order?.made() };
}

/** Whether an op's outcome made its entry (an op that failed or never ran did not). */
export const madeBy = (o: number): boolean => o !== Outcome.Failed && o !== Outcome.NotRun;

/**
 * Settles a waiting line with its op's outcome `o`: `lines` (made's line, or what else the entry prints
 * then) at the line's place, or at once when it kept none.
 */
export function settleLine(rc: RunContext, p: Pick<Pending, 'slot' | 'mark'>, o: number, lines: () => void): void {
  if (p.mark && rc.reporter.settle) rc.reporter.settle(p.mark, o, lines);
  else if (p.slot && rc.order) rc.order.fill(p.slot, lines);
  else lines();
}

/**
 * `made` (the entry's line and count) once its op's outcome says the entry was made: the line holding its
 * place meanwhile when lines are printed (madeLine), nothing printed or counted when the op failed.
 * Returns what the outcome is given to.
 */
export function onceMade(rc: RunContext, rel: Buffer, made: () => void): (o: number) => void {
  if (!rc.lines.active) return (o) => void (madeBy(o) && made());
  const p = madeLine(rc, rel, made);
  return (o) => settleLine(rc, p, o, () => (madeBy(o) ? p.made?.() : p.unmade?.()));
}
