// A file's data on the wire with -z (rsync's token.c, the zlib and zlibx forms): literal data goes
// through one raw deflate stream per file, cut into frames, and references to basis blocks are coded as
// runs in flag bytes between the frames. docs/protocol.md ("Compressed file data") describes the format.
//
// Both ends reset their stream at each file's start. After each stretch of literal data the sender
// flushes with Z_SYNC_FLUSH and drops the 00 00 ff ff that ends every such flush; the receiver puts
// those four bytes back when the next flag byte is not data. With `zlib` (not `zlibx`) each matched
// block's bytes also enter both dictionaries: the sender deflates them and throws the output away, the
// receiver inflates them wrapped in a stored block it makes up, so later literal data may refer back
// into matched data.

import { Exit } from '../util/errors.js';
import type { Conn } from './conn.js';
import { CHUNK_SIZE, type Token, type TokenReader, type TokenWriter } from './tokens.js';
import { ProtocolError, int32 } from './wire.js';
import { SyncZlib, Z_NO_FLUSH, Z_SYNC_FLUSH } from './zlib-sync.js';

/** The flag bytes (rsync's END_FLAG, TOKEN_LONG, TOKENRUN_LONG, DEFLATED_DATA, TOKEN_REL, TOKENRUN_REL). */
export const Flag = {
  End: 0x00,
  TokenLong: 0x20,
  TokenRunLong: 0x21,
  Data: 0x40,
  TokenRel: 0x80,
  TokenRunRel: 0xc0,
} as const;

/** The largest frame of deflated bytes: its length fits the 14 bits after the Data flag. */
export const MAX_DATA_COUNT = 16383;
/** rsync's MAX_TOKEN_INDEX: no block number or run may reach past it. */
const MAX_TOKEN_INDEX = 0x7ffffffe;
/** A run of consecutive blocks is cut before it counts this many (its length is 16 bits). */
const MAX_RUN = 65536;
/** A stored block holds at most this many bytes; matched data enters the dictionary in such pieces. */
const STORED_MAX = 0xffff;
/** What a sync flush ends with (an empty stored block), dropped on the wire. */
const SYNC_TAIL = Buffer.from([0, 0, 0xff, 0xff]);

/**
 * The pieces in which a matched block enters a dictionary. Before protocol 31 rsync fed the block's
 * first 64 KiB again for every piece (its "data-duplicating bug"); both ends must do the same.
 */
function dictionaryPieces(data: Buffer, protocol: number): Buffer[] {
  const pieces: Buffer[] = [];
  let at = 0;
  for (let left = data.length; left > 0; ) {
    const n = Math.min(left, STORED_MAX);
    pieces.push(data.subarray(at, at + n));
    if (protocol >= 31) at += n;
    left -= n;
  }
  return pieces;
}

export class DeflateTokenWriter implements TokenWriter {
  /** The last token written: -1 before a file's first, -2 after literal data. */
  private lastToken = -1;
  private runStart = 0;
  private lastRunEnd = 0;
  /** Literal data went in without a flush: the next token flushes it. */
  private flushPending = false;
  /** Deflated bytes not yet framed (less than one frame, between literal pieces). */
  private held: Buffer = Buffer.alloc(0);

  constructor(
    /** Where the session's bytes go; a codec points it at the current file's output. */
    public out: (b: Buffer) => void,
    private readonly z: SyncZlib,
    /** `zlib`: matched blocks enter the dictionary. `zlibx`: they do not. */
    private readonly dictionary: boolean,
    private readonly protocol: number,
  ) {}

  literal(data: Buffer): void {
    if (data.length) this.token(-2, data);
  }

  match(block: number, data: Buffer): void {
    if (block < 0 || block > MAX_TOKEN_INDEX) throw new RangeError(`block ${block} out of range`);
    this.token(block, undefined, data);
  }

  end(): void {
    this.token(-1);
  }

