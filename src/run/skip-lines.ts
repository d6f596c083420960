// rsync's --info=skip lines (generator.c's recv_generator): why an entry that an option leaves alone is
// left — --existing ("not creating new file"), --ignore-existing ("X exists", and at skip2 what the
// quick check would have found), -u ("X is newer"), --max-size/--min-size. Level 1 comes with -vv.

import { fileType, type FileType, type Stat } from '../model/stat.js';
import { quickCheck } from '../plan/quickcheck.js';
import { showPath } from '../util/errors.js';
import type { RunContext } from './context.js';
import { receiverOutput } from '../model/config.js';

/** An entry that --existing, --ignore-existing or -u leaves alone. */
export function skipLine(
  rc: RunContext,
  e: { src: Buffer; rel: Buffer; st: Stat; destSt: Stat | undefined; display: Buffer | undefined },
  kind: FileType,
  why: 'missing' | 'exists' | 'newer',
  linkDiffers: boolean,
): void {
  const c = rc.c;
  if (receiverOutput(c).info.SKIP < 1 || c.json) return;
  const name = e.display ? showPath(e.display) : rc.lines.generatorName(e.rel);
  if (why === 'missing') {
    rc.reporter.print(`not creating new ${kind === 'dir' ? 'directory' : 'file'} "${name}"`);
    return;
  }
  if (why === 'newer') {
    rc.reporter.print(`${name} is newer`);
    return;
  }
  rc.reporter.print(`${name} exists${receiverOutput(c).info.SKIP > 1 ? existsSuffix(rc, e, linkDiffers) : ''}`);
}

/** rsync's skip2 detail of "X exists": what replacing it would have changed. */
function existsSuffix(rc: RunContext, e: { src: Buffer; rel: Buffer; st: Stat; destSt: Stat | undefined }, linkDiffers: boolean): string {
  const dst = e.destSt;
  if (!dst || fileType(dst.mode) !== fileType(e.st.mode)) return ' (type change)';
  const v = quickCheck(e.st, dst, { ...rc.spec.check, ignoreExisting: false, existing: false, update: false }, linkDiffers);
  const changed = v.action === 'compare' ? !rc.dest.contentEqual(e.src, e.rel, e.st.size) : v.action === 'transfer' || v.action === 'create';
  if (changed) return rc.c.checksum ? ' (sum change)' : ' (file change)';
  return v.action === 'attrs' ? ' (attr change)' : ' (uptodate)';
}

/** A regular file outside --max-size/--min-size. */
export function sizeSkipLine(rc: RunContext, rel: Buffer, display: Buffer | undefined, over: boolean): void {
  if (receiverOutput(rc.c).info.SKIP < 1 || rc.c.json) return;
  rc.reporter.print(`${display ? showPath(display) : rc.lines.generatorName(rel)} is ${over ? 'over max' : 'under min'}-size`);
}
