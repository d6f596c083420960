// rsync's --out-format escapes (also what -i and -v print: -i is "%i %n%L", -v is "%n%L").
// Supported: %n %f %i %l %L %b %o %M %B %U %G %p %t %%, with rsync's width and ' (thousands) modifiers.

export interface LineInfo {
  /** 11-letter itemize string, or "*deleting" for deletions. */
  itemize: string;
  /** Display name relative to the transfer root, escaped; directories end in "/". */
  name: string;
  /** The source-side path (for %f). */
  fullName: string;
  /** " -> target" for symlinks, " => leader" for hard links, else "". */
  suffix: string;
  size: number;
  /** Data bytes written for this entry. */
  bytes: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  /** rsync's %o: a local copy's client is the sender ("send"), deletions are "del.". */
  op: 'send' | 'recv' | 'del.';
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
export function validateFormat(fmt: string): string | undefined {
  const re = /%('*-?\d*'*)([a-zA-Z%])/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(fmt))) {
    if (!'nfilLboMBUGpt%'.includes(m[2]!)) return `--out-format: unsupported escape %${m[2]}`;
  }
  return undefined;
}

/**
 * Whether a format uses escape `ch` the way rsync scans for it: "%%" is a literal percent, so "%%i" is no
 * %i (and a format without %i prints like -v, not like -i).
 */
export function formatHas(fmt: string, ch: string): boolean {
  for (const m of fmt.matchAll(/%'*-?\d*'*([^'\d-]|$)/g)) {
    if (m[1] === ch) return true;
  }
  return false;
}

export function formatLine(fmt: string, i: LineInfo): string {
  // rsync takes the ' (thousands) modifier before or after the width.
  return fmt.replace(/%('*)(-?)(\d*)('*)([a-zA-Z%])/g, (_all, q1: string, left: string, width: string, q2: string, ch: string) => {
    const quote = q1 + q2;
    let v: string;
    switch (ch) {
      case '%': return '%';
      case 'n': v = i.name; break;
      case 'f': v = i.fullName; break;
      case 'i': v = i.itemize; break;
      case 'l': v = quote ? commas(i.size) : String(i.size); break;
      case 'b': v = quote ? commas(i.bytes) : String(i.bytes); break;
      case 'L': v = i.suffix; break;
      case 'o': v = i.op; break;
      case 'M': v = stamp(new Date(i.mtimeSec * 1000), '-'); break;
      case 't': v = stamp(new Date(), ' '); break;
      case 'B': v = permString(i.mode); break;
      case 'U': v = String(i.uid); break;
      case 'G': v = String(i.gid); break;
      case 'p': v = String(process.pid); break;
      default: v = `%${ch}`;
    }
    if (!left && !width) return v;
    // rsync formats a padded escape into a MAXPATHLEN buffer: a huge width is cut there, not allocated.
    const w = Math.min(Number(width || 0), PADDED_MAX);
    return (left ? v.padEnd(w) : v.padStart(w)).slice(0, PADDED_MAX);
  });
}

/** rsync's buffer for one padded --out-format escape (MAXPATHLEN, less its NUL). */
const PADDED_MAX = 4095;
