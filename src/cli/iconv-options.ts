// --iconv=CONVERT_SPEC and --no-iconv (and RSYNC_ICONV, which rsync reads before the command line):
// declared on the program and settled into Config.iconv as rsync's parse_arguments() leaves iconv_opt.
// The charsets are opened before any I/O (engine/charset.ts, from cli/main.ts); the conversion itself
// is the listing's (run/iconv-source.ts).

import type { Command } from 'commander';
import type { Config } from '../model/config.js';
import { UsageError } from '../util/errors.js';
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

/**
 * Between machines rsync's client converts to the wire's UTF-8 and sends --iconv=REMOTE to the server;
 * arsync's protocol client does not convert names yet, so it refuses the option before connecting.
 */
export function refuseRemoteIconv(c: Config): void {
  if (c.iconv) throw new UsageError('--iconv works only for a local copy in arsync (its remote protocol client does not convert names)');
}
