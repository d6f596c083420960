// --delete with --files-from in a pull: rsync's receiver deletes only inside the directories the sender
// sent with their contents (no XMIT_NO_CONTENT_DIR: a listed directory under -r and those below it),
// never in one sent without them (-d's, or the parents -R implies) nor in the transfer root unless the
// list sent "." with its contents. The local half copies the staged tree whole, so that scope is given
// to it as receiver-side protect rules: every entry directly inside such a directory is protected.

import type { FilterItem } from '../model/config.js';
import { isDir, type RemoteEntry } from '../remote/flist.js';

/** rsync's wildcard characters and the backslash: escaped so a name is matched as itself. */
const literal = (name: string): string => name.replace(/[\\*?[]/g, (ch) => `\\${ch}`);

/** The protect rules that keep --delete out of the list's directories sent without their contents. */
export function deleteScopeRules(entries: readonly (RemoteEntry | undefined)[]): FilterItem[] {
  const content = new Set<string>();
  const without: string[] = [];
  for (const e of entries) {
    if (!e || !isDir(e.mode)) continue;
    const name = e.name.toString('latin1');
    if (e.noContent) without.push(name);
    else content.add(name);
  }
  // The root is a deletion root only when the list sent it with its contents.
  if (!content.has('.') && !without.includes('.')) without.push('.');
  // Bytes as the names came (latin1 keeps each byte).
  return without.map((d) => ({ kind: 'filter', value: d === '.' ? 'P /*' : Buffer.from(`P /${literal(d)}/*`, 'latin1') }));
}
