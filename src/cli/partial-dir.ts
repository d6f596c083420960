// The partial dir before the run: a relative one is per destination directory (the engines open it
// beneath each, following no symlink); an absolute one is the operator's and passes through rsync 3.5's
// operator-path rule. rsync refuses an untrusted one only when a file must go there ("Unable to create
// partial-dir"), so a refusal here is said once and the path is handed on unresolved: the engines,
// which follow no symlink in it, then fail exactly the files that needed it.

import type { Config } from '../model/config.js';
import { resolveOperatorPath, UNTRUSTED_SYMLINK } from '../plan/operator-path.js';

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
