// rsync's --out-format escapes (also what -i and -v print: -i is "%i %n%L", -v is "%n%L").
// Supported: %n %f %i %l %L %b %c %o %M %B %U %G %p %t %C %m %%, with rsync's width and ' (thousands)
// modifiers; any other letter stays as written, as rsync leaves it (%a %h %P %u are its daemon's).

export interface LineInfo {
  /** 11-letter itemize string, or "*deleting" for deletions. */
  itemize: string;
  /** Display name relative to the transfer root, escaped; directories end in "/". */
  name: string;
  /** --iconv: the name as rsync's generator prints it in its own messages (raw bytes), when not `name`. */
  generatorName?: string;
  /** The source-side path (for %f). */
  fullName: string;
  /** " -> target" for symlinks, " => leader" for hard links, else "". */
  suffix: string;
  size: number;
  /** Data bytes written for this entry. */
  bytes: number;
  /**
   * rsync's %b when it differs from `bytes`: what rsync's protocol stream carried for the entry (a local
   * copy's transferred file: its data and the stream's own bytes, run/wire-bytes.ts; anything else: 0).
   */
  wire?: number;
  /**
   * rsync's %c for a transferred file: what its sender read for it, the generator's checksum header and
   * block sums (0 for anything else).
   */
  read?: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  /** rsync's %o: a local copy's client is the sender ("send"), deletions are "del.". */
  op: 'send' | 'recv' | 'del.';
  /** rsync's %C: the whole-file checksum in hex, or blanks of its width when it is not known. */
  sum?: string;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

function stamp(d: Date, sep: string): string {
  return `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())}${sep}${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function permString(mode: number): string {
  const r = (bit: number, ch: string): string => (mode & bit ? ch : '-');
  const x = (exec: number, special: number, set: string, unset: string): string =>
    mode & special ? (mode & exec ? set : unset) : mode & exec ? 'x' : '-';
  return (
    r(0o400, 'r') + r(0o200, 'w') + x(0o100, 0o4000, 's', 'S') +
    r(0o040, 'r') + r(0o020, 'w') + x(0o010, 0o2000, 's', 'S') +
    r(0o004, 'r') + r(0o002, 'w') + x(0o001, 0o1000, 't', 'T')
  );
}

const commas = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Check a format before the run: unknown escapes are a usage error, as in rsync. */
/**
 * Whether a format uses escape `ch` the way rsync scans for it: "%%" is a literal percent, so "%%i" is no
 * %i (and a format without %i prints like -v, not like -i). The same scan as formatLine's, so the two
 * never disagree on where an escape letter is.
 */
export function formatHas(fmt: string, ch: string): boolean {
  for (const e of escapes(fmt)) if (e.ch === ch) return true;
  return false;
}

/** One "%" of a format as rsync's log_formatted() reads it. */
interface Escape {
  /** Where the "%" is, and where the escape's letter is (the format's length when it ends first). */
  start: number;
  at: number;
  ch: string | undefined;
  quote: string;
  left: string;
  width: string;
}

/**
 * rsync's scan (not a regex): the ' (thousands) modifier before or after the width, and the width cut
 * where its 32-byte format buffer ends (the digits past it are no escape: they stay as written, and the
 * scan goes on from there, so "%000…0%C" still expands %C).
 */
function* escapes(fmt: string): Generator<Escape> {
  let at = 0;
  for (;;) {
    const start = fmt.indexOf('%', at);
    if (start < 0) return;
    let p = start + 1;
    let quote = '';
    while (fmt[p] === "'") quote += fmt[p++];
    const left = fmt[p] === '-' ? fmt[p++]! : '';
    let width = '';
    while (p < fmt.length && fmt[p]! >= '0' && fmt[p]! <= '9' && left.length + width.length < WIDTH_MAX) width += fmt[p++];
    while (fmt[p] === "'") quote += fmt[p++];
    const ch = p < fmt.length && !(fmt[p]! >= '0' && fmt[p]! <= '9') ? fmt[p] : undefined;
    yield { start, at: p, ch, quote, left, width };
    if (p >= fmt.length) return;
    at = ch === undefined ? p : p + 1;
  }
}

export function formatLine(fmt: string, i: LineInfo): string {
  let out = '';
  let at = 0;
  for (const e of escapes(fmt)) {
    out += fmt.slice(at, e.start);
    const v = e.ch === undefined ? undefined : escapeValue(e.ch, e.quote, i);
    if (v === undefined) {
      // No escape: the text stays as written (the scan goes on after it).
      out += fmt.slice(e.start, e.at);
      at = e.at;
      continue;
    }
    at = e.at + 1;
    if (!e.left && !e.width) {
      out += v;
      continue;
    }
    // rsync formats a padded escape into a MAXPATHLEN buffer: a huge width is cut there, not allocated.
    const w = Math.min(Number(e.width || 0), PADDED_MAX);
    out += (e.left ? v.padEnd(w) : v.padStart(w)).slice(0, PADDED_MAX);
  }
  return out + fmt.slice(at);
}

/** The digits (and "-") of a width that fit rsync's format buffer beside its "%" and conversion. */
const WIDTH_MAX = 23;

/** One escape's text, or undefined when the character is no escape (the text is then left as written). */
function escapeValue(ch: string, quote: string, i: LineInfo): string | undefined {
  let v: string;
  switch (ch) {
    case '%': v = '%'; break;
    case 'n': v = i.name; break;
    case 'f': v = i.fullName; break;
    case 'i': v = i.itemize; break;
    case 'l': v = quote ? commas(i.size) : String(i.size); break;
    case 'b': v = quote ? commas(i.wire ?? i.bytes) : String(i.wire ?? i.bytes); break;
    case 'c': v = quote ? commas(i.read ?? 0) : String(i.read ?? 0); break;
    // The module's name: none outside rsync's daemon.
    case 'm': v = ''; break;
    case 'L': v = i.suffix; break;
    case 'o': v = i.op; break;
    case 'M': v = stamp(new Date(i.mtimeSec * 1000), '-'); break;
    case 't': v = stamp(new Date(), ' '); break;
    case 'B': v = permString(i.mode); break;
    case 'U': v = String(i.uid); break;
    case 'G': v = String(i.gid); break;
    case 'p': v = String(process.pid); break;
    case 'C': v = i.sum ?? ''; break;
    default: return undefined;
  }
  return v;
}

/** rsync's buffer for one padded --out-format escape (MAXPATHLEN, less its NUL). */
const PADDED_MAX = 4095;
