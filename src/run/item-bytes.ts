// The bytes rsync's two processes exchange for an entry whose attributes alone change (a directory's
// time, a file's permissions): its generator tells the sender the entry's index and item flags (itemize()
// in generator.c sends them for any significant flag, -v or not), and the sender sends them back on
// (send_files, an entry without ITEM_TRANSFER). The index is written as a difference from the one
// before (io.c write_ndx: one byte for a step of 1..253), the flags as two bytes. Counted as the walk
// meets each such entry, for the -v summary and --stats of a run that changed nothing else
// (run/stream-totals.ts).

import { NdxWriter } from '../remote/ndx.js';
import type { ListWindow } from '../model/list-window.js';

const FLAGS = 2;

export class ItemBytes {
  private readonly ndx = new NdxWriter();
  private readonly b = Buffer.allocUnsafe(8);
  /** Entries itemized without a transfer, and the bytes one side wrote for them. */
  count = 0;
  bytes = 0;

  /** An entry just counted in the list (`listed` entries so far, `w` the walk's lists) whose attributes alone change. */
  note(w: ListWindow, listed: number): void {
    const place = w.place(listed);
    // rsync's index: under incremental recursion each list starts one past the last one's end (its
    // first at 1), so the index is the place plus the lists before; a list sent whole starts at 0.
    const index = w.incremental ? place + w.current : place - 1;
    this.count++;
    this.bytes += this.ndx.encodeInto(index, this.b, 0) + FLAGS;
  }
}
