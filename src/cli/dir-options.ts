// rsync's options about which directories and operands take part in a transfer: -d/--dirs and
// --old-dirs, -m/--prune-empty-dirs, -k/--copy-dirlinks, --no-implied-dirs, --ignore-missing-args and
// --delete-missing-args, --force, and the deprecated --remove-sent-files. Declared on the program here
// and mapped into the Config the way rsync's parse_arguments() settles them (the last of a pair wins;
// --old-dirs is -r with a "- /*/*" rule; --files-from implies --dirs).

import type { Command } from 'commander';
import type { Config, FilterItem, MissingArgs } from '../model/config.js';

/** What these options leave for the Config. */
export interface DirChoices {
  /** rsync's xfer_dirs as the line leaves it: -1 unset, 0 --no-dirs, 2 --dirs, 4 --old-dirs. */
  xferDirs: number;
  pruneEmptyDirs: boolean;
  copyDirlinks: boolean;
  impliedDirs: boolean;
  missingArgs: MissingArgs;
  force: boolean;
  /** rsync's remove_source_files: 0, 1 (--remove-source-files) or 2 (--remove-sent-files); last wins. */
  removeSource: number;
}

export function addDirOptions(p: Command): () => DirChoices {
  const ch: DirChoices = { xferDirs: -1, pruneEmptyDirs: false, copyDirlinks: false, impliedDirs: true, missingArgs: 'error', force: false, removeSource: 0 };
  // rsync's missing_args is a bit set: both options together mean delete.
  let missingBits = 0;
  const set = <K extends keyof DirChoices>(k: K, v: DirChoices[K]) => (): DirChoices[K] => (ch[k] = v);
  p.option('-d, --dirs', 'transfer directories without recursing', set('xferDirs', 2))
    .option('--no-dirs', 'turn off -d', set('xferDirs', 0))
    .option('--no-d', 'same as --no-dirs', set('xferDirs', 0))
    .option('--old-dirs', 'works like --dirs with older rsyncs (= -r with a "- /*/*" rule)', set('xferDirs', 4))
    .option('--old-d', 'same as --old-dirs', set('xferDirs', 4))
    .option('-m, --prune-empty-dirs', 'prune empty directory chains from the file list', set('pruneEmptyDirs', true))
    .option('--no-prune-empty-dirs', 'turn off -m', set('pruneEmptyDirs', false))
    .option('--no-m', 'same as --no-prune-empty-dirs', set('pruneEmptyDirs', false))
    .option('-k, --copy-dirlinks', 'transform a symlink to a directory into the directory', set('copyDirlinks', true))
    .option('--implied-dirs', 'send the implied directories of -R paths (the default)', set('impliedDirs', true))
    .option('--no-implied-dirs', "don't send the implied directories of -R paths", set('impliedDirs', false))
    .option('--i-d', 'same as --implied-dirs', set('impliedDirs', true))
    .option('--no-i-d', 'same as --no-implied-dirs', set('impliedDirs', false))
    .option('--ignore-missing-args', 'ignore missing source args without error', () => (missingBits |= 1))
    .option('--delete-missing-args', 'delete missing source args from the destination', () => (missingBits |= 2))
    .option('--force', 'force deletion of directories even if not empty', set('force', true))
    .option('--no-force', 'turn off --force', set('force', false))
    .option('--remove-sent-files', 'deprecated: remove only the files that were sent (not ones already up to date)', set('removeSource', 2));
  // --remove-source-files shares rsync's one variable with --remove-sent-files: the last one wins.
  p.on('option:remove-source-files', () => (ch.removeSource = 1));
  return (): DirChoices => ({ ...ch, missingArgs: missingBits & 2 ? 'delete' : missingBits & 1 ? 'ignore' : 'error' });
}

/** The Config's fields of these options before applyDirChoices settles them. */
export function dirDefaults(): Pick<Config, 'dirs' | 'pruneEmptyDirs' | 'copyDirlinks' | 'impliedDirs' | 'missingArgs' | 'force' | 'removeSentOnly'> {
  return { dirs: false, pruneEmptyDirs: false, copyDirlinks: false, impliedDirs: true, missingArgs: 'error', force: false, removeSentOnly: false };
}

/**
 * rsync's parse_arguments() for these options, once the others are known: --files-from implies --dirs,
 * --old-dirs turns on -r and adds its rule at the end of the filter list, -r means --dirs, and
 * --no-implied-dirs only means something with -R.
 */
export function applyDirChoices(c: Config, d: DirChoices, filters: FilterItem[]): void {
  let xfer = d.xferDirs;
  if (c.filesFrom !== undefined && xfer < 0) xfer = 1;
  if (xfer >= 4) {
    filters.push({ kind: 'filter', value: '- /*/*' });
    c.recursive = true;
  }
  c.dirs = c.recursive || xfer > 0;
  c.pruneEmptyDirs = d.pruneEmptyDirs;
  c.copyDirlinks = d.copyDirlinks;
  c.impliedDirs = d.impliedDirs || !c.relative;
  c.missingArgs = d.missingArgs;
  c.force = d.force;
  c.removeSourceFiles = d.removeSource > 0;
  c.removeSentOnly = d.removeSource === 2;
}
