// Names are bytes end to end. These helpers join and print them without ever decoding a name that is
// not valid UTF-8 into replacement characters.

const SLASH = 0x2f;

/** Join two path byte strings with one slash; an empty side yields the other. */
export function joinPath(a: Buffer, b: Buffer): Buffer {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  if (a[a.length - 1] === SLASH) return Buffer.concat([a, b]);
  return Buffer.concat([a, Buffer.of(SLASH), b]);
}

/** Escape a name for a terminal the way rsync does: control bytes and invalid UTF-8 as \#ooo. */
export function escapeName(name: Buffer): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name[i]!;
    if (c < 0x20 || c === 0x7f) {
      out += `\\#${c.toString(8).padStart(3, '0')}`;
      i++;
      continue;
    }
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    const len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    let ok = len > 0 && i + len <= name.length;
    for (let k = 1; ok && k < len; k++) ok = (name[i + k]! & 0xc0) === 0x80;
    if (ok) {
      const s = name.subarray(i, i + len).toString('utf8');
      ok = !s.includes('\ufffd');
      if (ok) {
        out += s;
        i += len;
        continue;
      }
    }
    out += `\\#${c.toString(8).padStart(3, '0')}`;
    i++;
  }
  return out;
}

/** The last component of a path (no trailing slashes). */
export function baseName(p: Buffer): Buffer {
  let end = p.length;
  while (end > 1 && p[end - 1] === SLASH) end--;
  const start = p.lastIndexOf(SLASH, end - 1) + 1;
  return p.subarray(start, end);
}

/** Everything before the last component ("" when there is none). */
export function dirName(p: Buffer): Buffer {
  let end = p.length;
  while (end > 1 && p[end - 1] === SLASH) end--;
  const slash = p.lastIndexOf(SLASH, end - 1);
  if (slash < 0) return Buffer.alloc(0);
  if (slash === 0) return Buffer.from('/');
  return p.subarray(0, slash);
}

export const hasTrailingSlash = (p: Buffer): boolean => p.length > 0 && p[p.length - 1] === SLASH;
