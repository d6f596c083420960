// --files-from between machines (src/remote/files-from.ts): the list as a client forwards it (rsync's
// forward_filesfrom_data), what the server is told (server_options), and the names read back from a
// receiving server, hostile input included.

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Conn } from '../../../src/remote/conn.js';
import { filesFromServerArgs, forwardedList, readForwardedList } from '../../../src/remote/files-from.js';
import { ProtocolError } from '../../../src/remote/wire.js';

const flags = { from0: false, relative: true, oldArgs: 0, secludedArgs: false };

describe('forwardedList', () => {
  it('turns CR and LF into NULs, squeezes empty lines, and ends with an empty name', () => {
    expect(forwardedList(Buffer.from('\n\na b\r\n\nc\n'), false, 31)).toEqual(Buffer.from('a b\0c\0\0'));
    expect(forwardedList(Buffer.from('a\nlast'), false, 31)).toEqual(Buffer.from('a\0last\0\0'));
    expect(forwardedList(Buffer.alloc(0), false, 31)).toEqual(Buffer.from('\0'));
  });
  it('keeps line ends and comments as they are under -0', () => {
    expect(forwardedList(Buffer.from('a\nb\0\0#c\0'), true, 31)).toEqual(Buffer.from('a\nb\0#c\0\0'));
  });
  it('refuses a protocol-30 peer, which would read the list outside the multiplexed stream', () => {
    expect(() => forwardedList(Buffer.from('a\n'), false, 30)).toThrow(ProtocolError);
  });
});

describe('filesFromServerArgs', () => {
  it('tells a sender to read our list from the socket, or its own by name', () => {
    expect(filesFromServerArgs({ remote: false }, flags, true)).toEqual(['--files-from=-', '--from0']);
    expect(filesFromServerArgs({ remote: true, path: '/l i*st' }, { ...flags, from0: true }, true)).toEqual(['--files-from', '/l\\ i\\*st', '--from0']);
    expect(filesFromServerArgs({ remote: true, path: '/l i*st' }, { ...flags, secludedArgs: true, relative: false }, true)).toEqual(['--files-from', '/l i*st', '--no-relative']);
  });
  it('tells a receiver only of a list on its machine', () => {
    expect(filesFromServerArgs({ remote: false }, flags, false)).toEqual([]);
    expect(filesFromServerArgs({ remote: true, path: 'l' }, flags, false)).toEqual(['--files-from', 'l']);
  });
});

describe('readForwardedList', () => {
  const conn = (): { c: Conn; input: PassThrough } => {
    const input = new PassThrough();
    return { c: new Conn(input, new PassThrough(), () => undefined), input };
  };
  it('reads names up to the empty one, in pieces as they arrive', async () => {
    const { c, input } = conn();
    const got = readForwardedList(c, 31);
    input.write(Buffer.from('a b\0di'));
    input.write(Buffer.from('r/\0\0after'));
    expect(await got).toEqual(Buffer.from('a b\0dir/\0'));
  });
  it('refuses a name longer than a path can be (a receiver that never ends one)', async () => {
    const { c, input } = conn();
    const got = readForwardedList(c, 31);
    input.write(Buffer.alloc(5000, 0x61));
    await expect(got).rejects.toThrow(/too long/);
  });
  it('ends with the connection', async () => {
    const { c, input } = conn();
    const got = readForwardedList(c, 31);
    input.end(Buffer.from('a\0'));
    await expect(got).rejects.toThrow(/connection unexpectedly closed/);
  });
});
