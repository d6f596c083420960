// The value checks ported from rsync (popt's integers, parse_size_arg()) give rsync's answers; the expected
// messages are rsync 3.5's own for the same arguments.

import { describe, expect, it } from 'vitest';
import { poptInt, rsyncSize } from '../../../src/cli/local-noops.js';
import { parseArgs } from '../../../src/cli/options.js';
import type { Config } from '../../../src/model/config.js';

const msg = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return 'ok';
};

const config = (...args: string[]): Config => {
  const p = parseArgs(['node', 'arsync', ...args]);
  if (p.kind !== 'run') throw new Error('expected a run');
  return p.config;
};

describe('poptInt (POPT_ARG_INT: strtol base 0, a C int)', () => {
  it('reads decimal, 0x hex, 0 octal, a sign and leading white space', () => {
    expect([poptInt('--port', '873'), poptInt('--port', '0x10'), poptInt('--port', '017'), poptInt('--port', '-5'), poptInt('--port', ' 5')]).toEqual([873, 16, 15, -5, 5]);
  });
  it("rejects what rsync rejects, in rsync's words", () => {
    expect(msg(() => poptInt('--protocol', '029'))).toBe('--protocol=029: invalid numeric value');
    expect(msg(() => poptInt('--zl', '1x'))).toBe('--zl=1x: invalid numeric value');
    expect(msg(() => poptInt('--compress-level', '2147483648'))).toBe('--compress-level=2147483648: number too large or too small');
  });
});

describe("rsyncSize (rsync's parse_size_arg)", () => {
  const block = (v: string): number | string => {
    try {
      return rsyncSize('block-size', v, 'b', 0, 1 << 17, false);
    } catch (err) {
      return (err as Error).message;
    }
  };
  const alloc = (v: string): number | string => {
    try {
      return rsyncSize('max-alloc', v, 'B', 1024 * 1024, -1, true);
    } catch (err) {
      return (err as Error).message;
    }
  };
  it('takes what rsync takes', () => {
    expect([block('1024'), block('2K'), block('1.5K'), block('1KB'), block('1k+1'), block('10b'), block('0')]).toEqual([1024, 2048, 1536, 1000, 1025, 10, 0]);
    expect([alloc('1M'), alloc('1G'), alloc('0'), alloc('8G+1')]).toEqual([2 ** 20, 2 ** 30, 0, 8 * 2 ** 30 + 1]);
  });
  it("rejects what rsync rejects, in rsync's words", () => {
    expect(block('131073')).toBe('--block-size=131073 is too large (max: 128.00K)');
    expect(block('1G')).toBe('--block-size=1G is too large (max: 128.00K)');
    expect(block('-1')).toBe('--block-size=-1 is too large (max: 128.00K)');
    expect(block('1x')).toBe('--block-size=1x is invalid');
    expect(block(' 5')).toBe('--block-size= 5 is invalid');
    expect(alloc('1K')).toBe('--max-alloc=1K is too small (min: 1.00M or 0 for unlimited)');
    expect(alloc('-1')).toBe('--max-alloc=-1 is too large');
    expect(alloc('9E')).toBe('--max-alloc=9E is invalid');
  });
});

