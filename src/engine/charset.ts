// --iconv's charsets (rsync's setup_iconv and its iconvbufs callers): the four glibc iconv descriptors
// a local rsync opens, two on each side of its wire's UTF-8, and the conversions of a name that rsync
// makes on the way from the sender's charset to the receiver's and back into printed lines. The
// conversions run in the addon (native/iconv.c), whichever engine copies: Node has no iconv.

import type { Unconvertible } from '../model/listing.js';
import { loadAddon, type Addon } from './native.js';
import { showPath } from '../util/errors.js';

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

export class NameCharsets {
  private constructor(
    private readonly addon: Addon & Required<Pick<Addon, 'iconvConvert'>>,
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
  static open(spec: { local: string; remote: string }): NameCharsets | { message: string; unsupported: boolean } {
    const st = loadAddon();
    if (!st.ok) return { message: `--iconv needs the native addon (Node has no iconv): ${st.reason}. To fix: ${st.fix}`, unsupported: false };
    const a = st.addon;
    if (!a.iconvOpen || !a.iconvConvert || !a.iconvCharset) {
      return { message: `--iconv needs a native addon that converts names: ${st.path} predates it. To fix: rebuild it`, unsupported: false };
    }
    const handles: Handle[] = [];
    const sets = [spec.local, spec.remote].map((raw) => (raw === '' || raw === '.' ? a.iconvCharset!() : raw));
    for (const set of sets) {
      for (const [to, from] of [
        [WIRE, set],
        [set, WIRE],
      ] as const) {
        const h = a.iconvOpen(to, from);
        // Escaped as rsync's messages are: the charset is the operator's text.
        if (typeof h === 'number') return { message: `iconv_open("${showPath(to)}", "${showPath(from)}") failed`, unsupported: true };
        handles.push(h);
      }
    }
    const [lo, li, ro, ri] = handles as [Handle, Handle, Handle, Handle];
    // Paths are split and resolved on ASCII '/' and '.' on both sides: a charset that does not keep
    // ASCII as it is (UTF-16, EBCDIC...) would turn names into other paths, so it is refused.
    for (const [h, set] of [
      [lo, sets[0]!],
      [li, sets[0]!],
      [ro, sets[1]!],
      [ri, sets[1]!],
    ] as const) {
      const out = a.iconvConvert(h, ASCII);
      if (!Buffer.isBuffer(out) || !out.equals(ASCII)) {
        return { message: `--iconv: the charset "${showPath(set)}" does not keep ASCII names as they are (a '/' would not stay a '/')`, unsupported: false };
      }
    }
    return new NameCharsets(a as Addon & Required<Pick<Addon, 'iconvConvert'>>, lo, li, ro, ri, sets[0]!, sets[1]!);
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
