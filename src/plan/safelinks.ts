// rsync's rule for an "unsafe" symlink (--safe-links, --copy-unsafe-links, and backups under
// --safe-links): one whose target could reach outside the transfer. A pure function of the link's target
// and its path relative to the transfer root, both bytes (latin1 keeps every byte as one char).

/**
 * True when a symlink at `fname` (relative to the transfer root) pointing at `target` is unsafe: empty or
 * absolute; any ".." after a named component (rsync does not try to resolve "a/../b", since a component
 * may itself be a symlink); a target ending in "/.."; or leading ".." components that climb above the root.
 */
export function unsafeSymlink(target: Buffer, fname: Buffer): boolean {
  const dest = target.toString('latin1');
  if (dest === '' || dest.startsWith('/')) return true;
  // Only a run of leading "../" may climb; a ".." anywhere later is unsafe on sight.
  let rest = dest;
  while (rest.startsWith('../')) rest = rest.slice(3).replace(/^\/+/, '');
  if (rest.includes('/../')) return true;
  if (dest.length > 3 && dest.endsWith('/..')) return true;

  // The safety margin: the directories above the link inside the transfer ("." ignored, ".." resets).
  let depth = 0;
  const src = fname.toString('latin1').split('/');
  src.pop();
  for (const part of src) {
    if (part === '') continue;
    if (part === '..') depth = 0;
    else if (part !== '.') depth++;
  }
  if (fname.toString('latin1').split('/').pop() === '..') depth = 0;

  const parts = dest.split('/');
  const last = parts.pop()!;
  for (const part of parts) {
    if (part === '') continue;
    if (part === '..') {
      if (--depth < 0) return true;
    } else if (part !== '.') depth++;
  }
  if (last === '..') depth--;
  return depth < 0;
}
