// --iconv's charsets (rsync's setup_iconv and its iconvbufs callers): the four glibc iconv descriptors
// a local rsync opens, two on each side of its wire's UTF-8, and the conversions of a name that rsync
// makes on the way from the sender's charset to the receiver's and back into printed lines. The
// conversions run in the addon (native/iconv.c), whichever engine copies: Node has no iconv.

import type { Unconvertible } from '../model/listing.js';
import { loadAddon, type Addon } from './native.js';
import { showPath } from '../util/errors.js';
import { filteredRaw, octalEscape } from '../util/names.js';

/** rsync's UTF8_CHARSET: the charset of names on its wire. */
const WIRE = 'UTF-8';
/** Printable ASCII: every charset --iconv accepts converts it to itself. */
const ASCII = Buffer.from(Array.from({ length: 0x7f - 0x20 }, (_, i) => 0x20 + i));
/** rsync's ICB_INCLUDE_BAD and ICB_INCLUDE_INCOMPLETE (native/iconv.h). */
const INCLUDE_BAD = 1;
const INCLUDE_INCOMPLETE = 2;

type Handle = object;

/** --iconv=LOCAL,REMOTE split as rsync's setup_iconv splits it ("" and "." are the locale's charset). */
export function charsetNames(spec: string): { local: string; remote: string } {
  const comma = spec.indexOf(',');
  if (comma < 0) return { local: spec, remote: spec };
  return { local: spec.slice(0, comma), remote: spec.slice(comma + 1) };
}

/** Why --iconv cannot convert: rsync's message, and whether it is rsync's "not supported" (exit 4) or arsync's own refusal (exit 1). */
export type CharsetFailure = { message: string; unsupported: boolean };

type Converter = Addon & Required<Pick<Addon, 'iconvConvert'>>;

/** One side's pair of descriptors around the wire's UTF-8 (rsync's ic_send and ic_recv of one process). */
class Side {
  constructor(
    readonly addon: Converter,
    /** charset → UTF-8 (ic_send, `out`) and UTF-8 → charset (ic_recv, `back`). */
    readonly out: Handle,
    readonly back: Handle,
    /** The charset in use, "" and "." resolved to the locale's. */
    readonly charset: string,
  ) {}
}

/**
 * One side's descriptors, opened as rsync's setup_iconv opens them (UTF-8 ← charset, then charset ←
 * UTF-8): rsync's message for the first that fails (exit 4), or why there is no converter at all (no
 * addon: exit 1). `addon`: the one the other side already loaded.
 */
function openSide(raw: string, loaded?: Converter): Side | CharsetFailure {
  let a = loaded;
  if (!a) {
    const st = loadAddon();
    if (!st.ok) return { message: `--iconv needs the native addon (Node has no iconv): ${st.reason}. To fix: ${st.fix}`, unsupported: false };
    if (!st.addon.iconvOpen || !st.addon.iconvConvert || !st.addon.iconvCharset) {
      return { message: `--iconv needs a native addon that converts names: ${st.path} predates it. To fix: rebuild it`, unsupported: false };
    }
    a = st.addon as Converter;
  }
  const set = raw === '' || raw === '.' ? a.iconvCharset!() : raw;
  const handles: Handle[] = [];
  for (const [to, from] of [
    [WIRE, set],
    [set, WIRE],
  ] as const) {
    const h = a.iconvOpen!(to, from);
    // Escaped as rsync's messages are: the charset is the operator's text.
    if (typeof h === 'number') return { message: `iconv_open("${showPath(to)}", "${showPath(from)}") failed`, unsupported: true };
    handles.push(h);
  }
  return new Side(a, handles[0]!, handles[1]!, set);
}

/**
 * Paths are split and resolved on ASCII '/' and '.' on both sides: a charset that does not keep ASCII
 * as it is (UTF-16, EBCDIC...) would turn names into other paths, so it is refused.
 */
function asciiRefusal(side: Side): CharsetFailure | undefined {
  for (const h of [side.out, side.back]) {
    const out = side.addon.iconvConvert(h, ASCII);
    if (!Buffer.isBuffer(out) || !out.equals(ASCII)) {
      return { message: `--iconv: the charset "${showPath(side.charset)}" does not keep ASCII names as they are (a '/' would not stay a '/')`, unsupported: false };
    }
  }
  return undefined;
}

