import { describe, expect, it } from 'vitest';
import { classifyOperand } from '../../../src/cli/remote-operand.js';

const c = (s: string): Record<string, unknown> => {
  const op = classifyOperand(Buffer.from(s, 'latin1'));
  return op.kind === 'local' ? { kind: 'local' } : { ...op, path: op.path.toString('latin1') };
};

describe('classifyOperand (rsync check_for_hostspec)', () => {
  it('remote-shell forms', () => {
    expect(c('host:dir/')).toEqual({ kind: 'shell', user: undefined, host: 'host', path: 'dir/' });
    expect(c('user@host:dir')).toEqual({ kind: 'shell', user: 'user', host: 'host', path: 'dir' });
    expect(c('a@b@host:x')).toEqual({ kind: 'shell', user: 'a@b', host: 'host', path: 'x' });
    expect(c('[::1]:dir')).toEqual({ kind: 'shell', user: undefined, host: '::1', path: 'dir' });
    expect(c('u@[fe80::1%eth0]:')).toEqual({ kind: 'shell', user: 'u', host: 'fe80::1%eth0', path: '' });
    expect(c('host:')).toEqual({ kind: 'shell', user: undefined, host: 'host', path: '' });
    expect(c(':dir')).toEqual({ kind: 'shell', user: undefined, host: '', path: 'dir' });
    expect(c('C:\\x')).toEqual({ kind: 'shell', user: undefined, host: 'C', path: '\\x' });
    expect(c('rsync:foo')).toEqual({ kind: 'shell', user: undefined, host: 'rsync', path: 'foo' });
  });

  it('daemon forms', () => {
    expect(c('host::mod/dir')).toEqual({ kind: 'daemon', user: undefined, host: 'host', port: undefined, path: 'mod/dir' });
    expect(c('user@host::mod')).toEqual({ kind: 'daemon', user: 'user', host: 'host', port: undefined, path: 'mod' });
    expect(c('rsync://host/mod/')).toEqual({ kind: 'daemon', user: undefined, host: 'host', port: undefined, path: 'mod/' });
    expect(c('RSYNC://u@host:8730/mod/x')).toEqual({ kind: 'daemon', user: 'u', host: 'host', port: 8730, path: 'mod/x' });
    expect(c('rsync://host')).toEqual({ kind: 'daemon', user: undefined, host: 'host', port: undefined, path: '' });
    expect(c('rsync://[::1]:873/m')).toEqual({ kind: 'daemon', user: undefined, host: '::1', port: 873, path: 'm' });
    // A bad port is not a URL; rsync then reads "rsync" as a host name.
    expect(c('rsync://host:x/m')).toEqual({ kind: 'shell', user: undefined, host: 'rsync', path: '//host:x/m' });
  });

  it('local paths: no colon, a slash before the first colon, a ./ prefix, odd brackets', () => {
    for (const s of ['dir', 'dir/', '/abs/host:x', './host:dir/', 'a/b:c', 'a@b', '[x]y:z', '[::1]', '[]:x', 'x[y]:z', '', '.', '../h:x']) {
      expect(c(s), s).toEqual({ kind: 'local' });
    }
  });
});
