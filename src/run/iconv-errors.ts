// --iconv's failures in rsync's words: a name, or a symlink's target, that one side cannot convert. The
// entry is left out and counted as an I/O error (exit 23, and no deletions), as rsync's io_error does.
// The sender names what it could not convert as the client prints names; the receiver's message comes
// from rsync's server, which escapes every byte outside printable ASCII.

import { resolve as resolvePath } from 'node:path';
import type { Unconvertible } from '../model/listing.js';
import { errnoText, showPath } from '../util/errors.js';
import { escapeAscii, joinPath } from '../util/names.js';
import type { RunContext } from './context.js';

/** A source name (`srcRel`: its path from the transfer root, as the source spells it) that cannot be converted. */
export function unconvertibleName(rc: RunContext, srcRel: Buffer, u: Unconvertible): void {
  const shown = u.side === 'sender' ? showPath(srcRel) : escapeAscii(rc.charsets ? rc.charsets.wire(srcRel) : srcRel);
  rc.tally.xferError(srcRel, `[${u.side}] cannot convert filename: ${shown} (${errnoText(u.errno)})`);
}

/**
 * A symlink's target converted for the op (model/ops.ts targetParts), or undefined, reported, when one
 * side cannot convert it: rsync names the link by its full path (full_fname), the source's on the
 * sender, the destination's on the receiver.
 */
export function convertedTarget(rc: RunContext, src: Buffer, rel: Buffer, raw: Buffer): Buffer | undefined {
  const t = rc.charsets!.linkTarget(raw);
  if (Buffer.isBuffer(t)) return t;
  const where =
    t.side === 'sender'
      ? showPath(Buffer.from(resolvePath(src.toString('latin1')), 'latin1'))
      : escapeAscii(joinPath(rc.plan.destRoot, rel));
  rc.tally.xferError(src, `[${t.side}] cannot convert symlink data for: "${where}" (${errnoText(t.errno)})`);
  return undefined;
}
