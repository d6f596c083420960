// --partial-dir, --delay-updates (and --no-delay-updates) and RSYNC_PARTIAL_DIR, declared on the parser and
// settled into the Config as rsync's parse_arguments() does after popt: --delay-updates without a
// partial dir holds its files in `.~tmp~`; the environment variable counts only with --partial; a partial
// dir turns --partial on and cannot go with --inplace/--append; a relative one is hidden from the
// transfer and spared by --delete through a perishable exclude rule, as rsync adds it.

import { posix } from 'node:path';
import type { Command } from 'commander';
import type { Config, FilterItem } from '../model/config.js';
import { UsageError } from '../util/errors.js';
import type { WriteOptions } from './write-options.js';

/** rsync's tmp_partialdir: where --delay-updates holds files when no --partial-dir is given. */
export const DELAY_DIR = '.~tmp~';

export type PartialOptions = Pick<Config, 'partial' | 'partialDir' | 'delayUpdates'>;

/** rsync's clean_fname(CFN_COLLAPSE_DOT_DOT_DIRS): `//`, `./` and `dir/..` collapsed, no trailing slash. */
function cleanName(dir: string): string {
  if (dir === '') return '';
  let n = posix.normalize(dir);
  if (n.length > 1 && n.endsWith('/')) n = n.slice(0, -1);
  return n;
}

/** Declares the options; the returned function settles them once parsing is done (after write-options). */
export function addPartialOptions(p: Command, env: NodeJS.ProcessEnv): (o: Record<string, unknown>, w: WriteOptions, filters: FilterItem[]) => PartialOptions {
  p.option('--partial-dir <DIR>', 'put a partially transferred file into DIR')
    .option('--delay-updates', 'put all updated files into place at end')
    .option('--no-delay-updates', 'turn off --delay-updates');
  // rsync keeps one variable behind --delay-updates and --no-delay-updates: the last one wins.
  let delay = false;
  p.on('option:delay-updates', () => (delay = true));
  p.on('option:no-delay-updates', () => (delay = false));
  return (o, w, filters) => {
    let dir = o['partialDir'] as string | undefined;
    if (delay && dir === undefined) dir = DELAY_DIR;
    if (w.inplace) {
      if (dir !== undefined) throw new UsageError(`--${w.append ? 'append' : 'inplace'} cannot be used with --${delay ? 'delay-updates' : 'partial-dir'}`);
      return { partial: w.partial, partialDir: undefined, delayUpdates: false };
    }
    // The variable is read only when --partial asked for partial files and gave them no directory.
    if (w.partial && dir === undefined && env['RSYNC_PARTIAL_DIR']) dir = env['RSYNC_PARTIAL_DIR'];
    if (dir === undefined) return { partial: w.partial, partialDir: undefined, delayUpdates: delay };
    // Any partial dir turns --partial on, even one that cleans to "." (rsync: the current directory,
    // which is --partial's own place).
    dir = cleanName(dir);
    if (dir === '' || dir === '.') return { partial: true, partialDir: undefined, delayUpdates: delay };
    // rsync (compat.c): a relative partial dir is excluded wherever it appears, as a directory, and the
    // rule is perishable: it hides the dir from the sender and keeps --delete off it, but does not keep
    // an otherwise empty parent from being deleted. Added after the operator's rules.
    if (!dir.startsWith('/')) filters.push({ kind: 'filter', value: `-p ${dir}/` });
    return { partial: true, partialDir: dir, delayUpdates: delay };
  };
}
