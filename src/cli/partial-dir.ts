// The partial dir before the run: a relative one is per destination directory (the engines open it
// beneath each, following no symlink); an absolute one is the operator's and passes through rsync 3.5's
// operator-path rule. rsync refuses an untrusted one only when a file must go there ("Unable to create
// partial-dir"), so a refusal here is said once and the path is handed on unresolved: the engines,
// which follow no symlink in it, then fail exactly the files that needed it.

import type { Config } from '../model/config.js';
import { ELOOP_TEXT, resolveOperatorPath, UNTRUSTED_SYMLINK } from '../plan/operator-path.js';

/** The engines' partialDir, or undefined; `warn` hears rsync's refusal line. */
export function partialDirFor(c: Config, warn: (line: string) => void): Buffer | undefined {
  if (c.partialDir === undefined) return undefined;
  const given = Buffer.from(c.partialDir);
  if (given[0] !== 0x2f) return given;
  const r = resolveOperatorPath(given, { insecure: c.insecureLinks });
  if (r.ok) return r.path;
  warn(UNTRUSTED_SYMLINK);
  return given;
}

/**
 * --confine-root: rsync refuses a partial dir outside DIR only when a file needs it; arsync refuses the
 * run before any I/O instead (exit 11, as for the temp dir), so nothing is ever read or written there.
 * A relative one is beneath each destination directory unless it climbs out with "..": that is refused
 * too. Returns the error line, or undefined when the partial dir is allowed.
 */
export function partialDirConfinement(c: Config): string | undefined {
  if (c.partialDir === undefined || !c.confineRoot) return undefined;
  const given = Buffer.from(c.partialDir);
  const failed = `partial-dir "${c.partialDir}" failed: ${ELOOP_TEXT}`;
  if (given[0] !== 0x2f) return c.partialDir.split('/').includes('..') ? failed : undefined;
  const r = resolveOperatorPath(given, { insecure: c.insecureLinks, confine: c.confineRoot });
  return !r.ok && r.confined ? failed : undefined;
}
