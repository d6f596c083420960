// What a client does with the peer's non-data messages (rsync's read_a_msg, client side): the peer's
// informational lines go to our stdout and its errors and warnings to our stderr (the remote rsync's own
// words, already prefixed "rsync: ... [sender]"), escaped as rsync's client prints them (rwrite's
// filtered_fwrite: a name's newline or terminal escape in a line shows as \#ooo); I/O-error flags and an
// error exit are remembered for the exit code; anything a sender has no business sending ends the run
// with rsync's "invalid multi-message" (exit 12).

import { Exit } from '../util/errors.js';
import { Msg, type Frame } from './mux.js';
import { ProtocolError, int32 } from './wire.js';
import type { Conn } from './conn.js';
import { BIGPATHBUFLEN } from '../model/path-max.js';
import { escapeName, outputBytes } from '../util/names.js';
import type { WireCharset } from './wire-charset.js';

/**
 * A peer's line as rsync's client writes it (log.c rwrite): a trailing CR or newline and a leading CR
 * as they are, the rest escaped as names are (control bytes but tab, invalid UTF-8, a literal "\#ddd").
 */
export function shown(line: Buffer, show: (text: Buffer) => string = escapeName): string {
  let end = line.length;
  const last = end > 0 ? line[end - 1] : undefined;
  const trailing = last === 0x0a || last === 0x0d ? String.fromCharCode(last) : '';
  if (trailing) end--;
  const lead = end > 0 && line[0] === 0x0d ? '\r' : '';
  return lead + show(line.subarray(lead ? 1 : 0, end)) + trailing;
}

/** rsync's IOERR_VALID_MASK. */
const IOERR_VALID_MASK = 0x7;
/** A message longer than rsync's own BIGPATHBUFLEN is not a log line. */
const MAX_TEXT = BIGPATHBUFLEN;

export class PeerMessages {
  /** The sender's io_error flags, from its messages and the end of its file list. */
  ioError = 0;
  /** The exit code the peer announced it is exiting with (MSG_ERROR_EXIT), if any. */
  exitCode: number | undefined;
  /**
   * The peer sent an error line of a failed transfer (MSG_ERROR_XFER): rsync's client exits 23 for it
   * (log.c's got_xfer_error) even when the peer's own exit says nothing went wrong (a 3.1 server).
   */
  xferError = false;
  /** Called when the peer announces its exit (MSG_ERROR_EXIT with a code), for the client's answer. */
  onErrorExit: ((code: number) => void) | undefined;
  /**
   * The files a sending peer could not open after it listed them (MSG_NO_SEND, protocol 30 on): their
   * data will not come, and its own error line has already said why.
   */
  readonly notSent: number[] = [];
  /**
   * A line of ours left open ("receiving file list ... "): the peer's next line ends it first with a
   * newline on its own stream, stdout or stderr (rsync's output_needs_newline); the owner clears it
   * when it ends the line itself.
   */
  lineOpen = false;
  /**
   * Where the peer's informational lines go instead of stdout, while set: a pull's client prints the
   * names of what it received only after the transfer (the local half), so the sending server's lines
   * of that phase (-vv's "total: matches=...") wait for them, as they follow them in rsync's output.
   */
  hold: string[] | undefined;
  /**
   * --iconv (iconv-wire.ts): the peer's lines come in the wire's UTF-8 and are printed in this client's
   * charset, as rsync's client prints them; set by the session before its file list.
   */
  charset: WireCharset | undefined;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly err: NodeJS.WritableStream,
  ) {}

  readonly take = (f: Frame): void => {
    switch (f.tag) {
      case Msg.Info:
      case Msg.Client:
        if (f.payload.length > MAX_TEXT) return this.invalid(f);
        if (this.hold) return void this.hold.push(this.text(f.payload));
        return this.write(this.out, this.text(f.payload));
      case Msg.ErrorXfer:
        if (f.payload.length > MAX_TEXT) return this.invalid(f);
        this.xferError = true;
        return this.write(this.err, this.text(f.payload));
      case Msg.Error:
      case Msg.Warning:
      case Msg.ErrorUtf8:
      case Msg.ErrorSocket:
        if (f.payload.length > MAX_TEXT) return this.invalid(f);
        return this.write(this.err, this.text(f.payload));
      case Msg.Log:
        return;
      case Msg.IoError:
        if (f.payload.length !== 4) return this.invalid(f);
        this.ioError |= f.payload.readInt32LE(0) & IOERR_VALID_MASK;
        return;
      case Msg.ErrorExit:
        if (f.payload.length === 4) {
          this.exitCode = f.payload.readInt32LE(0);
          this.onErrorExit?.(this.exitCode);
        } else if (f.payload.length !== 0) this.invalid(f);
        return;
      case Msg.NoSend:
        if (f.payload.length !== 4) return this.invalid(f);
        this.notSent.push(f.payload.readInt32LE(0));
        return;
      case Msg.Noop:
      case Msg.IoTimeout:
        return;
      default:
        this.invalid(f);
    }
  };

  private text(payload: Buffer): string {
    return this.charset ? shown(payload, (b) => this.charset!.peerText(b)) : shown(payload);
  }

  private write(to: NodeJS.WritableStream, text: string): void {
    if (this.lineOpen) {
      this.lineOpen = false;
      to.write('\n');
    }
    // Converted lines carry the local charset's bytes as they are.
    to.write(this.charset ? outputBytes(text) : text);
  }

  /** Thrown into the connection, which fails the session's next read with it. */
  private invalid(f: Frame): never {
    throw new ProtocolError(`invalid multi-message ${f.tag}:${f.payload.length} [client]`, Exit.StreamIO);
  }
}

/**
 * rsync's client answers a peer's MSG_ERROR_EXIT and leaves (io.c read_a_msg: as the sender with an empty
 * one, as the receiver with the code): a 3.1 server waits for that answer, or for the connection to
 * close, before it exits, which left this side waiting for its io timeout.
 */
export function answerErrorExit(conn: Conn, peer: PeerMessages, weSend: boolean): void {
  peer.onErrorExit = (code) => {
    if (conn.sendsMessages) conn.send(Msg.ErrorExit, weSend ? Buffer.alloc(0) : int32(code));
    conn.end();
  };
}