  /** rsync's send_deflated_token: `token` -2 is literal data only, -1 the end, else a block. */
  private token(token: number, literal?: Buffer, block?: Buffer): void {
    if (this.lastToken === -1) {
      this.z.reset();
      this.lastRunEnd = 0;
      this.runStart = token;
      this.flushPending = false;
    } else if (this.lastToken === -2) {
      this.runStart = token;
    } else if (literal || token !== this.lastToken + 1 || token >= this.runStart + MAX_RUN) {
      this.writeRun();
      this.lastRunEnd = this.lastToken;
      this.runStart = token;
    }
    this.lastToken = token;

    if (literal || this.flushPending) {
      const flush = token === -2 ? Z_NO_FLUSH : Z_SYNC_FLUSH;
      let deflated = this.z.all(literal ?? Buffer.alloc(0), flush);
      if (flush === Z_SYNC_FLUSH) {
        if (deflated.length < 4 || !deflated.subarray(deflated.length - 4).equals(SYNC_TAIL)) {
          throw new Error('deflate: a sync flush did not end with an empty stored block');
        }
        deflated = deflated.subarray(0, deflated.length - 4);
      }
      this.frames(deflated, flush === Z_SYNC_FLUSH);
      this.flushPending = token === -2;
    }

    if (token === -1) this.out(Buffer.from([Flag.End]));
    else if (token >= 0 && this.dictionary && block) {
      // The receiver rebuilds the same history from its copy of the block (see DeflateTokenReader.matched).
      for (const piece of dictionaryPieces(block, this.protocol)) this.z.all(piece, Z_SYNC_FLUSH);
    }
  }

  /** The run of blocks runStart..lastToken, relative to the last run's end when that fits 6 bits. */
  private writeRun(): void {
    const rel = this.runStart - this.lastRunEnd;
    const more = this.lastToken - this.runStart;
    const head: number[] = [];
    if (rel >= 0 && rel <= 63) head.push((more === 0 ? Flag.TokenRel : Flag.TokenRunRel) + rel);
    else {
      head.push(more === 0 ? Flag.TokenLong : Flag.TokenRunLong);
      head.push(...int32(this.runStart));
    }
    if (more !== 0) head.push(more & 0xff, more >> 8);
    this.out(Buffer.from(head));
  }

  /** Frames deflated bytes; without `all`, a last part shorter than a frame waits for more. */
  private frames(deflated: Buffer, all: boolean): void {
    let data = this.held.length ? Buffer.concat([this.held, deflated]) : deflated;
    while (data.length >= MAX_DATA_COUNT || (all && data.length > 0)) {
      const n = Math.min(MAX_DATA_COUNT, data.length);
      this.out(Buffer.from([Flag.Data + (n >> 8), n & 0xff]));
      this.out(data.subarray(0, n));
      data = data.subarray(n);
    }
    this.held = Buffer.from(data);
  }
}

type ReadState = 'init' | 'idle' | 'running' | 'inflating' | 'inflated';

export class DeflateTokenReader implements TokenReader {
  private state: ReadState = 'init';
  private rxToken = 0;
  private rxRun = 0;
  /** A flag byte read while inflated output was still waiting. */
  private savedFlag: number | undefined;
  /** The current file's basis block count (a codec sets it per file). */
  blocks = 0;

  constructor(
    public conn: Conn,
    private readonly z: SyncZlib,
    private readonly dictionary: boolean,
    private readonly protocol: number,
  ) {}

