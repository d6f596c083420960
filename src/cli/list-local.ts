// The CLI's local --list-only run (also a lone local source, rsync's implicit listing): the operands
// resolved as the sender resolves them, rsync's headers and closing lines around the listing, and its
// exit code (23 when an operand or a directory could not be read).

import type { Config } from '../model/config.js';
import type { Engine } from '../engine/engine.js';
import type { NameCharsets } from '../engine/charset.js';
import type { FilterList } from '../plan/filter.js';
import { resolveOperands } from '../plan/sources.js';
import { listRoots } from '../run/list-only.js';
import { listLine, type ListedEntry } from '../progress/list-line.js';
import type { Reporter } from '../progress/reporter.js';
import { listingStatsLines } from '../progress/stats.js';
import { Exit } from '../util/errors.js';
import { outputBytes } from '../util/names.js';
import { monotonicMs } from '../util/monotonic.js';

export async function listLocal(c: Config, engine: Engine, filters: FilterList | undefined, reporter: Reporter, out: NodeJS.WritableStream, charsets?: NameCharsets): Promise<number> {
  const started = monotonicMs();
  const { plan, missing } = await resolveOperands(c, (p) => engine.lstat(p));
  // rsync's send_file_list(): an incremental list announces itself, a whole one once it is built.
  if (c.info.FLIST > 0) out.write(c.incRecursive ? 'sending incremental file list\n' : 'building file list ... done\n');
  if (c.debug.FLIST > 0) reporter.print('delta-transmission disabled for local transfer or --whole-file');
  for (const m of missing) {
    if (m.bare) reporter.warn(m.message);
    else reporter.error(m.message);
  }
  // -q silences the listing as it silences every informational line (rsync prints it as FINFO).
  const print = (e: ListedEntry): void => {
    if (!c.quiet) out.write(outputBytes(listLine(e, c.humanReadable, c.atimes)));
  };
  const t = listRoots(c, plan.roots, engine, filters, print, (m) => reporter.error(m), charsets);
  const ms = monotonicMs() - started;
  if (c.debug.DELTASUM > 0) reporter.print('total: matches=0  hash_hits=0  false_alarms=0 data=0');
  if (c.info.STATS > 0) {
    // Nothing crosses a wire: the figures rsync counts in protocol bytes are 0 here.
    const lines = listingStatsLines({ counts: t.counts, totalSize: t.totalSize, listBytes: 0, buildMs: ms, xferMs: 0, sent: 0, received: 0 }, 0.5, c.info.STATS > 1, c.humanReadable);
    for (const l of lines) reporter.print(l);
  }
  // An implied directory found missing (plan/sources.ts ImpliedParents) is rsync's exit 24.
  const vanished = missing.filter((m) => m.vanished).length;
  return missing.length - vanished + t.errors > 0 ? Exit.Partial : vanished ? Exit.Vanished : Exit.Ok;
}
