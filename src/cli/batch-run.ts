// A local run that writes a batch (--write-batch, --only-write-batch), as cli/main.ts drives it: before
// the run the script is written and the batch opened (batch-files.ts), the run itemizes every entry to a
// recorder, and after it the batch is written (batch-write.ts). --only-write-batch runs as a dry run:
// nothing on the destination changes, and the summary says "(BATCH ONLY)".

import * as fs from 'node:fs';
import type { Config } from '../model/config.js';
import type { Engine } from '../engine/engine.js';
import type { FilterList } from '../plan/filter.js';
import type { EntryEvent } from '../progress/output.js';
import { Exit, UsageError } from '../util/errors.js';
import { aclAddon } from './remote-acls.js';
import type { RemoteXattrs } from '../run/remote-xattrs.js';

export interface BatchRun {
  /** The run's Config (a dry run for --only-write-batch). */
  config: Config;
  only: boolean;
  observe(e: EntryEvent, itemize: string): void;
  /** Writes the batch and closes it; returns how many files could not be read into it (each reported). */
  finish(engine: Engine, filters: FilterList | undefined, error: (m: string) => void): number;
}

export async function startBatch(c: Config, args: string[]): Promise<BatchRun | { message: string; code: number }> {
  const [{ openForWriting }, { BatchRecorder, writeBatch }] = await Promise.all([import('./batch-files.js'), import('./batch-write.js')]);
  const b = c.batch!;
  let opened;
  try {
    opened = openForWriting({ program: process.argv[1], args, operands: [...c.sources, c.dest].map((o) => o.toString('utf8')), file: b.file, filters: c.filters, cvsExclude: c.cvsExclude, from0: c.from0 }, c.insecureLinks);
  } catch (err) {
    if (err instanceof UsageError) return { message: err.message, code: Exit.Usage };
    throw err;
  }
  if ('message' in opened) return opened;
  const fd = opened.fd;
  const only = b.mode === 'only-write';
  const config = only ? { ...c, dryRun: true } : c;
  const rec = new BatchRecorder();
  // -X: the sources' xattrs are read through the addon (the node engine refuses -X before this).
  let xio: RemoteXattrs | undefined;
  if (c.xattrs) {
    const x = (await import('../run/remote-xattrs.js')).remoteXattrs();
    if ('reason' in x) return { message: `-X/--xattrs needs the native addon: ${x.reason}`, code: Exit.Usage };
    xio = x;
  }
  // -A: the sources' ACLs go in the list, read through the addon as a push reads them (cli/remote-acls.ts).
  const acl = aclAddon(c);
  if (acl.error) return { message: acl.error, code: Exit.Usage };
  return {
    config,
    only,
    observe: rec.observe,
    finish(engine, filters, error) {
      try {
        const problems = writeBatch(fd, config, engine, filters, rec, xio, acl.addon);
        for (const m of problems) error(m);
        return problems.length;
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}
