// --confine-root=DIR (rsync 3.5): the operator paths rsync confines (--backup-dir, --temp-dir,
// --partial-dir, --link-dest/--copy-dest/--compare-dest, per-directory merge files, the names a
// --files-from list selects) are refused when they resolve outside DIR; plan/operator-path.ts holds the
// rule. Declared here and settled into the Config as rsync's options.c settles it: DIR must be absolute,
// --insecure-links cannot go with it, and "/" confines nothing. rsync never forwards it to the other end.

import type { Command } from 'commander';
import { UsageError } from '../util/errors.js';

export function addConfineRootOption(p: Command): void {
  p.option('--confine-root <DIR>', 'refuse operator paths resolving outside DIR');
}

/** rsync's normalize_path for an absolute DIR: no ".", no empty component, ".." taken lexically. */
function normalize(dir: string): string {
  const out: string[] = [];
  for (const part of dir.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/**
 * The confinement root the options ask for: undefined for none (not given, or "/"). Throws rsync's usage
 * errors (exit 1, before any I/O) for a relative DIR and for --insecure-links with it.
 */
export function confineRoot(o: Record<string, unknown>): Buffer | undefined {
  const given = o['confineRoot'] as string | undefined;
  if (given === undefined) return undefined;
  if (!given.startsWith('/')) throw new UsageError('--confine-root must be an absolute path');
  // The opt-out restores the open that skips the walk enforcing the root: together they would confine nothing.
  if (o['insecureLinks']) throw new UsageError('--insecure-links cannot be combined with --confine-root');
  const root = normalize(given);
  return root === '/' ? undefined : Buffer.from(root, 'latin1');
}
