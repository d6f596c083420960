// -c's lines in rsync's order. A compare runs in the engines, in parallel, and its line (sent, or only
// attributes) is known when its batch's outcome comes back, after the walk has printed the lines of later
// entries. rsync's generator prints in file-list order, so while a compare's line is unknown, every stdout
// line after it waits in a queue behind a reserved place; the place is filled from the outcome, and the
// queue is written out up to the next place still open. The work stays parallel: only lines are held.

import type { Reporter } from '../progress/reporter.js';

/** A reserved place in the output: the lines its entry prints once its outcome is known. */
export interface LineSlot {
  lines: Array<() => void>;
  open: boolean;
}

export class LineOrder {
  private readonly queue: LineSlot[] = [];
  /** The reporter the run prints through: stdout lines go through the queue while a place is open. */
  readonly reporter: Reporter;
  /** Writing to the real reporter (filling a place writes its own lines without queueing them). */
  private direct = false;

  constructor(inner: Reporter) {
    const held = (write: (line: string) => void) => (line: string) => {
      if (this.direct || this.queue.length === 0) write(line);
      else this.queue.push({ lines: [() => write(line)], open: false });
    };
    this.reporter = {
      ...inner,
      print: held((l) => inner.print(l)),
      item: held((l) => inner.item(l)),
      info: held((l) => inner.info(l)),
    };
  }

  /** Reserve the place of an entry whose line is known later. */
  hold(): LineSlot {
    const slot: LineSlot = { lines: [], open: true };
    this.queue.push(slot);
    return slot;
  }

  /** The entry's outcome is known: `print` writes its lines (through this.reporter) at its place. */
  fill(slot: LineSlot, print: () => void): void {
    const head = this.queue[0] === slot;
    if (head) {
      this.queue.shift();
      this.writing(print);
    } else {
      // Its lines wait with it: catch what `print` writes through the held reporter.
      const at = this.queue.indexOf(slot);
      const tail = this.queue.splice(at + 1);
      print();
      const caught = this.queue.splice(at + 1);
      slot.lines = caught.flatMap((s) => s.lines);
      this.queue.push(...tail);
    }
    slot.open = false;
    this.flush();
  }

  /** The end of the run: every line still held is written, places never filled left empty. */
  close(): void {
    for (const s of this.queue) s.open = false;
    this.flush();
  }

  private flush(): void {
    while (this.queue.length && !this.queue[0]!.open) {
      const s = this.queue.shift()!;
      this.writing(() => s.lines.forEach((w) => w()));
    }
  }

  private writing(f: () => void): void {
    const was = this.direct;
    this.direct = true;
    try {
      f();
    } finally {
      this.direct = was;
    }
  }
}
