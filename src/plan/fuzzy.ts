// rsync's --fuzzy basis choice (generator.c find_fuzzy, util1.c fuzzy_distance and
// find_filename_suffix), as pure functions over names and sizes: for a file the destination lacks, a
// regular, non-empty file of the same size and mtime in its directory, else the one whose name is
// closest (a weighted Levenshtein distance, the suffixes counted ten times).

/** One candidate of a directory listing, in rsync's file-list order. */
export interface FuzzyCandidate {
  name: Buffer;
  /** What rsync prints for it (f_name: its directory and name). */
  shown: string;
  size: number;
  mtimeSec: number;
}

/** rsync's FUZZY debug lines and the basis chosen (undefined: none close enough). */
export interface FuzzyChoice {
  basis: FuzzyCandidate | undefined;
  /** --debug=FUZZY2's lines, in rsync's order. */
  traces: string[];
}

const UNIT = 1 << 16;
const DOT = 0x2e;
const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;

/** The significant suffix of a file name (".gz", not ".bak"/".old"/".orig" or a "~N~" backup's), or empty. */
export function filenameSuffix(name: Buffer): Buffer {
  let start = 0;
  let len = name.length;
  // Leading dots are not a suffix.
  while (len > 0 && name[start] === DOT) {
    start++;
    len--;
  }
  let hadTilde = false;
  if (len > 1 && name[start + len - 1] === 0x7e) {
    len--;
    hadTilde = true;
  }
  let suf: Buffer = Buffer.alloc(0);
  let s = start + len;
  while (len > 1) {
    do s--;
    while (name[s] !== DOT && s !== start);
    if (s === start) break;
    const sLen = len - (s - start);
    len = s - start;
    // rsync compares the rest of the whole name (strcmp), not just this part.
    const rest = name.subarray(s + 1).toString('latin1');
    if (sLen === 4 && (rest === 'bak' || rest === 'old')) continue;
    if (sLen === 5 && rest === 'orig') continue;
    if (sLen > 2 && sLen !== 4 && sLen !== 5 && hadTilde && name[s + 1] === 0x7e && isDigit(name[s + 2])) continue;
    suf = name.subarray(s, s + sLen);
    if (sLen === 1) break;
    // An all-digit suffix may not be that significant: look for an earlier one.
    let allDigits = true;
    for (let i = s + 1; i < s + sLen; i++) {
      if (!isDigit(name[i])) {
        allDigits = false;
        break;
      }
    }
    if (!allDigits) return suf;
  }
  return suf;
}

/**
 * rsync's fuzzy_distance: a Levenshtein distance in units of 1<<16 where each edit also costs the
 * bytes involved (so the closest spelling wins ties); 0xFFFF0001 when the lengths alone exceed `upper`.
 */
export function fuzzyDistance(s1: Buffer, s2: Buffer, upper: number): number {
  let a1 = s1;
  const len2 = s2.length;
  if (Math.abs(a1.length - len2) * UNIT > upper) return 0xffff * UNIT + 1;
  if (!a1.length || !len2) {
    if (!a1.length) a1 = s2;
    let cost = 0;
    // rsync sums plain chars here, signed on x86.
    for (const b of a1) cost += b >= 0x80 ? b - 0x100 : b;
    return (a1.length * UNIT + cost) >>> 0;
  }
  const a = new Array<number>(len2);
  for (let i = 0; i < len2; i++) a[i] = (i + 1) * UNIT;
  for (let i1 = 0; i1 < a1.length; i1++) {
    let diag = i1 * UNIT;
    let above = (i1 + 1) * UNIT;
    const c1 = a1[i1]!;
    for (let i2 = 0; i2 < len2; i2++) {
      const left = a[i2]!;
      const c2 = s2[i2]!;
      let cost = c1 - c2;
      if (cost !== 0) cost = cost < 0 ? UNIT - cost : UNIT + cost;
      const diagInc = diag + cost;
      const leftInc = left + UNIT + c1;
      const aboveInc = above + UNIT + c2;
      above = left < above ? Math.min(leftInc, diagInc) : Math.min(aboveInc, diagInc);
      a[i2] = above;
      diag = left;
    }
  }
  return a[len2 - 1]! >>> 0;
}

/** "D.DDDDD", as rsync prints a distance. */
const showDistance = (d: number): string => `${Math.floor(d / UNIT)}.${String(d % UNIT).padStart(5, '0')}`;

/**
 * find_fuzzy over the candidate lists (the destination directory, then with -yy each --*-dest one):
 * an exact size-and-mtime match first, else the lowest distance (the last of equals), none beyond 25.
 */
export function chooseFuzzy(name: Buffer, size: number, mtimeSec: number, lists: FuzzyCandidate[][]): FuzzyChoice {
  const traces: string[] = [];
  const usable = (f: FuzzyCandidate): boolean => f.size > 0;
  for (const list of lists) {
    for (const f of list) {
      if (usable(f) && f.size === size && f.mtimeSec === mtimeSec) {
        traces.push(`fuzzy size/modtime match for ${f.shown}`);
        return { basis: f, traces };
      }
    }
  }
  const suffix = filenameSuffix(name);
  let lowest = 25 * UNIT;
  let basis: FuzzyCandidate | undefined;
  for (const list of lists) {
    for (const f of list) {
      if (!usable(f)) continue;
      let dist = fuzzyDistance(f.name, name, lowest);
      if (dist < 0xffff0000) dist = (dist + fuzzyDistance(filenameSuffix(f.name), suffix, 0xffff0000) * 10) >>> 0;
      traces.push(`fuzzy distance for ${f.shown} = ${showDistance(dist)}`);
      if (dist <= lowest) {
        lowest = dist;
        basis = f;
      }
    }
  }
  return { basis, traces };
}
