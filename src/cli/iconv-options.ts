// --iconv=CONVERT_SPEC and --no-iconv (and RSYNC_ICONV, which rsync reads before the command line):
// declared on the program and settled into Config.iconv as rsync's parse_arguments() leaves iconv_opt.
// The charsets are opened before any I/O (engine/charset.ts, from cli/main.ts); the conversion itself
// is the local listing's (run/iconv-source.ts), or between machines the protocol client's
// (remote/iconv-wire.ts).

import type { Command } from 'commander';
import type { Config } from '../model/config.js';
import { charsetNames } from '../engine/charset.js';

/** Declares the options; `env` is the real environment for the real command line, else empty. */
export function addIconvOptions(p: Command, env: NodeJS.ProcessEnv): (o: Record<string, unknown>) => Pick<Config, 'iconv'> {
  p.option('--iconv <CONVERT_SPEC>', 'request charset conversion of filenames (LOCAL,REMOTE; "." is the locale\'s)').option('--no-iconv', 'turn off --iconv (and RSYNC_ICONV)');
  return (o) => {
    // rsync reads RSYNC_ICONV before the options, which then override it. Read here, at the parse: a
    // program built ahead (the start-up snapshot's) must see the run's environment, not the build's.
    const fromEnv = env['RSYNC_ICONV'];
    const v = o['iconv'] === undefined && fromEnv ? fromEnv : o['iconv'];
    // "-" on a client's command line means no conversion.
    if (typeof v !== 'string' || v === '-') return { iconv: undefined };
    return { iconv: charsetNames(v) };
  };
}