  /** rsync's recv_deflated_token. */
  async next(): Promise<Token> {
    for (;;) {
      switch (this.state) {
        case 'init':
          this.z.reset();
          this.state = 'idle';
          this.rxToken = 0;
          break;

        case 'idle':
        case 'inflated': {
          let flag: number;
          if (this.savedFlag !== undefined) {
            flag = this.savedFlag;
            this.savedFlag = undefined;
          } else flag = await this.conn.read((c) => c.byte());
          if ((flag & 0xc0) === Flag.Data) {
            const frame = await this.conn.read((c) => {
              const n = ((flag & 0x3f) << 8) + c.byte();
              return Buffer.from(c.bytes(n));
            });
            this.z.feed(frame);
            this.state = 'inflating';
            break;
          }
          if (this.state === 'inflated') {
            // Output the frames left inside the inflater comes first, then the dropped sync tail.
            const { out } = this.z.step(Z_SYNC_FLUSH, CHUNK_SIZE);
            if (out.length) {
              this.savedFlag = flag;
              return { kind: 'literal', data: out };
            }
            this.z.feed(SYNC_TAIL);
            const tail = this.z.step(Z_SYNC_FLUSH, CHUNK_SIZE);
            if (tail.out.length || this.z.pending) throw new ProtocolError('decompressor lost sync!', Exit.StreamIO);
            this.state = 'idle';
          }
          if (flag === Flag.End) {
            this.state = 'init';
            return { kind: 'end' };
          }
          return this.tokenNumber(flag);
        }

        case 'inflating': {
          const before = this.z.pending;
          const { out, full } = this.z.step(Z_NO_FLUSH, CHUNK_SIZE);
          if (this.z.pending === 0) this.state = 'inflated';
          if (out.length) return { kind: 'literal', data: out };
          // Input left, nothing consumed, nothing out: the deflate stream ended (a final block) or stalled.
          if (this.z.pending === before && before > 0 && !full) {
            throw new ProtocolError('inflate returned an error: data after the end of the compressed stream', Exit.StreamIO);
          }
          break;
        }

        case 'running':
          if (this.rxRun <= 0 || this.rxToken >= MAX_TOKEN_INDEX) invalidToken();
          this.rxToken++;
          if (--this.rxRun === 0) this.state = 'idle';
          return this.matchToken();
      }
    }
  }

  /** rsync's recv_compressed_token_num: a block, relative or absolute, maybe starting a run. */
  private async tokenNumber(flag: number): Promise<Token> {
    let run: boolean;
    if (flag & Flag.TokenRel) {
      const incr = flag & 0x3f;
      if (this.rxToken > MAX_TOKEN_INDEX - incr) invalidToken();
      this.rxToken += incr;
      run = (flag & 0x40) !== 0;
    } else {
      if (flag !== Flag.TokenLong && flag !== Flag.TokenRunLong) {
        throw new ProtocolError(`invalid flag byte 0x${flag.toString(16)} in compressed stream`, Exit.Protocol);
      }
      const n = await this.conn.read((c) => c.int32());
      if (n < 0 || n > MAX_TOKEN_INDEX) invalidToken();
      this.rxToken = n;
      run = flag === Flag.TokenRunLong;
    }
    if (run) {
      const count = await this.conn.read((c) => c.byte() + (c.byte() << 8));
      if (count <= 0 || this.rxToken > MAX_TOKEN_INDEX - count) invalidToken();
      this.rxRun = count;
      this.state = 'running';
    }
    return this.matchToken();
  }

  private matchToken(): Token {
    if (this.rxToken >= this.blocks) {
      throw new ProtocolError(`invalid block reference ${this.rxToken} (basis has ${this.blocks} blocks)`, Exit.Protocol);
    }
    return { kind: 'match', block: this.rxToken };
  }

  /** rsync's see_deflate_token: with `zlib`, the block the receiver copied enters the dictionary. */
  matched(data: Buffer): void {
    if (!this.dictionary) return;
    for (const piece of dictionaryPieces(data, this.protocol)) {
      const n = piece.length;
      const stored = Buffer.from([0, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff]);
      this.z.all(Buffer.concat([stored, piece]), Z_SYNC_FLUSH);
    }
  }
}

function invalidToken(): never {
  throw new ProtocolError('invalid token number in compressed stream', Exit.Protocol);
}
