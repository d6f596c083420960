// src/remote/daemon.ts and src/remote/socket.ts's pure parts: the greeting's protocol rule, the login
// digest and response, the server's command line as the daemon reads it, bounded lines, the
// RSYNC_CONNECT_PROG substitution and the remote shell's argv for a daemon over -e.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authDigests, authDigest, authResponse, daemonArgs, greetingLine, moduleOf, parseGreeting, readLine } from '../../../src/remote/daemon.js';
import { connectCommand, rshDaemonArgv } from '../../../src/remote/socket.js';
import { connectRequest, parseProxy } from '../../../src/remote/proxy.js';
import { Cursor, ProtocolError, Short } from '../../../src/remote/wire.js';

describe('the greeting', () => {
  it('offers protocol 31 and the digests strongest first', () => {
    expect(greetingLine()).toMatch(/^@RSYNCD: 31\.0 sha512 sha256 sha1 md5( md4)?\n$/);
  });

  it.each([
    ['@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4', 31, ['sha512', 'sha256', 'sha1', 'md5', 'md4']],
    ['@RSYNCD: 31.0 sha512 sha256 sha1 md5 md4', 31, ['sha512', 'sha256', 'sha1', 'md5', 'md4']],
    ['@RSYNCD: 31.0', 31, undefined],
    ['@RSYNCD: 31.1 md5', 30, ['md5']],
    ['@RSYNCD: 30.0', 30, undefined],
  ])('%s: protocol %d', (line, protocol, digests) => {
    expect(parseGreeting(line)).toEqual({ protocol, digests });
  });

  it.each([
    ['SSH-2.0-OpenSSH_9.2', 'server sent "SSH-2.0-OpenSSH_9.2" rather than greeting', 5],
    ['@RSYNCD: 31', 'the server omitted the subprotocol value: @RSYNCD: 31', 5],
    ['@RSYNCD: 32.0', 'the server omitted the digest name list: @RSYNCD: 32.0', 5],
    ['@RSYNCD: 29.0', 'the daemon speaks protocol 29; arsync needs 30 or later (rsync 3.0.0 or later)', 2],
  ])('%s is refused', (line, message, code) => {
    expect(() => parseGreeting(line)).toThrow(message);
    try {
      parseGreeting(line);
    } catch (e) {
      expect((e as ProtocolError).code).toBe(code);
    }
  });

  it('picks our most preferred digest the daemon has; md5 when it lists none', () => {
    expect(authDigest({ protocol: 31, digests: ['md5', 'sha1'] })).toBe('sha1');
    expect(authDigest({ protocol: 31, digests: undefined })).toBe('md5');
    expect(() => authDigest({ protocol: 31, digests: ['blake9'] })).toThrow('Failed to negotiate a daemon auth checksum choice');
    expect(authDigests().slice(0, 4)).toEqual(['sha512', 'sha256', 'sha1', 'md5']);
  });

  it('answers the challenge with base64 of digest(password + challenge), unpadded', () => {
    const want = createHash('md5').update('sesameCHAL').digest('base64').replace(/=+$/, '');
    expect(authResponse('md5', 'sesame', 'CHAL')).toBe(want);
    expect(authResponse('md5', 'sesame', 'CHAL')).not.toContain('=');
    expect(authResponse('sha512', 'p', 'c')).toHaveLength(86);
  });
});

describe('the server command line', () => {
  const words = (b: Buffer): string[] => b.toString('latin1').split('\0');

  it('sends NUL-terminated words, the bare module with a slash, a leading dash as ./-, and an empty word last', () => {
    const b = daemonArgs(['--server', '-logDtpre.LfxCIvu'], ['mod', 'mod/-x', 'mod/a mod/b'], 'mod', 31, false);
    expect(words(b)).toEqual(['--server', '-logDtpre.LfxCIvu', '.', 'mod/', 'mod/-x', 'mod/a[ ]mod/b', '', '']);
  });

  it('keeps " mod/" under --old-args and uses newlines before protocol 30', () => {
    expect(words(daemonArgs(['--server'], ['mod/a mod/b'], 'mod', 31, true))).toEqual(['--server', '.', 'mod/a mod/b', '', '']);
    expect(daemonArgs(['--server'], ['-y'], 'm', 29, false).toString()).toBe('--server\n.\n./-y\n\n');
  });

  it('under -s stops the line at the first option cluster (with "s" first) and sends the rest after it, "rsync" first', () => {
    const b = daemonArgs(['--server', '--sender', '-logDtpre.iLsfxCIvu', '--delete', ''], ['mod/a mod/b', 'mod'], 'mod', 31, false, true);
    expect(words(b)).toEqual(['--server', '--sender', '-slogDtpre.iLsfxCIvu', '', 'rsync', '--delete', '.', '.', 'mod/a[ ]mod/b', 'mod/', '', '']);
    // Before protocol 30 the open part keeps its newlines; the protected part is NUL-terminated always.
    expect(daemonArgs(['--server', '-r'], ['m/x'], 'm', 29, false, true).toString('latin1')).toBe('--server\n-sr\n\nrsync\0.\0m/x\0\0');
  });

  it('finds the module', () => {
    expect(moduleOf('mod/a/b')).toBe('mod');
    expect(moduleOf('mod')).toBe('mod');
    expect(moduleOf('')).toBe('');
  });
});

