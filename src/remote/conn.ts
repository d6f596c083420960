// One connection to a remote rsync: the byte streams in both directions, raw during the handshake
// and multiplexed after it. Reads are decoder functions over a Cursor (src/remote/wire.ts) retried
// until enough bytes are here, so protocol code reads like rsync's blocking reads without blocking
// Node. The peer's log and error messages are handed to a callback in stream order, as rsync's reader
// meets them: a message that arrived behind data waits until the session has decoded that data, so
// its line ("*deleting", a server's note) comes out where rsync's client prints it, not ahead of the
// lines of entries still buffered.

import type { Readable, Writable } from 'node:stream';
import { Exit } from '../util/errors.js';
import { monotonicMs } from '../util/monotonic.js';
import { Cursor, ProtocolError, Short } from './wire.js';
import { Demux, Msg, dataFrames, frame, type Frame } from './mux.js';

/** More unread data than this and the connection stops reading from the peer until it is consumed. */
const HIGH_WATER = 8 * 1024 * 1024;
/** What Conn.readNow gives when the bytes a decoder needs have not all arrived. */
export const NOT_YET: unique symbol = Symbol('not yet');
/** The least a new store of received bytes holds (a pull receives hundreds of them per gigabyte). */
const STORE_MIN = 1024 * 1024;

