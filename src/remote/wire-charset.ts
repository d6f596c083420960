// What the protocol layer converts names through under --iconv: this client's charset around the
// wire's UTF-8 (engine/charset.ts ClientCharset implements it over the addon; the CLI hands it in). A
// leaf, so the file-list codecs and the message sink can take it without importing iconv-wire.ts.

/** This client's charset around the wire's UTF-8; a failed conversion is iconv(3)'s errno. */
export interface WireCharset {
  /** The charset in use (the locale's when given as "" or "."). */
  readonly charset: string;
  toWire(local: Buffer): Buffer | number;
  fromWire(wire: Buffer): Buffer | number;
  /** A peer's message as rsync's client prints it under --iconv (text for util/names.ts outputBytes). */
  peerText(payload: Buffer): string;
  /** A name a receiving server reports deleted, as rsync's client prints it. */
  deleted(payload: Buffer): Buffer;
  /** An argument, or a --files-from name, sent under -s: converted, bytes that do not convert kept. */
  toWireKeepingBad(arg: Buffer): Buffer;
  /** A --files-from name the far side forwards under -s: converted, bytes that do not convert kept. */
  fromWireKeepingBad(name: Buffer): Buffer;
}
