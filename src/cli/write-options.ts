// rsync's options for how and where destination files are written (--fsync, --preallocate, the --no-
// forms of --sparse/--inplace/--partial), declared on the parser and mapped into the Config with
// rsync's interactions between them (options.c's checks after popt), so options.ts's chain stays small.

import type { Command } from 'commander';
import type { Config } from '../model/config.js';
import { UsageError } from '../util/errors.js';
import { PATH_MAX } from '../model/path-max.js';


/** What this module's options leave in the Config. */
export type WriteOptions = Pick<Config, 'sparse' | 'inplace' | 'partial' | 'fsync' | 'preallocate' | 'tempDir' | 'append' | 'appendVerify' | 'localDelta'>;

/** Declares the options on the parser; the returned function reads them once parsing is done. */
export function addWriteOptions(p: Command): (o: Record<string, unknown>) => WriteOptions {
  p.option('--no-sparse', 'turn off -S')
    .option('--no-S', 'same as --no-sparse')
    .option('--no-inplace', 'turn off --inplace')
    .option('--no-partial', 'turn off --partial (and -P\'s partial part)')
    .option('--preallocate', 'allocate destination files before writing them (fallocate)')
    .option('--fsync', 'fsync every file written before it takes its name')
    .option('-T, --temp-dir <DIR>', 'create temporary files in directory DIR')
    .option('--append', 'append data onto shorter files (implies --inplace)')
    .option('--append-verify', '--append, and redo a file whose kept data differs from the source')
    .option('--no-append', 'turn off --append and --append-verify');
  // rsync keeps one variable behind -S, --no-sparse and --no-S: the last on the line wins. -P is
  // --partial --progress, so a later --no-partial undoes its partial part and a later -P redoes it.
  let sparse = false;
  let partial = false;
  // rsync's append_mode: --append sets 1, --append-verify 2, --no-append 0; the last one wins.
  let append = 0;
  p.on('option:append', () => (append = 1));
  p.on('option:append-verify', () => (append = 2));
  p.on('option:no-append', () => (append = 0));
  // rsync's whole_file: -W sets it, --no-W/--no-whole-file clear it; only a set one conflicts with --append.
  let wholeFile = false;
  // Set only by --no-whole-file/--no-W (a local copy is whole-file unless told otherwise).
  let delta = false;
  p.on('option:whole-file', () => {
    wholeFile = true;
    delta = false;
  });
  p.on('option:no-whole-file', () => {
    wholeFile = false;
    delta = true;
  });
  p.on('option:no-W', () => {
    wholeFile = false;
    delta = true;
  });
  p.on('option:sparse', () => (sparse = true));
  p.on('option:no-sparse', () => (sparse = false));
  p.on('option:no-S', () => (sparse = false));
  p.on('option:partial', () => (partial = true));
  p.on('option:P', () => (partial = true));
  p.on('option:no-partial', () => (partial = false));
  return (o) => {
    if (append && wholeFile) throw new UsageError('--append cannot be used with --whole-file');
    const inplace = o['inplace'] === true || append > 0;
    const tempDir = o['tempDir'] as string | undefined;
    // rsync's limit leaves room for the temp name in MAXPATHLEN.
    if (tempDir !== undefined && Buffer.byteLength(tempDir) >= PATH_MAX - 10) throw new UsageError('the --temp-dir path is WAY too long.');
    return {
      tempDir,
      sparse,
      inplace,
      // --inplace clears keep_partial for the transfer (options.c): the target itself holds the data.
      partial: partial && !inplace,
      append: append > 0,
      appendVerify: append === 2,
      fsync: o['fsync'] === true,
      preallocate: o['preallocate'] === true,
      localDelta: delta ? { blockSize: Number(o['blockSize'] ?? 0) } : undefined,
    };
  };
}
