// rsync's file-list progress under --info=flist2 (what --progress turns on) when the list is not sent
// incrementally: after "building file list ... " (sending) or "receiving file list ... " (receiving),
// " N files...\r" at every hundredth entry, each overwriting the last, then "N files to consider" on the
// same line. A sender counts before adding each entry (so from 0), a receiver after (so from 100, and not
// at all, nor the newline before it, for a list under a hundred). Under flist1 the line ends in "done".

/** What follows "building file list ... " / "receiving file list ... " once the list has `n` entries. */
export function filelistEnd(n: number, level: number, side: 'sending' | 'receiving'): string {
  if (level < 2) return 'done\n';
  let s = '';
  for (let k = side === 'sending' ? 0 : 100; k < n + (side === 'sending' ? 0 : 1); k += 100) s += ` ${k} files...\r`;
  if (s) s = '\n' + s;
  return `${s}${n} file${n === 1 ? ' ' : 's '}to consider\n`;
}
