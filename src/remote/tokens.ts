// A file's data on the wire (rsync's token.c, uncompressed form): the sender interleaves literal runs
// and references to the receiver's basis blocks, and ends the file with a zero. Each token is a 4-byte
// little-endian integer: n > 0 is a literal run of n bytes that follow (at most CHUNK_SIZE per token, as
// rsync sends them; longer runs are accepted, read a chunk at a time), n < 0 is basis block -(n+1),
// 0 is the end. The compressed forms (-z) implement the same two interfaces.

import { Exit } from '../util/errors.js';
import { NOT_YET, type Conn } from './conn.js';
import { ProtocolError, int32, type Cursor } from './wire.js';

/** rsync's CHUNK_SIZE: the longest literal run one token carries. */
export const CHUNK_SIZE = 32 * 1024;

export type Token =
  /** `data` is a view of the connection's bytes (never written over: conn.ts), not a copy. */
  | { kind: 'literal'; data: Buffer }
  /** Basis block `block`, or with `blocks` that many blocks in a row from it. */
  | { kind: 'match'; block: number; blocks?: number }
  | { kind: 'end' };

/** Writes one file's tokens. `match` gets the block's bytes too: a compressing writer feeds them to its dictionary. */
export interface TokenWriter {
  literal(data: Buffer): void;
  match(block: number, data: Buffer): void;
  /** Blocks first..first+n-1 in a row, when the writer has a cheaper way than `match` per block (no data needed). */
  matchRun?(first: number, n: number): void;
  end(): void;
}

/** Reads one file's tokens; `matched` is told each basis block's bytes as the receiver copies them. */
export interface TokenReader {
  next(): Promise<Token>;
  /** The next token when its bytes have all arrived, else undefined (then next() waits): a reader that can. */
  poll?(): Token | undefined;
  matched(data: Buffer): void;
}

/** The end of a file's tokens (one object for every file). */
const END: Token = { kind: 'end' };

export class PlainTokenWriter implements TokenWriter {
  constructor(private readonly out: (b: Buffer) => void) {}

  literal(data: Buffer): void {
    for (let at = 0; at < data.length; at += CHUNK_SIZE) {
      const piece = data.subarray(at, Math.min(data.length, at + CHUNK_SIZE));
      this.out(int32(piece.length));
      this.out(piece);
    }
  }

  match(block: number): void {
    this.out(int32(-(block + 1)));
  }

  matchRun(first: number, n: number): void {
    const b = Buffer.allocUnsafe(4 * n);
    for (let j = 0; j < n; j++) b.writeInt32LE(-(first + j + 1), 4 * j);
    this.out(b);
  }

  end(): void {
    this.out(int32(0));
  }
}

export class PlainTokenReader implements TokenReader {
  /** Bytes of the current literal run not yet read. */
  private residue = 0;

  constructor(
    private readonly conn: Conn,
    /** The basis file's block count: a reference beyond it is a hostile or broken peer. */
    private readonly blocks: number,
  ) {}

  /** Blocks in a row that the last head read took as one token (headOf). */
  private run = 1;

  /**
   * A token's head: a match token with the references to the blocks after it that have already
   * arrived is one token for the run (a delta of a large file is mostly such runs).
   */
  private readonly headOf = (c: Cursor): number => {
    let blocks = 1;
    const v = c.int32();
    if (v < 0) {
      while (c.left >= 4 && -(v + 1) + blocks < this.blocks && c.buf.readInt32LE(c.pos) === v - blocks) {
        c.pos += 4;
        blocks++;
      }
    }
    this.run = blocks;
    return v;
  };

  /** The token a head stands for, or undefined when it starts a literal run (then `residue` holds its length). */
  private fromHead(n: number): Token | undefined {
    if (n === 0) return END;
    if (n < 0) {
      const block = -(n + 1);
      if (block >= this.blocks) throw new ProtocolError(`invalid block reference ${block} (basis has ${this.blocks} blocks)`, Exit.Protocol);
      return this.run > 1 ? { kind: 'match', block, blocks: this.run } : { kind: 'match', block };
    }
    this.residue = n;
    return undefined;
  }

  /**
   * The next token when its bytes have all arrived, else undefined (what could be read is taken;
   * next() goes on from there): no promise for the many tokens already buffered.
   */
  poll(): Token | undefined {
    if (this.residue === 0) {
      const n = this.conn.readNow(this.headOf);
      if (n === NOT_YET) return undefined;
      const t = this.fromHead(n);
      if (t) return t;
    }
    const take = Math.min(CHUNK_SIZE, this.residue);
    // A view, not a copy: the connection never writes over bytes it has handed out (conn.ts append),
    // and the rebuild copies the run into its write span at once.
    const data = this.conn.readNow((c) => c.bytes(take));
    if (data === NOT_YET) return undefined;
    this.residue -= take;
    return { kind: 'literal', data };
  }

  async next(): Promise<Token> {
    if (this.residue === 0) {
      const t = this.fromHead(await this.conn.read(this.headOf));
      if (t) return t;
    }
    const take = Math.min(CHUNK_SIZE, this.residue);
    const data = await this.conn.read((c) => c.bytes(take));
    this.residue -= take;
    return { kind: 'literal', data };
  }

  matched(): void {}
}
