// Names are bytes end to end. These helpers join and print them without ever decoding a name that is
// not valid UTF-8 into replacement characters.

import { spawnSync } from 'node:child_process';

const SLASH = 0x2f;

/** Join two path byte strings with one slash; an empty side yields the other. */
export function joinPath(a: Buffer, b: Buffer): Buffer {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  // Once per entry of the walk (twice: source and destination path): one allocation, no array of parts.
  const sep = a[a.length - 1] === SLASH ? 0 : 1;
  const out = Buffer.allocUnsafe(a.length + sep + b.length);
  a.copy(out, 0);
  if (sep) out[a.length] = SLASH;
  b.copy(out, a.length + sep);
  return out;
}

/**
 * -8 (--8-bit-output): bytes that are not valid UTF-8 are printed as they are instead of as \#ooo. Set
 * once by the CLI before anything is printed, like rsync's global of the same meaning.
 */
let eightBit = false;
export function setEightBitOutput(on: boolean): void {
  eightBit = on;
}

/**
 * rsync prints a byte as it is only when the locale's character type calls it printable (isprint, or
 * mbrtowc in a multibyte locale): in the C/POSIX locale no byte at or above 0x80 is, so every non-ASCII
 * byte is escaped without -8. Set once by the CLI from the environment, as rsync's setlocale(LC_CTYPE, "").
 */
let localeName: string | undefined = 'C.UTF-8';
let utf8Known: boolean | undefined;
export function setOutputLocale(env: NodeJS.ProcessEnv): void {
  // setlocale()'s order: LC_ALL, then LC_CTYPE, then LANG; unset or empty is the C locale.
  localeName = [env['LC_ALL'], env['LC_CTYPE'], env['LANG']].find((v) => v !== undefined && v !== '');
  utf8Known = undefined;
}

/** Is the output locale a UTF-8 one that exists here (glibc falls back to C for one not installed)? */
function utf8Locale(): boolean {
  if (utf8Known !== undefined) return utf8Known;
  const name = localeName ?? 'C';
  const m = /^([^.@]*)\.(utf-?8)(@.*)?$/i.exec(name);
  utf8Known = false;
  if (!m) return false;
  // The C.UTF-8 locale is built into glibc; any other must be installed (`locale -a` names it with the
  // codeset normalised: en_US.UTF-8 is en_US.utf8). Asked once, and only when a name needs it.
  if (m[1] === 'C' || m[1] === 'POSIX') return (utf8Known = true);
  const r = spawnSync('locale', ['-a'], { encoding: 'utf8', timeout: 5000 });
  const want = `${m[1]}.utf8${m[3] ?? ''}`;
  utf8Known = r.status !== 0 || r.stdout.split('\n').includes(want);
  return utf8Known;
}

// Under -8 a raw byte travels inside the output string as a lone surrogate (U+DC80..U+DCFF, which no
// decoded name can contain) and becomes the byte again in outputBytes(), where the line is written.
const RAW_BASE = 0xdc00;

const octal = (c: number): string => `\\#${c.toString(8).padStart(3, '0')}`;
/** A byte as rsync escapes it in printed text: \#ooo. */
export const octalEscape = octal;
const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/**
 * Escape a name for a terminal the way rsync does: control bytes but tab, and (without -8) invalid UTF-8, as
 * \#ooo; the backslash of a literal "\#ddd" in a name too, so every escape in the output is unambiguous.
 */
export function escapeName(name: Buffer): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name[i]!;
    // rsync's filtered_fwrite() in a UTF-8 locale: bytes below space except tab (DEL passes too).
    if (c < 0x20 && c !== 0x09) {
      out += octal(c);
      i++;
      continue;
    }
    if (c === 0x5c && name[i + 1] === 0x23 && isDigit(name[i + 2]) && isDigit(name[i + 3]) && isDigit(name[i + 4])) {
      out += octal(c);
      i++;
      continue;
    }
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    const len = !utf8Locale() ? 0 : c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
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
    out += eightBit ? String.fromCharCode(RAW_BASE + c) : octal(c);
    i++;
  }
  return out;
}

/**
 * A name as rsync's server escapes it before sending a message (it checks bytes with isprint(), with
 * no charset of its own): every byte outside printable ASCII as \#ooo.
 */
export function escapeAscii(name: Buffer): string {
  let out = '';
  for (const c of name) out += c < 0x20 || c >= 0x7f ? octal(c) : String.fromCharCode(c);
  return out;
}

/**
 * A name printed as its bytes whatever the locale (control bytes still escaped): how rsync prints the
 * names in messages its receiver sends under --iconv, converted back into the sender's charset.
 */
export function rawName(name: Buffer): string {
  let out = '';
  for (const c of name) out += c < 0x20 ? octal(c) : c < 0x80 ? String.fromCharCode(c) : String.fromCharCode(RAW_BASE + c);
  return out;
}

/**
 * Text in the local charset as rsync's filtered_fwrite writes it without isprint() (a message converted
 * by --iconv): control bytes but tab, and the backslash of a literal "\#ddd", escaped; every other byte
 * as it is, whatever the locale (raw bytes for outputBytes).
 */
export function filteredRaw(text: Buffer): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const literal = c === 0x5c && i < text.length - 4 && text[i + 1] === 0x23 && isDigit(text[i + 2]) && isDigit(text[i + 3]) && isDigit(text[i + 4]);
    if (literal || (c < 0x20 && c !== 0x09)) out += octal(c);
    else out += c < 0x80 ? String.fromCharCode(c) : String.fromCharCode(RAW_BASE + c);
  }
  return out;
}

/** A line for a stream: a string, or bytes when it carries raw name bytes (-8, or rawName's). */
export function outputBytes(line: string): string | Buffer {
  if (!/[\udc80-\udcff]/.test(line)) return line;
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < line.length; i++) {
    const u = line.charCodeAt(i);
    // A lone low surrogate: not preceded by a high one.
    if (u >= 0xdc80 && u <= 0xdcff && !(i > 0 && line.charCodeAt(i - 1) >= 0xd800 && line.charCodeAt(i - 1) <= 0xdbff)) {
      parts.push(Buffer.from(line.slice(start, i), 'utf8'), Buffer.of(u - RAW_BASE));
      start = i + 1;
    }
  }
  parts.push(Buffer.from(line.slice(start), 'utf8'));
  return Buffer.concat(parts);
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

/**
 * A path named from the root as rsync's full_fname() names it: the working directory, a slash and the
 * path as given (not normalised); an absolute path as it is.
 */
export function absolutePath(p: Buffer): Buffer {
  if (p[0] === 0x2f) return p;
  return Buffer.concat([Buffer.from(process.cwd() + '/', 'latin1'), p]);
}
