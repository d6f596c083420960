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
  const isDir = (mode & S_IFMT) === S_IFDIR;
  let perm = mode & 0o7777;
  for (const r of rules) {
    if ((r.only === 'D' && !isDir) || (r.only === 'F' && isDir)) continue;
    if (r.octal !== undefined) {
      perm = r.octal;
      continue;
    }
    // rsync's mode_copy_bits(): the source class's rwx as they were before this rule, spread over the
    // classes it names (without u/g/o/a: all three, through the umask).
    const copied = r.copy === undefined ? 0 : ((perm >> r.copy) & 7) * ((r.who & 0o777) / 7) & (r.implicit ? ~umask : 0o7777);
    let bits = 0;
    for (const ch of r.perms) {
      if (ch === 'r') bits |= 0o444;
      else if (ch === 'w') bits |= 0o222;
      else if (ch === 'x') bits |= 0o111;
      else if (ch === 'X') bits |= isDir || perm & 0o111 ? 0o111 : 0;
      else if (ch === 's') bits |= 0o6000;
      else if (ch === 't') bits |= 0o1000;
    }
    if (r.implicit) {
      // rsync's chmod.c: without u/g/o/a the rwx bits are filtered through the umask whatever the op,
      // "s" means setuid only, and "=" leaves the setuid/setgid/sticky bits alone.
      bits = (bits & 0o777 & ~umask) | (r.perms.includes('s') ? 0o4000 : 0) | (bits & 0o1000);
      if (r.op === '+') perm |= bits;
      else if (r.op === '-') perm &= ~bits;
      // "=" copying bits also clears the special bits of the classes it sets (mode_dest_special_bits).
      else perm = (perm & ~(r.copy === undefined ? 0o777 : 0o7777)) | bits;
      perm = r.op === '-' ? perm & ~copied : perm | copied;
      continue;
    }
    bits &= r.who;
    if (r.op === '+') perm |= bits;
    else if (r.op === '-') perm &= ~bits;
    else perm = (perm & ~r.who) | bits;
    perm = r.op === '-' ? perm & ~copied : perm | copied;
  }
  return (mode & ~0o7777) | perm;
}
