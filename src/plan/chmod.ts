// rsync's --chmod: comma-separated rules, each optionally limited to directories (D) or files (F),
// either octal ("D755") or symbolic like chmod(1) ("u+rwx,go-w", "Fa-x", "Dg+s"). Applied to the
// source's mode before it is written to the destination.

import type { ChmodRule } from '../model/config.js';
import { S_IFDIR, S_IFMT } from '../model/stat.js';

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };
/** The class a rule copies from: how far its rwx bits sit from the bottom. */
const COPY: Record<string, number> = { u: 6, g: 3, o: 0 };

export function parseChmod(spec: string): ChmodRule[] {
  const rules: ChmodRule[] = [];
  for (const part of spec.split(',')) {
    let s = part;
    let only: 'D' | 'F' | undefined;
    if (s[0] === 'D' || s[0] === 'F') {
      only = s[0];
      s = s.slice(1);
    }
    if (/^[0-7]{1,4}$/.test(s)) {
      rules.push({ ...(only ? { only } : {}), octal: parseInt(s, 8), who: 0o7777, perms: '' });
      continue;
    }
    // rsync 3.5 also copies one class's bits to others ("g=o", "a+u"), as chmod(1) does.
    const m = /^([ugoa]*)([-+=])([rwxXst]*|[ugo])$/.exec(s);
    if (!m) throw new Error(`invalid --chmod rule "${part}"`);
    let who = 0;
    for (const ch of m[1]!) who |= WHO[ch]!;
    const copy = COPY[m[3]!];
    rules.push({
      ...(only ? { only } : {}),
      who: who || WHO['a']!,
      ...(who ? {} : { implicit: true }),
      op: m[2] as '+' | '-' | '=',
      perms: copy === undefined ? m[3]! : '',
      ...(copy === undefined ? {} : { copy }),
    });
  }
  return rules;
}

export function applyChmod(mode: number, rules: ChmodRule[], umask = 0): number {
  // rsync's tweak_mode(): each rule is an AND mask, an OR mask and the bits it copies from a class, as
  // its parse_chmod() builds them; X looks at the mode the file had before any rule (IsX).
  const isDir = (mode & S_IFMT) === S_IFDIR;
  const wasX = mode & 0o111;
  let perm = mode & 0o7777;
  for (const r of rules) {
    if ((r.only === 'D' && !isDir) || (r.only === 'F' && isDir)) continue;
    const m = compiled(r, umask);
    const copied = copyBits(perm, m);
    perm &= m.and;
    perm |= m.keepX && !wasX && !isDir ? m.or & ~0o111 : m.or;
    perm = r.op === '-' ? perm & ~copied : perm | copied;
  }
  return (mode & ~0o7777) | perm;
}

interface Compiled {
  and: number;
  or: number;
  /** The classes the rule copies from (rsync's 0100/0010/0001), and to (its "where"). */
  copySrc: number;
  copyDst: number;
  copyAnd: number;
  keepX: boolean;
}

/** rsync's parse_chmod() for one rule: its masks. */
function compiled(r: ChmodRule, umask: number): Compiled {
  if (r.octal !== undefined) return { and: 0, or: r.octal, copySrc: 0, copyDst: 0, copyAnd: 0o7777, keepX: false };
  // "where": one bit per class named (0100 u, 0010 g, 0001 o); "topbits": the set-id bits s means for them.
  const who = r.implicit ? 0 : r.who;
  const specified = (who & 0o700 ? 0o100 : 0) | (who & 0o070 ? 0o010 : 0) | (who & 0o007 ? 0o001 : 0);
  const topbits = who & 0o6000;
  let what = 0;
  let topoct = 0;
  for (const ch of r.perms) {
    if (ch === 'r') what |= 4;
    else if (ch === 'w') what |= 2;
    else if (ch === 'x' || ch === 'X') what |= 1;
    else if (ch === 's') topoct |= topbits || 0o4000;
    else if (ch === 't') topoct |= 0o1000;
  }
  const where = specified || 0o111;
  const bits = specified ? where * what : (where * what) & ~umask;
  const copySrc = r.copy === undefined ? 0 : 1 << r.copy;
  const copyAnd = specified ? 0o7777 : ~umask & 0o7777;
  const keepX = r.perms.includes('X');
  const base = { copySrc, copyDst: where, copyAnd, keepX };
  if (r.op === '+') return { ...base, and: 0o7777, or: bits + topoct };
  if (r.op === '-') return { ...base, and: 0o7777 - bits - topoct, or: 0 };
  // "=": the rwx bits of the classes named, and the set-id bits only where s or t, or a copy, sets them.
  const special = copySrc ? (where & 0o100 ? 0o4000 : 0) | (where & 0o010 ? 0o2000 : 0) | (where & 0o001 ? 0o1000 : 0) : 0;
  return { ...base, and: 0o7777 - where * 7 - (topoct ? topbits : 0) - special, or: bits + topoct };
}

/** rsync's mode_copy_bits(): the source classes' rwx bits (of the mode as it is now), spread over the rule's classes. */
function copyBits(perm: number, m: Compiled): number {
  let b = 0;
  if (m.copySrc & 0o100) b |= (perm >> 6) & 7;
  if (m.copySrc & 0o010) b |= (perm >> 3) & 7;
  if (m.copySrc & 0o001) b |= perm & 7;
  return (m.copyDst * b) & m.copyAnd;
}
