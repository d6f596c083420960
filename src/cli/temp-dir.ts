// -T/--temp-dir before the run, as rsync's receiver checks it before its first file: relative to the
// destination directory (where rsync's receiver works), through rsync 3.5's operator-path rule, and it
// must be an existing directory (rsync: exit 1, "does not exist" / "is not a directory").

import { statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Config } from '../model/config.js';
import { ELOOP_TEXT, resolveOperatorPath } from '../plan/operator-path.js';
import { Exit, errnoText, showPath } from '../util/errors.js';

export type TempDirCheck =
  /** `path`: absolute, holding no symlink (the engines open it following none); undefined without -T. */
  | { ok: true; path: Buffer | undefined }
  /** `bare`: rsync prints the line without its name (its rprintf lines). */
  | { ok: false; message: string; code: number; untrusted: boolean; bare?: boolean };

export function checkTempDir(c: Config, destRoot: Buffer): TempDirCheck {
  if (c.tempDir === undefined) return { ok: true, path: undefined };
  const given = c.tempDir;
  const dir = Buffer.from(resolvePath(destRoot.toString('latin1'), Buffer.from(given).toString('latin1')), 'latin1');
  const r = resolveOperatorPath(dir, { insecure: c.insecureLinks, confine: c.confineRoot });
  // Outside --confine-root rsync writes its temporary file there and then fails each rename (exit 23);
  // arsync writes nothing outside DIR and refuses the run before any I/O, as for an untrusted link.
  if (!r.ok) return { ok: false, message: `temp-dir "${showPath(dir)}" failed: ${ELOOP_TEXT}`, code: Exit.FileIO, untrusted: !r.confined };
  let isDir: boolean;
  try {
    isDir = statSync(r.path).isDirectory();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { ok: false, message: `The temp-dir does not exist: ${given}`, code: Exit.Usage, untrusted: false, bare: true };
    const why = err.errno !== undefined ? errnoText(Math.abs(err.errno)) : err.message;
    return { ok: false, message: `Failed to stat temp-dir ${given}: ${why}`, code: Exit.FileIO, untrusted: false, bare: true };
  }
  if (!isDir) return { ok: false, message: `The temp-dir is not a directory: ${given}`, code: Exit.Usage, untrusted: false, bare: true };
  return { ok: true, path: r.path };
}
