// --reflink[=WHEN]: whether file data is cloned (the destination shares the source's extents, as on
// XFS with reflink=1 and btrfs) before it is copied. GNU cp 9's option and meanings: auto (the default)
// clones where the filesystem can and copies elsewhere, always makes a file that cannot be cloned an
// error of that file, never copies; the bare option means always.

import { Option, type Command } from 'commander';
import type { ReflinkMode } from '../model/config.js';
import { UsageError } from '../util/errors.js';

const MODES: readonly ReflinkMode[] = ['auto', 'always', 'never'];

/** Declares --reflink on the program (the value is checked when the Config is built). */
export function addReflinkOption(p: Command): void {
  p.addOption(
    new Option('--reflink [WHEN]', 'clone file data where the filesystem can: auto (default), always, never; bare: always'),
  );
}

/**
 * The bare `--reflink` as `--reflink=always`: commander would take the next operand as the optional
 * value, where getopt (and GNU cp) takes a value only after `=`. An argument that is the value of the
 * option before it (`--exclude --reflink`) and everything after `--` are left alone.
 */
export function reflinkSpellings(args: readonly string[], p: Command): string[] {
  const long = new Set<string>();
  const short = new Set<string>();
  for (const o of p.options) {
    if (!o.required) continue;
    if (o.long) long.add(o.long);
    if (o.short) short.add(o.short.slice(1));
  }
  const takesNext = (a: string | undefined): boolean =>
    a !== undefined && (long.has(a) || (/^-[^-]/.test(a) && short.has(a.slice(-1)) && !a.slice(1, -1).split('').some((ch) => short.has(ch))));
  const out: string[] = [];
  let operands = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') operands = true;
    out.push(!operands && a === '--reflink' && !takesNext(args[i - 1]) ? '--reflink=always' : a);
  }
  return out;
}

/**
 * The mode the command line asks for. -S turns zero runs into holes, which needs the bytes read, so
 * always (which never reads them) is refused with it, as GNU cp refuses --reflink with --sparse=always.
 */
export function reflinkMode(value: unknown, sparse: boolean): ReflinkMode {
  if (value === undefined) return 'auto';
  const mode = MODES.find((m) => m === value);
  if (mode === undefined) throw new UsageError(`--reflink=${String(value)}: invalid value (valid: auto, always, never)`);
  if (mode === 'always' && sparse) throw new UsageError('--reflink=always cannot be used with --sparse (-S)');
  return mode;
}
