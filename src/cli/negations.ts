// rsync's --no-X forms of options arsync has, and the argv order between them and the options that set
// the same variables (-a, -D, -A, -P): rsync keeps one variable per setting and each option writes it as
// popt meets it, so the last word on the line wins (`-a --no-o` keeps no owner, `--no-o -a` keeps it).
// Commander fires `option:` events in argv order; the handlers here write the attributes options.ts reads.

import type { Command } from 'commander';

/** An attribute of the parsed options and the value a --no- form writes to it. */
type Write = readonly [attribute: string, value: false | 0];

/**
 * Each --no- form, what `--help` says of it, and what it writes (rsync's long_options[]). The forms
 * whose options live in their own modules are declared there: --no-sparse/-S/--no-inplace/--no-partial
 * in write-options.ts, --no-progress in clock-options.ts.
 */
const NEGATIONS: ReadonlyArray<readonly [flag: string, help: string, writes: readonly Write[]]> = [
  ['--no-r', 'same as --no-recursive', [['recursive', false]]],
  ['--no-l', 'same as --no-links', [['links', false]]],
  ['--no-p', 'same as --no-perms', [['perms', false]]],
  ['--no-t', 'same as --no-times', [['times', false]]],
  ['--no-g', 'same as --no-group', [['group', false]]],
  ['--no-o', 'same as --no-owner', [['owner', false]]],
  ['--no-D', 'same as --no-devices --no-specials', [['devices', false], ['specials', false]]],
  ['--no-hard-links', 'turn off -H', [['hardLinks', false]]],
  ['--no-H', 'same as --no-hard-links', [['hardLinks', false]]],
  ['--no-acls', 'turn off -A', [['acls', false]]],
  ['--no-A', 'same as --no-acls', [['acls', false]]],
  ['--no-xattrs', 'turn off -X', [['xattrs', false]]],
  ['--no-X', 'same as --no-xattrs', [['xattrs', false]]],
  ['--no-omit-dir-times', 'turn off -O', [['omitDirTimes', false]]],
  ['--no-O', 'same as --no-omit-dir-times', [['omitDirTimes', false]]],
  ['--no-R', 'same as --no-relative', [['relative', false]]],
  ['--no-one-file-system', 'turn off -x', [['oneFileSystem', 0]]],
  ['--no-x', 'same as --no-one-file-system', [['oneFileSystem', 0]]],
  ['--no-ignore-errors', 'turn off --ignore-errors', [['ignoreErrors', false]]],
  ['--no-checksum', 'turn off -c', [['checksum', false]]],
  ['--no-c', 'same as --no-checksum', [['checksum', false]]],
  ['--no-itemize-changes', 'turn off -i (a later -i counts on from 0)', [['itemizeChanges', 0]]],
  ['--no-i', 'same as --no-itemize-changes', [['itemizeChanges', 0]]],
  ['--no-backup', 'turn off -b (--backup-dir still implies it)', [['backup', false]]],
  ['--no-numeric-ids', 'turn off --numeric-ids', [['numericIds', false]]],
  ['--no-mkpath', 'turn off --mkpath', [['mkpath', false]]],
];

/** What -a sets (rsync's `case 'a'`): each is on again after an earlier --no- form. */
const ARCHIVE_PARTS = ['recursive', 'links', 'perms', 'times', 'group', 'owner', 'devices', 'specials'];

/**
 * Register the --no- forms on the program and the argv-order handlers. Call after every option they
 * name is declared. An attribute an earlier --no- form left `false` is reset to "not given" by -a or -D
 * (options.ts then applies their implication), and -A and -P write what they imply themselves, so a later
 * --no-p or --no-progress undoes it as in rsync.
 */
export function addNegations(p: Command): void {
  for (const [flag, help, writes] of NEGATIONS) {
    // Commander gives a one-letter --no- option (no positive twin of that name) a default of true, and
    // the attribute may be another option's (-D's is "D"): put back what was there.
    const letter = flag.length === 6 ? flag.slice(5) : undefined;
    const had = letter === undefined ? undefined : p.getOptionValue(letter);
    p.option(flag, help);
    if (letter !== undefined) p.setOptionValueWithSource(letter, had, 'default');
    p.on(`option:${flag.slice(2)}`, () => {
      for (const [attr, value] of writes) p.setOptionValue(attr, value);
    });
  }
  const reset = (attrs: readonly string[]) => () => {
    for (const a of attrs) if (p.getOptionValue(a) === false) p.setOptionValue(a, undefined);
  };
  p.on('option:archive', reset(ARCHIVE_PARTS));
  p.on('option:D', reset(['devices', 'specials']));
  p.on('option:acls', () => p.setOptionValue('perms', true));
  p.on('option:P', () => {
    p.setOptionValue('progress', true);
    p.setOptionValue('partial', true);
  });
}
