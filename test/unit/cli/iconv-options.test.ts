// --iconv/--no-iconv/RSYNC_ICONV as rsync's parse_arguments() leaves iconv_opt (src/cli/iconv-options.ts).

import { afterEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import type { Config } from '../../../src/model/config.js';

const run = (args: string[], fromProcess = false): Config => {
  const p = parseArgs(['node', 'arsync', ...args], fromProcess);
  if (p.kind !== 'run') throw new Error('expected a run');
  return p.config;
};

describe('--iconv', () => {
  afterEach(() => {
    delete process.env['RSYNC_ICONV'];
  });

  it('LOCAL,REMOTE, one charset for both, "." and empty sides kept for the locale', () => {
    expect(run(['--iconv=latin1,utf8', 'a', 'b']).iconv).toEqual({ local: 'latin1', remote: 'utf8' });
    expect(run(['--iconv', 'utf8', 'a', 'b']).iconv).toEqual({ local: 'utf8', remote: 'utf8' });
    expect(run(['--iconv=.', 'a', 'b']).iconv).toEqual({ local: '.', remote: '.' });
    expect(run(['--iconv=,latin1', 'a', 'b']).iconv).toEqual({ local: '', remote: 'latin1' });
  });

  it('"-" and --no-iconv mean none; the last of --iconv and --no-iconv wins', () => {
    expect(run(['--iconv=-', 'a', 'b']).iconv).toBeUndefined();
    expect(run(['--iconv=latin1', '--no-iconv', 'a', 'b']).iconv).toBeUndefined();
    expect(run(['--no-iconv', '--iconv=latin1', 'a', 'b']).iconv).toEqual({ local: 'latin1', remote: 'latin1' });
    expect(run(['a', 'b']).iconv).toBeUndefined();
  });

  it('RSYNC_ICONV for the real command line only, overridden by either option', () => {
    process.env['RSYNC_ICONV'] = 'latin1,utf8';
    expect(run(['a', 'b'], true).iconv).toEqual({ local: 'latin1', remote: 'utf8' });
    expect(run(['a', 'b'], false).iconv).toBeUndefined();
    expect(run(['--no-iconv', 'a', 'b'], true).iconv).toBeUndefined();
    expect(run(['--iconv=utf8', 'a', 'b'], true).iconv).toEqual({ local: 'utf8', remote: 'utf8' });
  });

  it('settled for a remote operand too (the client converts on the wire)', () => {
    const kinds: [string[], string][] = [
      [['--iconv=ISO-8859-1,utf8', 'src/', 'host:dst/'], 'remote-push'],
      [['--iconv=ISO-8859-1,utf8', 'host:src/', 'dst/'], 'remote-pull'],
      [['--iconv=ISO-8859-1,utf8', 'host:src/'], 'remote-list'],
    ];
    for (const [args, kind] of kinds) {
      const parsed = parseArgs(['node', 'arsync', ...args]);
      expect(parsed.kind).toBe(kind);
      const c = parsed.kind === 'remote-push' ? parsed.push.config : parsed.kind === 'remote-pull' ? parsed.pull.config : parsed.kind === 'remote-list' ? parsed.list.config : undefined;
      expect(c?.iconv).toEqual({ local: 'ISO-8859-1', remote: 'utf8' });
    }
    const off = parseArgs(['node', 'arsync', '--iconv=utf8', '--no-iconv', 'src/', 'host:dst/']);
    expect(off.kind === 'remote-push' && off.push.config.iconv).toBe(undefined);
  });
});