export class NameCharsets {
  private constructor(
    private readonly addon: Converter,
    /** The sender's ic_send (LOCAL → UTF-8) and ic_recv (UTF-8 → LOCAL). */
    private readonly localOut: Handle,
    private readonly localIn: Handle,
    /** The receiver's ic_send (REMOTE → UTF-8) and ic_recv (UTF-8 → REMOTE). */
    private readonly remoteOut: Handle,
    private readonly remoteIn: Handle,
    /** The charsets in use, "" and "." resolved to the locale's (rsync's --debug=ICONV names them). */
    readonly local: string,
    readonly remote: string,
  ) {}

  /**
   * The four descriptors, opened in rsync's order (the sending side first, each side UTF-8 ← charset
   * then charset ← UTF-8); rsync's message for the first that fails (exit 4), or why there is no
   * converter at all (no addon: exit 1).
   */
  static open(spec: { local: string; remote: string }): NameCharsets | CharsetFailure {
    const local = openSide(spec.local);
    if (!(local instanceof Side)) return local;
    const remote = openSide(spec.remote, local.addon);
    if (!(remote instanceof Side)) return remote;
    const refused = asciiRefusal(local) ?? asciiRefusal(remote);
    if (refused) return refused;
    return new NameCharsets(local.addon, local.out, local.back, remote.out, remote.back, local.charset, remote.charset);
  }

  private conv(h: Handle, name: Buffer, flags = 0): Buffer | { errno: number; out: Buffer } {
    return this.addon.iconvConvert(h, name, flags);
  }

  /**
   * A source name (or relative path) as the receiver names it: the sender's charset to the wire's
   * UTF-8 (its failure is the sender's "cannot convert filename"), then to the receiver's (the
   * receiver's). A name already in ASCII converts to itself in every charset rsync can use.
   */
  toDest(name: Buffer): Buffer | Unconvertible {
    const wire = this.conv(this.localOut, name);
    if (!Buffer.isBuffer(wire)) return { side: 'sender', errno: wire.errno, name };
    const out = this.conv(this.remoteIn, wire);
    if (!Buffer.isBuffer(out)) return { side: 'Receiver', errno: out.errno, name: wire };
    return out;
  }

  /** A source path in the wire's UTF-8 as the receiver sees it (bytes the sender could not convert kept). */
  wire(name: Buffer): Buffer {
    const w = this.conv(this.localOut, name, INCLUDE_BAD | INCLUDE_INCOMPLETE);
    return Buffer.isBuffer(w) ? w : w.out;
  }

  /**
   * A symlink's target for the op (OpFlag.Target): itself when the conversion changes nothing, else the
   * target, a NUL and its conversion (model/ops.ts targetParts). rsync converts targets as names (its
   * protocol's symlink-iconv flag).
   */
  linkTarget(raw: Buffer): Buffer | Unconvertible {
    const d = this.toDest(raw);
    if (!Buffer.isBuffer(d)) return d;
    return d.equals(raw) ? raw : Buffer.concat([raw, Buffer.alloc(1), d]);
  }

  /** A source name as the destination has it, or itself when it cannot be converted (reported elsewhere). */
  toDestOrSelf(name: Buffer): Buffer {
    const d = this.toDest(name);
    return Buffer.isBuffer(d) ? d : name;
  }

  /** A destination name as the sender names it (for lines and the sender's filters); itself if it cannot be. */
  toSource(name: Buffer): Buffer {
    const wire = this.conv(this.remoteOut, name);
    if (!Buffer.isBuffer(wire)) return name;
    const out = this.conv(this.localIn, wire);
    return Buffer.isBuffer(out) ? out : name;
  }