export class Conn {
  /**
   * The received data: a view of `store` (appends copy into its free tail, so a large backlog is not
   * re-copied per frame), whose unread bytes start at `head`. What was read stays in front of them until
   * the store moves: re-slicing the view at every read made a Buffer for each field decoded (a pull of
   * the Linux tree reads several for each of its 80,000 files).
   */
  private data: Buffer = Buffer.alloc(0);
  private head = 0;
  private store: Buffer = Buffer.alloc(0);
  private demux: Demux | undefined;
  private muxOut = false;
  private wake: (() => void) | undefined;
  private closed = false;
  private failure: Error | undefined;
  /** Data bytes the session has decoded so far. */
  consumed = 0;
  /** Data bytes that have arrived so far (decoded or not). */
  private arrived = 0;
  /** Messages that came behind data not yet decoded, each with the data offset it follows. */
  private held: { at: number; f: Frame }[] = [];
  /** The session is over (settle): messages are handed on as they come. */
  private settled = false;
  /** A read is waiting for more data: a message with nothing unread before it is handed on at once. */
  private starved = false;
  /** Bytes received from the peer so far, framing included. */
  received = 0;
  /** Data frames received so far (each cost the peer a 4-byte header). */
  dataFrames = 0;
  /** Called before a read waits for the peer: a writer that gathers output sends it then (rsync flushes when it would block). */
  idle: (() => void) | undefined;
  /** Bytes sent to the peer so far, framing included. */
  written = 0;
  /** Bytes of the peer's frames other than data (messages: 4-byte header and payload) so far. */
  messageBytes = 0;
  /** `written` and `received` where the multiplexed stream began each way (see `streamWritten`). */
  private writtenBase = 0;
  private receivedBase = 0;
  /** The protocol a daemon greeting already settled: the handshake then exchanges no versions. */
  agreedProtocol: number | undefined;
  /** Reads and drains now waiting for the peer (what --timeout's watch counts: remote/io-watch.ts). */
  waiting = 0;
  /** When the current wait began (util/monotonic.ts ms: performance.now() would load Node's perf_hooks in every remote run). */
  waitingSince = 0;
  /** --write-batch in a pull: told every data byte the peer sends once framing starts (rsync's write_batch_monitor_in). */
  tapIn: ((b: Buffer) => void) | undefined;
  /** Why the session was ended from outside (fail). */
  private aborted: Error | undefined;
  /** Wakes a drain wait when the connection fails. */
  private drainWake: (() => void) | undefined;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly onMessage: (f: Frame) => void,
  ) {
    input.on('data', (chunk: Buffer) => this.arrive(chunk));
    input.on('end', () => this.finish());
    input.on('error', (e: Error) => this.finish(e));
    // A peer that exits while we write: the read side reports it with the peer's own last words.
    output.on('error', () => {});
  }

  private arrive(chunk: Buffer, counted = false): void {
    if (!counted) this.received += chunk.length;
    try {
      if (this.demux) {
        this.demux.split(chunk, (tag, pieces) => {
          if (tag === Msg.Data) {
            this.dataFrames++;
            for (const p of pieces) {
              this.append(p);
              this.tapIn?.(p);
            }
            return;
          }
          const f = { tag, payload: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces) };
          this.messageBytes += 4 + f.payload.length;
          if (this.settled || (this.starved && this.held.length === 0 && this.arrived <= this.consumed)) this.onMessage(f);
          else this.held.push({ at: this.arrived, f });
        });
      } else {
        this.append(chunk);
      }
    } catch (e) {
      this.finish(e as Error);
      return;
    }
    if (this.unread > HIGH_WATER) this.input.pause();
    this.poke();
  }

  /** How many received bytes are not read yet. */
  private get unread(): number {
    return this.data.length - this.head;
  }

  private append(b: Buffer): void {
    let at = this.data.byteOffset - this.store.byteOffset + this.data.length;
    // Appends go on into the store's free tail even when everything before has been read: a new store
    // per arrival (when the reader had kept up) allocated 64 KiB for each ~32 KiB frame, 2.8 GB for a
    // pull of the Linux tree's 1.3 GB, and the collector ran after that memory.
    if (this.data.buffer !== this.store.buffer || at + b.length > this.store.length) {
      // Out of room: the unread bytes move to a new store with room to spare (twice what is held), so
      // each byte is copied a bounded number of times however much is buffered. The old store is left
      // as it was: views a decoder kept into it stay valid.
      const unread = this.unread;
      const next = Buffer.allocUnsafe(Math.max(STORE_MIN, 2 * (unread + b.length)));
      this.data.copy(next, 0, this.head);
      this.store = next;
      this.data = next.subarray(0, unread);
      this.head = 0;
      at = unread;
    }
    b.copy(this.store, at);
    this.data = this.store.subarray(at - this.data.length, at + b.length);
    this.arrived += b.length;
  }

  private finish(e?: Error): void {
    this.closed = true;
    if (e && !this.failure) this.failure = e;
    this.poke();
  }

  /** Ends the session from outside (a timeout): waiting reads and drains throw `e`. */
  fail(e: Error): void {
    this.aborted = e;
    this.finish(e);
    const w = this.drainWake;
    this.drainWake = undefined;
    w?.();
  }

  /** Bytes moved either way so far (what the peer took of ours counted once its pipe took them). */
  get moved(): number {
    return this.received + this.written - this.output.writableLength;
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** From now on the peer's bytes are frames (rsync's io_start_multiplex_in). */
  startMuxIn(): void {
    const raw = this.data.subarray(this.head);
    this.data = Buffer.alloc(0);
    this.head = 0;
    // Those bytes arrive again, as frames now.
    this.arrived -= raw.length;
    this.receivedBase = this.received - raw.length;
    this.demux = new Demux();
    if (raw.length) this.arrive(raw, true);
  }

  /** From now on what we send is framed as data (rsync's io_start_multiplex_out). */
  startMuxOut(): void {
    this.muxOut = true;
    this.writtenBase = this.written;
  }

  /**
   * rsync's total_written: what we sent since our multiplexed stream began. rsync's counters leave out
   * the versions and checksum names exchanged before it (a push of one file: rsync says 123 bytes sent
   * where all of its writes made 163, 40 of them that exchange and the goodbye after its count).
   */
  get streamWritten(): number {
    return this.written - this.writtenBase;
  }

  /** rsync's total_read: what arrived since the peer's multiplexed stream began. */
  get streamReceived(): number {
    return this.received - this.receivedBase;
  }

  /**
   * Runs `decode` over the unread data when all it needs has arrived; NOT_YET (nothing taken) when it
   * has not. What `read` does without its promise: a pull's receiver reads a few small fields per file
   * that are nearly always here already, and an await each cost a turn of the microtask queue.
   */
  readNow<T>(decode: (c: Cursor) => T): T | typeof NOT_YET {
    // rsync's reader meets a message before the data that follows it: those at or before this read's
    // start are said now; one right behind the bytes a read takes waits for the next read, so the
    // caller acts on its data first (prints the entry's line) as rsync's client does.
    if (this.held.length) this.release(this.consumed);
    const c = new Cursor(this.data, this.head);
    try {
      const v = decode(c);
      this.consumed += c.pos - this.head;
      this.head = c.pos;
      if (this.held.length) this.release(this.consumed - 1);
      if (this.unread < HIGH_WATER / 2 && this.input.isPaused()) this.input.resume();
      return v;
    } catch (e) {
      if (!(e instanceof Short)) throw e;
      return NOT_YET;
    }
  }

  /** Runs `decode` over the unread data, waiting for more until it completes. */
  async read<T>(decode: (c: Cursor) => T): Promise<T> {
    for (;;) {
      const v = this.readNow(decode);
      if (v !== NOT_YET) return v;
      // Whatever the peer said before its data ran out is said before the session gives up.
      if (this.held.length && (this.failure || this.closed)) this.settle();
      if (this.failure) throw this.failure;
      if (this.closed) throw new ProtocolError('connection unexpectedly closed', Exit.StreamIO);
      if (this.input.isPaused()) this.input.resume();
      this.idle?.();
      if (this.waiting++ === 0) this.waitingSince = monotonicMs();
      this.starved = true;
      try {
        await new Promise<void>((r) => (this.wake = r));
      } finally {
        this.waiting--;
        this.starved = false;
      }
    }
  }

  /** Hands on the held messages whose data has been decoded (a message's own failure fails the session). */
  private release(upTo: number): void {
    let n = 0;
    try {
      while (n < this.held.length && this.held[n]!.at <= upTo) this.onMessage(this.held[n++]!.f);
    } catch (e) {
      this.finish(e as Error);
    } finally {
      this.held.splice(0, n);
    }
  }

  /** Hands on every message still held: the session is over, whatever data is left will not be read. */
  settle(): void {
    this.settled = true;
    this.release(Number.POSITIVE_INFINITY);
  }

  /** Whether the peer has sent everything and closed its side. */
  get atEnd(): boolean {
    return this.closed && this.unread === 0;
  }

  write(b: Buffer): void {
    if (!this.muxOut) {
      this.written += b.length;
      this.output.write(b);
      return;
    }
    for (const f of dataFrames(b)) {
      this.written += f.length;
      this.output.write(f);
    }
  }

  /**
   * Bytes already framed by the caller (a writer that builds data frames in place), sent as they are;
   * `done` once the stream no longer needs them (the caller may then reuse the buffer).
   */
  writeFramed(b: Buffer, done?: () => void): void {
    this.written += b.length;
    this.output.write(b, done && (() => done()));
  }

  /** Whether this side's output is multiplexed yet (a message can be sent). */
  get sendsMessages(): boolean {
    return this.muxOut;
  }

  /** A non-data message to the peer. */
  send(tag: number, payload: Buffer): void {
    const f = frame(tag, payload);
    this.written += f.length;
    this.output.write(f);
  }

  /** Bytes written and not yet taken by the peer's pipe. */
  get pendingOutput(): number {
    return this.output.writableLength;
  }

  /** The output holds its fill (its writes say to wait for "drain"). */
  get outputFull(): boolean {
    return this.output.writableNeedDrain;
  }

  /** Resolves once the peer has taken what was written (or the pipe is gone): a sender's backpressure. */
  async drained(): Promise<void> {
    if (this.aborted) throw this.aborted;
    if (!this.output.writableNeedDrain || this.output.destroyed) return;
    if (this.waiting++ === 0) this.waitingSince = monotonicMs();
    try {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.output.off('drain', done);
          this.output.off('close', done);
          this.drainWake = undefined;
          resolve();
        };
        this.drainWake = done;
        this.output.on('drain', done);
        this.output.on('close', done);
      });
    } finally {
      this.waiting--;
    }
    if (this.aborted) throw this.aborted;
  }

  end(): void {
    this.output.end();
  }
}
