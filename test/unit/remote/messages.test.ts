// A peer's message lines as rsync's client prints them (remote/messages.ts shown, log.c rwrite): the
// line's own end kept, a name's newline, escape or invalid UTF-8 inside it shown as \#ooo, tabs and
// valid UTF-8 as they are; and PeerMessages writes them so, to stdout or stderr by kind.

import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { PeerMessages, shown } from '../../../src/remote/messages.js';
import { Msg } from '../../../src/remote/mux.js';
import { setOutputLocale } from '../../../src/util/names.js';

describe('peer message lines', () => {
  it('escapes what a name brings into the line, keeps the line end', () => {
    expect(shown(Buffer.from('sender removed weird\nname\n'))).toBe('sender removed weird\\#012name\n');
    expect(shown(Buffer.from('a\x1b[31mred\tx\r'))).toBe('a\\#033[31mred\tx\r');
    expect(shown(Buffer.from('\rprogress 10%'))).toBe('\rprogress 10%');
    expect(shown(Buffer.from('literal \\#012 stays apart\n'))).toBe('literal \\#134#012 stays apart\n');
    // Valid UTF-8 as it is in a UTF-8 locale, escaped in the C locale (as rsync's isprint() decides).
    setOutputLocale({ LC_ALL: 'C.UTF-8' });
    expect(shown(Buffer.from('caf\xc3\xa9 ok\n', 'latin1'))).toBe('café ok\n');
    setOutputLocale({ LC_ALL: 'C' });
    expect(shown(Buffer.from('caf\xc3\xa9 ok\n', 'latin1'))).toBe('caf\\#303\\#251 ok\n');
    setOutputLocale(process.env);
    expect(shown(Buffer.alloc(0))).toBe('');
  });

  it('PeerMessages writes info to stdout and errors to stderr, escaped', () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const peer = new PeerMessages(out, err);
    peer.take({ tag: Msg.Info, payload: Buffer.from('sender removed x\ny\n') });
    peer.take({ tag: Msg.Error, payload: Buffer.from('rsync: [sender] bad \x07 name\n') });
    expect(String(out.read())).toBe('sender removed x\\#012y\n');
    expect(String(err.read())).toBe('rsync: [sender] bad \\#007 name\n');
  });
});
