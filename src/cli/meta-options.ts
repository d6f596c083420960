// rsync's metadata and special-file options that are not part of -a (-E, -J, -U, -N, --open-noatime, --drop-D,
// --munge-links), declared on the parser here and mapped into the Config, so options.ts's main chain does not grow with them.

import * as fs from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../model/config.js';
import { Exit, UsageError } from '../util/errors.js';
import { OptionError } from './local-noops.js';

/** The Config fields this module owns, and those it may override (--drop-D). */
export type MetaConfig = Pick<Config, 'executability' | 'omitLinkTimes' | 'atimes' | 'openNoatime' | 'mungeLinks'> & Partial<Pick<Config, 'devices' | 'specials'>>;

/**
 * Declare the options; the function returned reads their values once commander has parsed the line.
 * Commander calls each option's function in argv order, so "last one wins" (-J then --no-J) comes out
 * as in rsync's popt loop.
 */
export function addMetaOptions(p: Command): () => MetaConfig {
  let omitLinkTimes = false;
  let dropD = false;
  let openNoatime = true;
  let atimes = 0;
  let mungeLinks = false;
  p.option('-E, --executability', "preserve executability (without -p: a file's execute bits follow the source's)")
    .option('-J, --omit-link-times', "don't set symlinks' modification times", () => (omitLinkTimes = true))
    .option('--no-omit-link-times', 'turn off -J', () => (omitLinkTimes = false))
    .option('--no-J', 'same as --no-omit-link-times', () => (omitLinkTimes = false))
    // Linux has no settable creation time: rsync built here refuses -N the moment it reads it (its
    // refuse list), whatever follows on the line; the --no- forms are accepted and change nothing.
    .option('-N, --crtimes', 'refused: Linux cannot set creation times (as rsync refuses it here)', () => {
      throw new UsageError('This rsync does not support --crtimes (-N)');
    })
    .option('--no-crtimes', 'turn off -N (no effect: creation times are never set)')
    .option('--no-N', 'same as --no-crtimes')
    // The receiver's own refusal to make nodes: entries skipped as without -D, whatever -D says and
    // wherever it is on the line (rsync keeps it in a variable of its own).
    .option('--drop-D', 'refuse to create devices and specials (skipped as without -D)', () => (dropD = true))
    .option('--no-drop-D', 'turn off --drop-D', () => (dropD = false))
    // rsync's 'U' case: a second -U also turns --open-noatime on (here the default, unless turned off
    // earlier on the line).
    .option('-U, --atimes', 'preserve access times (-UU: also --open-noatime)', () => {
      if (++atimes > 1) openNoatime = true;
    })
    .option('--no-atimes', 'turn off -U', () => (atimes = 0))
    .option('--no-U', 'same as --no-atimes', () => (atimes = 0))
    // Every engine reads sources with O_NOATIME unless told otherwise (silently without it where the
    // kernel refuses it, on files of other users): rsync's --open-noatime, which is arsync's default.
    .option('--open-noatime', "open sources with O_NOATIME, leaving their access times alone (arsync's default)", () => (openNoatime = true))
    .option('--no-open-noatime', "open sources without O_NOATIME, as rsync does by default (reading may update their access times)", () => (openNoatime = false))
    // rsync: the option acts on the side it is given to; a local copy's client is the sender, which
    // unmunges ("/rsyncd-munged/" dropped from source link targets). -M--munge-links would munge on the
    // receiving side: not taken (see -M).
    .option('--munge-links', 'unmunge symlinks on reading them (drop the "/rsyncd-munged/" prefix of source link targets)', () => (mungeLinks = true))
    .option('--no-munge-links', 'turn off --munge-links', () => (mungeLinks = false));
  return (): MetaConfig => ({
    executability: Boolean(p.opts()['executability']),
    omitLinkTimes,
    atimes: atimes > 0,
    mungeLinks,
    openNoatime,
    ...(dropD ? { devices: false, specials: false } : {}),
  });
}

/** Where a daemon's munged link targets would lead (rsync's SYMLINK_PREFIX without its slash). */
const MUNGE_DIR = '/rsyncd-munged';

/**
 * rsync's parse_arguments(): --munge-links is refused (exit 4) where a /rsyncd-munged directory exists,
 * since a munged link would then lead somewhere real. The check is each side's own: the client's line
 * here, and rsync's local receiver's when -M gives it (cli/remote-args.ts turns that into exit 12).
 * test/e2e/munge-receiver.test.ts makes the directory in a private mount namespace.
 */
export function checkMungeDir(c: Pick<Config, 'mungeLinks'>): void {
  const dir = MUNGE_DIR;
  if (!c.mungeLinks) return;
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return;
  }
  if (st.isDirectory()) throw new OptionError(`Symlink munging is unsafe when a ${dir} directory exists.`, Exit.Unsupported, true);
}
