// rsync's --chmod: comma-separated rules, each optionally limited to directories (D) or files (F),
// either octal ("D755") or symbolic like chmod(1) ("u+rwx,go-w", "Fa-x", "Dg+s"). Applied to the
// source's mode before it is written to the destination.

import { S_IFDIR, S_IFMT } from '../engine/types.js';

export interface ChmodRule {
  only?: 'D' | 'F';
  octal?: number;
  who: number; // mask of the u/g/o bits affected
  op?: '+' | '-' | '=';
  perms: string;
}

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };

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
    const m = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(s);
    if (!m) throw new Error(`invalid --chmod rule "${part}"`);
    let who = 0;
    for (const ch of m[1]!) who |= WHO[ch]!;
    rules.push({ ...(only ? { only } : {}), who: who || WHO['a']!, op: m[2] as '+' | '-' | '=', perms: m[3]! });
  }
  return rules;
}

export function applyChmod(mode: number, rules: ChmodRule[], umask = 0): number {
  const isDir = (mode & S_IFMT) === S_IFDIR;
  let perm = mode & 0o7777;
  for (const r of rules) {
    if ((r.only === 'D' && !isDir) || (r.only === 'F' && isDir)) continue;
    if (r.octal !== undefined) {
      perm = r.octal;
      continue;
    }
    let bits = 0;
    for (const ch of r.perms) {
      if (ch === 'r') bits |= 0o444;
      else if (ch === 'w') bits |= 0o222;
      else if (ch === 'x') bits |= 0o111;
      else if (ch === 'X') bits |= isDir || perm & 0o111 ? 0o111 : 0;
      else if (ch === 's') bits |= 0o6000;
      else if (ch === 't') bits |= 0o1000;
    }
    // Without u/g/o/a, chmod(1) applies the umask to what is added; rsync does the same.
    const mask = r.who === WHO['a'] ? r.who & ~umask : r.who;
    bits &= r.who === WHO['a'] && r.op !== '-' ? mask : r.who;
    if (r.op === '+') perm |= bits;
    else if (r.op === '-') perm &= ~bits;
    else perm = (perm & ~r.who) | bits;
  }
  return (mode & ~0o7777) | perm;
}
