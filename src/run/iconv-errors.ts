// --iconv's failures in rsync's words: a name, or a symlink's target, that one side cannot convert. The
// entry is left out and counted as an I/O error (exit 23, and no deletions), as rsync's io_error does.
// The sender names what it could not convert as the client prints names; the receiver's message comes
// from rsync's server, which escapes every byte outside printable ASCII.

import { resolve as resolvePath } from 'node:path';
import type { NameCharsets } from '../engine/charset.js';
import type { Unconvertible } from '../model/listing.js';
import { errnoText, showPath } from '../util/errors.js';
import { escapeAscii } from '../util/names.js';
import type { RunContext } from './context.js';

/** rsync's message for a source name (`srcRel`: its path from the transfer root as the source spells it). */
export function nameMessage(charsets: NameCharsets, srcRel: Buffer, u: Unconvertible): string {
  const shown = u.side === 'sender' ? showPath(srcRel) : escapeAscii(charsets.wire(srcRel));
  return `[${u.side}] cannot convert filename: ${shown} (${errnoText(u.errno)})`;
}

/**
 * rsync's message for a link's target: it names the link by its full path (full_fname), the source's on
 * the sender; on the receiver the destination's name under the directory it is in when it reads the
 * list, the one it started in (`destRel`, relative to the transfer root, resolved from the working
 * directory: rsync 3.5 without incremental recursion).
 */
export function targetMessage(src: Buffer, destRel: Buffer, u: Unconvertible): string {
  const abs = (p: Buffer): Buffer => Buffer.from(resolvePath(p.toString('latin1')), 'latin1');
  const where = u.side === 'sender' ? showPath(abs(src)) : escapeAscii(abs(destRel));
  return `[${u.side}] cannot convert symlink data for: "${where}" (${errnoText(u.errno)})`;
}

/** A source name that cannot be converted, reported. */
export function unconvertibleName(rc: RunContext, srcRel: Buffer, u: Unconvertible): void {
  rc.tally.xferError(srcRel, nameMessage(rc.charsets!, srcRel, u));
}

/** A symlink's target converted for the op (model/ops.ts targetParts), or undefined, reported, when one side cannot convert it. */
export function convertedTarget(rc: RunContext, src: Buffer, rel: Buffer, raw: Buffer): Buffer | undefined {
  const t = rc.charsets!.linkTarget(raw);
  if (Buffer.isBuffer(t)) return t;
  rc.tally.xferError(src, targetMessage(src, rel, t));
  return undefined;
}
