// One raw deflate or inflate stream driven synchronously, with the flush mode chosen per call and the
// stream's state kept between calls (rsync's z_stream across the tokens of a file).
//
// Why Node's zlib handle and not its public API: the stream API (createDeflateRaw().write/flush) is
// asynchronous, and the token writer must produce its bytes in order between other protocol writes;
// zlib.deflateRawSync and the undocumented _processChunk without a callback close the stream after one
// call, so they cannot carry a dictionary from one token to the next. Node's own synchronous helpers
// (zlibBufferSync) drive the native handle with `writeSync(flush, in, inOff, inLen, out, outOff,
// outLen)` and read what is left of both buffers from `_writeState`; this module does the same, which
// Node has kept since 0.11 (test/unit/remote/zlib-sync.test.ts pins it). Errors come back through the
// handle's `onerror` during the call, and are thrown here as ProtocolError.

import { createRequire } from 'node:module';
import { Exit } from '../util/errors.js';
import { ProtocolError } from './wire.js';

// node:zlib (and all of Node's streams with it) is loaded by the first stream made, not when the module
// is: every run initialises this module, only -z uses it (docs/benchmarks.md, "Small jobs, session 11").
let zlibModule: typeof import('node:zlib') | undefined;
const zlib = (): typeof import('node:zlib') =>
  (zlibModule ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib'));

/** zlib.h's flush values (part of zlib's ABI; the unit test checks them against Node's). */
export const Z_NO_FLUSH = 0;
export const Z_SYNC_FLUSH = 2;

/** The part of Node's native zlib handle this module uses. */
interface Handle {
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  onerror: (message: string, errno: number) => void;
}

interface NodeZlib {
  _handle: Handle | null;
  _writeState: Uint32Array;
  reset(): void;
  close(): void;
  on(event: 'error', f: () => void): unknown;
}

export class SyncZlib {
  private readonly z: NodeZlib;
  private readonly handle: Handle;
  private readonly kind: string;
  private error: string | undefined;
  /** Input handed to `step` that the last call did not consume. */
  private input: Buffer = Buffer.alloc(0);

  constructor(kind: 'deflate' | 'inflate', level = 6) {
    const z = (kind === 'deflate'
      ? zlib().createDeflateRaw({ level, windowBits: 15, memLevel: 8, strategy: zlib().constants.Z_DEFAULT_STRATEGY })
      : zlib().createInflateRaw({ windowBits: 15 })) as unknown as NodeZlib;
    if (!z._handle || typeof z._handle.writeSync !== 'function' || !(z._writeState instanceof Uint32Array)) {
      throw new Error("this Node's zlib has no synchronous stream handle: -z cannot be used");
    }
    z.on('error', () => {});
    this.z = z;
    this.kind = kind;
    this.handle = z._handle;
    this.handle.onerror = (message: string) => {
      this.error = message;
    };
  }

  /** deflateReset/inflateReset: a new file starts with an empty dictionary. */
  reset(): void {
    this.z.reset();
    this.input = Buffer.alloc(0);
  }

  /** Bytes given to `step` not yet consumed. */
  get pending(): number {
    return this.input.length;
  }

  /** Queues input for `step`. */
  feed(data: Buffer): void {
    this.input = this.input.length ? Buffer.concat([this.input, data]) : data;
  }

  /**
   * One call of deflate()/inflate() over the queued input with room for `room` bytes of output; returns
   * the output and whether the output space was filled (more may be waiting).
   */
  step(flush: number, room: number): { out: Buffer; full: boolean } {
    const out = Buffer.allocUnsafe(room);
    this.handle.writeSync(flush, this.input, 0, this.input.length, out, 0, room);
    if (this.error !== undefined) {
      const message = this.error;
      this.error = undefined;
      throw new ProtocolError(`${this.kind} returned an error: ${message}`, Exit.StreamIO);
    }
    const outLeft = this.z._writeState[0]!;
    const inLeft = this.z._writeState[1]!;
    this.input = inLeft ? this.input.subarray(this.input.length - inLeft) : Buffer.alloc(0);
    return { out: out.subarray(0, room - outLeft), full: outLeft === 0 };
  }

  /** Runs `data` (and anything queued) through completely with `flush`; returns all the output. */
  all(data: Buffer, flush: number): Buffer {
    this.feed(data);
    const outs: Buffer[] = [];
    for (;;) {
      const { out, full } = this.step(flush, 64 * 1024);
      if (out.length) outs.push(out);
      if (!full && this.input.length === 0) break;
      if (!full && out.length === 0) break;
    }
    return outs.length === 1 ? outs[0]! : Buffer.concat(outs);
  }

  close(): void {
    this.z.close();
  }
}
