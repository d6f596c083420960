// rsync's item flags (rsync.h ITEM_*), which a receiving server sends with each file index, and the
// 11-letter -i string a sending client prints from them (log.c's %i). A push decides nothing itself:
// the far side's generator says what changed, this turns its word into rsync's line.

import { isDevice, isDir, isLink, isSpecial } from './flist.js';

export const Item = {
  ReportAtime: 1 << 0,
  ReportChange: 1 << 1,
  ReportSize: 1 << 2,
  ReportTimefail: 1 << 2,
  ReportTime: 1 << 3,
  ReportPerms: 1 << 4,
  ReportOwner: 1 << 5,
  ReportGroup: 1 << 6,
  ReportAcl: 1 << 7,
  ReportXattr: 1 << 8,
  ReportCrtime: 1 << 10,
  BasisTypeFollows: 1 << 11,
  XnameFollows: 1 << 12,
  IsNew: 1 << 13,
  LocalChange: 1 << 14,
  Transfer: 1 << 15,
} as const;

/** The flags that make an item worth a line (rsync's SIGNIFICANT_ITEM_FLAGS). */
export const significant = (iflags: number): number => iflags & ~(Item.BasisTypeFollows | Item.XnameFollows | Item.LocalChange);

export interface ItemizeContext {
  /** The client sends (a push): a transfer is '<'. */
  sending: boolean;
  times: boolean;
  /** The peer sets symlink times (compat flag L both ways). */
  symlinkTimes: boolean;
}

export function itemizeFlags(iflags: number, mode: number, x: ItemizeContext): string {
  const c: string[] = [];
  c[0] = iflags & Item.LocalChange ? (iflags & Item.XnameFollows ? 'h' : 'c') : !(iflags & Item.Transfer) ? '.' : x.sending ? '<' : '>';
  if (isLink(mode)) {
    c[1] = 'L';
    c[3] = '.';
    c[4] = !(iflags & Item.ReportTime) ? '.' : !x.times || !x.symlinkTimes || iflags & Item.ReportTimefail ? 'T' : 't';
  } else {
    c[1] = isDir(mode) ? 'd' : isSpecial(mode) ? 'S' : isDevice(mode) ? 'D' : 'f';
    c[3] = iflags & Item.ReportSize ? 's' : '.';
    c[4] = !(iflags & Item.ReportTime) ? '.' : !x.times ? 'T' : 't';
  }
  c[2] = iflags & Item.ReportChange ? 'c' : '.';
  c[5] = iflags & Item.ReportPerms ? 'p' : '.';
  c[6] = iflags & Item.ReportOwner ? 'o' : '.';
  c[7] = iflags & Item.ReportGroup ? 'g' : '.';
  const at = iflags & Item.ReportAtime;
  const cr = iflags & Item.ReportCrtime;
  c[8] = !(at || cr) ? '.' : at && cr ? 'b' : at ? 'u' : 'n';
  c[9] = iflags & Item.ReportAcl ? 'a' : '.';
  c[10] = iflags & Item.ReportXattr ? 'x' : '.';
  if (iflags & Item.IsNew) for (let i = 2; i < 11; i++) c[i] = '+';
  else if (c[0] === '.' || c[0] === 'h' || c[0] === 'c') {
    if (c.slice(2).every((ch) => ch === '.')) for (let i = 2; i < 11; i++) c[i] = ' ';
  }
  return c.join('');
}
