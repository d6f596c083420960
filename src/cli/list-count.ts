// A local copy's whole file list under --info=flist2 (what --progress turns on) without incremental
// recursion: rsync builds the whole list before it transfers anything, counting " N files...\r" as it
// goes and ending "N files to consider" on the line its "building file list ... " opened; the transfer's
// lines come after. arsync walks and copies at once, so from that header on the run's standard output is
// held until the walk has listed every entry; then the count (progress/filelist-progress.ts, the same
// bytes rsync writes) and what was held go out, and the rest passes straight through. Standard error is
// not held: rsync's messages from the walk come while its list is being built.

import { filelistEnd } from '../progress/filelist-progress.js';

/** A run's two output streams (cli/main.ts Io). */
interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export interface ListCount {
  /** The streams the run writes to: stdout passes through until `hold`, then waits for `listed`. */
  io: Io;
  /** The list's header is out: hold stdout from here. */
  hold(): void;
  /** The walk listed `n` entries: the count, then what was held; undefined (the run stopped first): what was held alone. Once. */
  listed(n: number | undefined): void;
}

export function listCount(io: Io, level: number): ListCount {
  const target = io.out;
  let held: (string | Uint8Array)[] | undefined;
  let done = false;
  const write = (chunk: string | Uint8Array): boolean => {
    if (held) {
      held.push(chunk);
      return true;
    }
    return target.write(chunk);
  };
  // Only write() and isTTY are used on a run's streams (cli/stdout-gather.ts says the same).
  const out = { write, isTTY: (target as NodeJS.WriteStream).isTTY } as unknown as NodeJS.WritableStream;
  return {
    io: { out, err: io.err },
    hold() {
      if (!done) held ??= [];
    },
    listed(n) {
      if (done) return;
      done = true;
      const parts = held ?? [];
      held = undefined;
      if (n !== undefined) target.write(filelistEnd(n, level, 'sending'));
      for (const p of parts) target.write(p);
    },
  };
}