describe('daemon lines', () => {
  it('reads a line without its newline (and a CR), waits for more, and refuses an endless one', () => {
    expect(readLine(new Cursor(Buffer.from('@RSYNCD: OK\r\nrest')))).toBe('@RSYNCD: OK');
    expect(() => readLine(new Cursor(Buffer.from('partial')))).toThrow(Short);
    expect(() => readLine(new Cursor(Buffer.alloc(6000, 0x41)))).toThrow(ProtocolError);
  });
});

describe('reaching the daemon', () => {
  it('substitutes %H quoted, %% as %, and refuses a host a shell could misread', () => {
    expect(connectCommand('nc %H 873', 'example.org')).toBe("nc 'example.org' 873");
    expect(connectCommand('x %% %H %Q', 'h')).toBe("x % 'h' %Q");
    expect(connectCommand('rsync --daemon', '-bad')).toBe('rsync --daemon');
    expect(() => connectCommand('nc %H', '-oProxy')).toThrow('unsafe host characters for RSYNC_CONNECT_PROG');
    expect(() => connectCommand('nc %H', 'a;b')).toThrow('unsafe host characters');
  });

  it('starts rsync --server --daemon through -e, with -l unless -e has its own, and -4/-6 for ssh', () => {
    const route = { host: 'h', user: 'bob', port: undefined, rsh: 'ssh -p 22', rsyncPath: undefined, connect: { port: undefined, address: undefined, family: 4 as const, sockopts: undefined, contimeout: 0 } };
    expect(rshDaemonArgv(route)).toEqual(['ssh', '-p', '22', '-l', 'bob', '-4', 'h', 'rsync', '--server', '--daemon', '.']);
    expect(rshDaemonArgv({ ...route, rsh: 'ssh -l alice', rsyncPath: '/opt/rsync' })).toEqual(['ssh', '-l', 'alice', '-4', 'h', '/opt/rsync', '--server', '--daemon', '.']);
    expect(rshDaemonArgv({ ...route, rsh: 'rsh', connect: { ...route.connect, family: undefined } })).toEqual(['rsh', '-l', 'bob', 'h', 'rsync', '--server', '--daemon', '.']);
  });
});

describe('RSYNC_PROXY', () => {
  it('parses [USER:PASS@]HOST:PORT as rsync does and builds its CONNECT request', () => {
    expect(parseProxy(undefined)).toBeUndefined();
    expect(parseProxy('')).toBeUndefined();
    expect(parseProxy('p.example:3128')).toEqual({ host: 'p.example', port: 3128, user: undefined, pass: undefined });
    const p = parseProxy('me:pa:ss@p:8080')!;
    expect(p).toEqual({ host: 'p', port: 8080, user: 'me', pass: 'pa:ss' });
    expect(connectRequest(p, 'h', 873)).toBe(`CONNECT h:873 HTTP/1.0\r\nProxy-Authorization: Basic ${Buffer.from('me:pa:ss').toString('base64')}\r\n\r\n`);
    expect(() => parseProxy('p')).toThrow('invalid proxy specification: should be HOST:PORT');
    expect(() => parseProxy('me@p:1')).toThrow('invalid proxy specification: should be USER:PASS@HOST:PORT');
    expect(() => connectRequest(parseProxy('p:1')!, 'h\r\nX: y', 873)).toThrow('invalid control character in proxy CONNECT host');
  });
});