  /**
   * A deleted name as a local rsync prints it: the receiver converts it to UTF-8 for its message (bad
   * bytes kept), and the client runs it through its own ic_send where ic_recv was meant (io.c
   * MSG_DELETED), keeping bad bytes and dropping an incomplete tail.
   */
  deletedLine(name: Buffer): Buffer {
    const wire = this.conv(this.remoteOut, name, INCLUDE_BAD | INCLUDE_INCOMPLETE);
    const sent = Buffer.isBuffer(wire) ? wire : wire.out;
    const shown = this.conv(this.localOut, sent, INCLUDE_BAD);
    return Buffer.isBuffer(shown) ? shown : shown.out;
  }
}

/**
 * --iconv between machines, this client's half: rsync's client opens only its own charset (LOCAL, both
 * ways around the wire's UTF-8) and converts what crosses the connection; the server opens REMOTE
 * itself (the client sends it --iconv=REMOTE), so an unknown REMOTE is the server's error.
 */
export class ClientCharset {
  private constructor(private readonly side: Side) {}

  static open(local: string): ClientCharset | CharsetFailure {
    const side = openSide(local);
    if (!(side instanceof Side)) return side;
    return asciiRefusal(side) ?? new ClientCharset(side);
  }

  /** The charset in use ("" and "." resolved to the locale's). */
  get charset(): string {
    return this.side.charset;
  }

  /** A local name (or symlink target) for the wire (rsync's ic_send), or iconv's errno. */
  toWire(local: Buffer): Buffer | number {
    const r = this.side.addon.iconvConvert(this.side.out, local);
    return Buffer.isBuffer(r) ? r : r.errno;
  }

  /** A name (or symlink target) from the wire in the local charset (rsync's ic_recv), or iconv's errno. */
  fromWire(wire: Buffer): Buffer | number {
    const r = this.side.addon.iconvConvert(this.side.back, wire);
    return Buffer.isBuffer(r) ? r : r.errno;
  }

  /**
   * A peer's message as rsync's client prints it (log.c rwrite with ic_recv): the wire's UTF-8 converted
   * into the local charset and written as it is (control bytes but tab, and a literal "\#ddd", escaped),
   * each byte that does not convert (invalid, incomplete, or a character the charset lacks) as \#ooo.
   */
  peerText(payload: Buffer): string {
    const whole = this.fromWire(payload);
    if (Buffer.isBuffer(whole)) return filteredRaw(whole);
    let out = '';
    let run: Buffer[] = [];
    let i = 0;
    while (i < payload.length) {
      // One character at a time once the whole failed: rsync's loop escapes one byte and goes on with
      // the next, so a character that does not convert shows as each of its bytes escaped. What did
      // convert is written as one piece up to there (its escapes are judged over the piece).
      const c = payload[i]!;
      const len = c < 0x80 ? 1 : c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
      const one = len > 0 && i + len <= payload.length ? this.fromWire(payload.subarray(i, i + len)) : undefined;
      if (Buffer.isBuffer(one)) {
        run.push(one);
        i += len;
      } else {
        out += filteredRaw(Buffer.concat(run)) + octalEscape(c);
        run = [];
        i++;
      }
    }
    return out + filteredRaw(Buffer.concat(run));
  }

  /**
   * An argument -s sends through the connection (rsync's send_protected_args), or a --files-from name
   * it forwards: bytes that do not convert kept.
   */
  toWireKeepingBad(arg: Buffer): Buffer {
    const r = this.side.addon.iconvConvert(this.side.out, arg, INCLUDE_BAD | INCLUDE_INCOMPLETE);
    return Buffer.isBuffer(r) ? r : r.out;
  }

  /** A --files-from name the far side forwards under -s (rsync's read_line with RL_CONVERT): bytes that do not convert kept. */
  fromWireKeepingBad(name: Buffer): Buffer {
    const r = this.side.addon.iconvConvert(this.side.back, name, INCLUDE_BAD | INCLUDE_INCOMPLETE);
    return Buffer.isBuffer(r) ? r : r.out;
  }

  /**
   * A name a receiving server reports deleted (MSG_DELETED), as rsync's client prints it: it runs the
   * name through its ic_send where ic_recv was meant (io.c), keeping bytes that do not convert.
   */
  deleted(payload: Buffer): Buffer {
    const r = this.side.addon.iconvConvert(this.side.out, payload, INCLUDE_BAD);
    return Buffer.isBuffer(r) ? r : r.out;
  }
}
