// -y/--fuzzy (-yy: also in the --*-dest directories) and --no-fuzzy/--no-y: declared on the program and
// settled into the Config's fuzzy level. A local copy sends whole files, so the basis rsync would pick
// changes neither the result nor the -i lines; run/fuzzy.ts makes rsync's choice for --debug=FUZZY.

import type { Command } from 'commander';

/** Declares the options; the level is read with fuzzyLevel(). Argv order counts: the last word wins. */
export function addFuzzyOptions(p: Command): void {
  p.option('-y, --fuzzy', 'find a similar file as the basis for a new one (-yy also in --*-dest dirs; a local copy sends whole files: shown by --debug=FUZZY)', (_v: string, prev: unknown) => (typeof prev === 'number' ? prev + 1 : 1), 0)
    .option('--no-fuzzy', 'turn off -y')
    .option('--no-y', 'same as --no-fuzzy');
  // Commander gives the lone --no-y an attribute of its own ("y"): it writes -y's count instead.
  p.setOptionValueWithSource('y', undefined, 'default');
  p.on('option:no-y', () => p.setOptionValue('fuzzy', 0));
}

/** rsync's fuzzy_basis as the options leave it: 0 off, 1 the destination directory, 2 also --*-dest. */
export function fuzzyLevel(o: Record<string, unknown>): number {
  const v = o['fuzzy'];
  return typeof v === 'number' ? Math.min(v, 2) : 0;
}