describe('what the no-effect options leave in the Config', () => {
  it('-avz is -av, but for the compression kept for a remote session', () => {
    const { compress, ...z } = config('-avz', 'a/', 'b');
    const { compress: none, ...plain } = config('-av', 'a/', 'b');
    expect(z).toEqual(plain);
    expect(compress).toEqual({ count: 1, choice: undefined, level: undefined, skip: undefined });
    expect(none).toEqual({ count: 0, choice: undefined, level: undefined, skip: undefined });
  });
  it('the compression options as rsync leaves them: -z counted, --no-compress resets, choices lower-cased', () => {
    expect(config('-zz', '--zl=3', '--skip-compress=gz', 'a', 'b').compress).toEqual({ count: 2, choice: undefined, level: 3, skip: 'gz' });
    expect(config('-z', '--zc=ZLIB', '--no-compress', '-z', 'a', 'b').compress).toEqual({ count: 1, choice: undefined, level: undefined, skip: undefined });
    expect(config('--new-compress', 'a', 'b').compress?.choice).toBe('zlibx');
    expect(config('--zc=Zstd', 'a', 'b').compress?.choice).toBe('zstd');
  });
  it("incremental recursion: -r, unless --no-i-r (last one wins), --qsort or --delete-before/-after", () => {
    expect(config('-r', 'a', 'b').incRecursive).toBe(true);
    expect(config('a', 'b').incRecursive).toBe(false);
    expect(config('-r', '--no-i-r', 'a', 'b').incRecursive).toBe(false);
    expect(config('-r', '--no-i-r', '--i-r', 'a', 'b').incRecursive).toBe(true);
    expect(config('-r', '--qsort', 'a', 'b').incRecursive).toBe(false);
    expect(config('-r', '--delete-after', 'a', 'b').incRecursive).toBe(false);
    expect(config('-r', '--delete', 'a', 'b').incRecursive).toBe(true);
  });
  it('--old-args reads an empty destination as "."', () => {
    expect(config('--old-args', 'a', '').dest.toString()).toBe('.');
    expect(msg(() => config('a', ''))).toMatch(/Empty destination arg specified/);
    expect(msg(() => config('--old-args', '--no-old-args', 'a', ''))).toMatch(/Empty destination arg specified/);
  });
  it('-M takes an option without local effect, applies a receiver setting, and refuses one that would change the copy', () => {
    expect(config('-M--no-motd', 'a', 'b')).toEqual(config('a', 'b'));
    expect(config('-M--delete', '-r', 'a', 'b')).toEqual({ ...config('-r', 'a', 'b'), deleteMode: 'during' });
    expect(config('-M--delete-after', '-r', 'a', 'b')).toEqual({ ...config('-r', 'a', 'b'), deleteMode: 'after', incRecursive: false });
    // -M-v: the receiver's own lines only; the client's verbosity is the line's.
    const v = config('-M-v', '-r', 'a', 'b');
    expect([v.verbose, v.info.NAME, v.receiverOutput?.info.NAME]).toEqual([0, 0, 1]);
    // -M-vv: the receiver's -vv levels (info and debug), the client's untouched; -vvv's trace is refused.
    const vv = config('-M-vv', '-r', 'a', 'b');
    expect([vv.info.NAME, vv.receiverOutput?.info.NAME, vv.receiverOutput?.info.SKIP, vv.receiverOutput?.debug.FLIST, vv.debug.FLIST]).toEqual([0, 2, 1, 1, 0]);
    expect(msg(() => config('-M-vvv', '-r', 'a', 'b'))).toMatch(/remote-option=-vvv: the receiver's own -vvv trace/);
    // rsync's receiver keeps the line's stdout format: -v's "%n%L" has no %i, so -M-ii itemizes nothing there.
    expect(config('-M-ii', '-r', 'a', 'b').receiverOutput?.hasI).toBe(2);
    expect(config('-v', '-M-ii', '-r', 'a', 'b').receiverOutput?.hasI).toBe(0);
    expect(config('-ii', '-M--no-i', '-r', 'a', 'b').receiverOutput?.hasI).toBe(1);
    // -M--log-file-format without -M--log-file: the receiver has no log, nothing changes.
    expect(config('-M--log-file-format=%n', '-r', 'a', 'b')).toEqual(config('-r', 'a', 'b'));
    // -M--no-delay-updates: rsync's receiver keeps the .~tmp~ partial dir (and --partial) the line settled.
    const nd = config('--delay-updates', '-M--no-delay-updates', '-r', 'a', 'b');
    expect([nd.delayUpdates, nd.partialDir, nd.partial, nd.incRecursive]).toEqual([false, '.~tmp~', true, true]);
    // -M--no-t: the receiver's -t off, -i's letter still the client's.
    const t = config('-rt', '-M--no-t', 'a', 'b');
    expect([t.times, t.itemizeTimes]).toEqual([false, true]);
  });
});
