// Reading rule files (--exclude-from, --include-from, merge and per-directory files, `-` for stdin): the
// filter code's only disk access, and it goes through the operator-path rule (DESIGN §3 rule 8), so a
// rule file behind a symlink another user owns is refused instead of read.

import { readFileSync } from 'node:fs';
import { resolveOperatorPath } from './operator-path.js';

/** A rule file behind a symlink that another user owns (operator-path.ts). */
export class UntrustedPath extends Error {}

/** A rule file read during the transfer that resolves outside --confine-root (operator-path.ts). */
export class ConfinedPath extends Error {}

/** A rule file's bytes, read through the operator-path rule (throws UntrustedPath on a refusal). */
export function readRuleFile(absPath: string, insecureLinks: boolean, confine?: Buffer): Buffer {
  const at = resolveOperatorPath(Buffer.from(absPath, 'latin1'), { insecure: insecureLinks, confine });
  if (!at.ok && at.confined) throw new ConfinedPath();
  if (!at.ok) throw new UntrustedPath();
  return readFileSync(at.path);
}

/** `--exclude-from=-`: fd 0 to its end. */
export const readStdin = (): Buffer => readFileSync(0);
