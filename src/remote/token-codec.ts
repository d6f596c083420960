// The token form of a session's file data, chosen once after the handshake: plain tokens, or rsync's
// deflated tokens (zlib, zlibx). The transfers ask it for each file's writer or reader; the deflated
// forms keep one zlib stream per direction for the whole session (each file resets it, as rsync does).

import type { Conn } from './conn.js';
import type { SessionCompress } from './compress.js';
import { DeflateTokenReader, DeflateTokenWriter } from './deflate-tokens.js';
import { PlainTokenReader, PlainTokenWriter, type TokenReader, type TokenWriter } from './tokens.js';
import { SyncZlib } from './zlib-sync.js';

export interface TokenCodec {
  /** The writer of the next file's tokens (one file at a time: the previous one has ended). */
  writer(out: (b: Buffer) => void): TokenWriter;
  /** The reader of the next file's tokens, whose basis has `blocks` blocks. */
  reader(conn: Conn, blocks: number): TokenReader;
  /** Frees the zlib streams at the session's end. */
  close(): void;
}

export function tokenCodec(c: SessionCompress, protocol: number): TokenCodec {
  if (c.name === 'none') {
    return {
      writer: (out) => new PlainTokenWriter(out),
      reader: (conn, blocks) => new PlainTokenReader(conn, blocks),
      close: () => {},
    };
  }
  const dictionary = c.name === 'zlib';
  let deflate: SyncZlib | undefined;
  let inflate: SyncZlib | undefined;
  let w: DeflateTokenWriter | undefined;
  let r: DeflateTokenReader | undefined;
  return {
    writer(out) {
      if (!w) {
        deflate = new SyncZlib('deflate', c.level);
        w = new DeflateTokenWriter(out, deflate, dictionary, protocol);
      }
      w.out = out;
      return w;
    },
    reader(conn, blocks) {
      if (!r) {
        inflate = new SyncZlib('inflate');
        r = new DeflateTokenReader(conn, inflate, dictionary, protocol);
      }
      r.conn = conn;
      r.blocks = blocks;
      return r;
    },
    close() {
      deflate?.close();
      inflate?.close();
    },
  };
}
