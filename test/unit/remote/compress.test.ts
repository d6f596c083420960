// src/remote/compress.ts: the compression a remote session asks for, as rsync's client settles it
// (options.c parse_arguments and server_options, compat.c negotiation and init_compression_level).
// The e2e test (test/e2e/remote-compress.test.ts) holds the server arguments against rsync's own.

import { describe, expect, it } from 'vitest';
import {
  clientCompress,
  clientCompressList,
  compressLetter,
  compressLongArgs,
  pickCompression,
  safeOptionArg,
  sessionCompress,
} from '../../../src/remote/compress.js';
import { ProtocolError } from '../../../src/remote/wire.js';

const opts = (o: Partial<{ count: number; choice: string; level: number; skip: string }>) => ({ count: 0, choice: undefined, level: undefined, skip: undefined, ...o });

describe('clientCompress', () => {
  it('settles -z, -zz, choices and levels as rsync does', () => {
    expect(clientCompress(opts({}))).toEqual({ mode: 'off', skip: undefined });
    expect(clientCompress(opts({ count: 1 }))).toMatchObject({ mode: 'negotiate', zlibLetter: true });
    expect(clientCompress(opts({ count: 2 }))).toMatchObject({ mode: 'fixed', name: 'zlibx' });
    expect(clientCompress(opts({ count: 2, choice: 'zlib' }))).toMatchObject({ mode: 'fixed', name: 'zlib' });
    expect(clientCompress(opts({ level: 3 }))).toMatchObject({ mode: 'negotiate', zlibLetter: false, level: 3 });
    expect(clientCompress(opts({ count: 1, choice: 'auto' }))).toMatchObject({ mode: 'negotiate', zlibLetter: true });
    expect(clientCompress(opts({ choice: 'auto' }))).toMatchObject({ mode: 'off' });
    expect(clientCompress(opts({ count: 1, choice: 'none', level: 2 }))).toEqual({ mode: 'off', none: { level: 2 }, skip: undefined });
  });

  it('refuses zstd and lz4 with exit 4', () => {
    for (const choice of ['zstd', 'lz4']) {
      expect(() => clientCompress(opts({ count: 1, choice }))).toThrow(ProtocolError);
      try {
        clientCompress(opts({ choice }));
      } catch (e) {
        expect((e as ProtocolError).code).toBe(4);
      }
    }
  });
});

describe('server arguments', () => {
  it('the z letter only when zlib is the choice or -z is given once', () => {
    expect(compressLetter(clientCompress(opts({ count: 1 })))).toBe('z');
    expect(compressLetter(clientCompress(opts({ choice: 'zlib' })))).toBe('z');
    expect(compressLetter(clientCompress(opts({ count: 2 })))).toBe('');
    expect(compressLetter(clientCompress(opts({ level: 1 })))).toBe('');
  });

  it('long options, --skip-compress only to a sending server, escaped for the remote shell', () => {
    const c = clientCompress(opts({ count: 2, level: 9, skip: '*.gz/[mM]p3' }));
    expect(compressLongArgs(c, false)).toEqual({ level: ['--compress-level=9'], choice: ['--new-compress'], skip: ['--skip-compress=\\*.gz/\\[mM\\]p3'] });
    expect(compressLongArgs(c, true).skip).toEqual([]);
    expect(safeOptionArg('--x', "a b'c\\")).toBe("--x=a\\ b\\'c\\\\");
  });
});

describe('negotiation', () => {
  it('offers zlibx then zlib; RSYNC_COMPRESS_LIST is cut at "&", filtered, deduplicated, or INVALID', () => {
    expect(clientCompressList({})).toEqual(['zlibx', 'zlib']);
    expect(clientCompressList({ RSYNC_COMPRESS_LIST: '  ZLIB zstd zlib none&zlibx' })).toEqual(['zlib', 'none']);
    expect(clientCompressList({ RSYNC_COMPRESS_LIST: 'zstd lz4' })).toEqual(['INVALID']);
  });

  it('picks our most preferred name the server has', () => {
    expect(pickCompression(['zlibx', 'zlib'], ['zstd', 'lz4', 'zlibx', 'zlib', 'none'])).toBe('zlibx');
    expect(pickCompression(['zlibx', 'zlib'], ['zlib', 'none'])).toBe('zlib');
    expect(() => pickCompression(['INVALID'], ['zlib'])).toThrow(/Failed to negotiate a compress choice/);
  });

  it('levels: unset and -1 are 6, 0 turns compression off, others are clamped', () => {
    const neg = (level?: number) => clientCompress(opts({ count: 1, level }));
    expect(sessionCompress(neg(), 'zlibx')).toEqual({ name: 'zlibx', level: 6 });
    expect(sessionCompress(neg(-1), undefined)).toEqual({ name: 'zlib', level: 6 });
    expect(sessionCompress(neg(0), 'zlib')).toEqual({ name: 'none', level: 0 });
    expect(sessionCompress(neg(42), 'zlib')).toEqual({ name: 'zlib', level: 9 });
    expect(sessionCompress(neg(-5), 'zlib')).toEqual({ name: 'zlib', level: 1 });
    expect(sessionCompress(neg(), 'none')).toEqual({ name: 'none', level: 0 });
  });
});
