// rsync's wildcard matcher (its lib/wildmatch.c semantics), for filter rules. Names are bytes, so both the
// pattern and the text are latin1 strings: one char per byte, nothing decoded, invalid UTF-8 intact.
//
// The rules that differ from a shell glob, and that the filter code relies on:
//   `*` matches any run of bytes except `/`; `**` (any number of stars) also matches `/`;
//   `?` and every `[...]` class match one byte that is not `/`;
//   `[!...]` and `[^...]` negate, `a-z` ranges, `[:alpha:]`-style classes (ASCII only: rsync's ctype
//   checks see one byte at a time, and in a UTF-8 locale no byte above 0x7f is alpha, digit, etc.);
//   a backslash makes the next byte literal (only in wildcard patterns: the caller decides that).
// Matching gives up early the same way rsync's does (ABORT_ALL / ABORT_TO_STARSTAR), which is not just
// speed: `wildmatchWhere(..., -1)` retries after each slash only when the first try did not abort.

const TRUE = 1;
const FALSE = 0;
const ABORT_ALL = -1;
const ABORT_TO_STARSTAR = -2;

const SLASH = 0x2f;
const STAR = 0x2a;
const QMARK = 0x3f;
const BACKSLASH = 0x5c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BANG = 0x21;
const CARET = 0x5e;
const DASH = 0x2d;
const COLON = 0x3a;

/** The byte at i, or 0 past the end (rsync reads a NUL terminator there; names never contain NUL). */
const at = (s: string, i: number): number => (i < s.length ? s.charCodeAt(i) : 0);

function inClass(name: string, c: number): boolean | undefined {
  const isUpper = c >= 0x41 && c <= 0x5a;
  const isLower = c >= 0x61 && c <= 0x7a;
  const isDigit = c >= 0x30 && c <= 0x39;
  const isAlpha = isUpper || isLower;
  const isGraph = c > 0x20 && c < 0x7f;
  switch (name) {
    case 'alnum':
      return isAlpha || isDigit;
    case 'alpha':
      return isAlpha;
    case 'blank':
      return c === 0x20 || c === 0x09;
    case 'cntrl':
      return c < 0x20 || c === 0x7f;
    case 'digit':
      return isDigit;
    case 'graph':
      return isGraph;
    case 'lower':
      return isLower;
    case 'print':
      return isGraph || c === 0x20;
    case 'punct':
      return isGraph && !isAlpha && !isDigit;
    case 'space':
      return c === 0x20 || (c >= 0x09 && c <= 0x0d);
    case 'upper':
      return isUpper;
    case 'xdigit':
      return isDigit || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    default:
      return undefined; // malformed [:class:]: the whole match aborts
  }
}

function dowild(p: string, pi: number, t: string, ti: number): number {
  for (; pi < p.length; pi++, ti++) {
    let pc = p.charCodeAt(pi);
    if (ti >= t.length && pc !== STAR) return ABORT_ALL;
    const tc = at(t, ti);
    switch (pc) {
      case BACKSLASH:
        // A trailing backslash compares against the terminator and so fails, as in rsync.
        pc = at(p, ++pi);
        if (tc !== pc) return FALSE;
        continue;
      case QMARK:
        if (tc === SLASH) return FALSE;
        continue;
      case STAR: {
        let special = false;
        if (at(p, pi + 1) === STAR) {
          special = true;
          while (at(p, pi + 1) === STAR) pi++;
        }
        pi++;
        if (pi >= p.length) {
          // A trailing "**" matches everything; a trailing "*" only what has no more slashes.
          return special || t.indexOf('/', ti) < 0 ? TRUE : FALSE;
        }
        for (; ti < t.length; ti++) {
          const m = dowild(p, pi, t, ti);
          if (m !== FALSE) {
            if (!special || m !== ABORT_TO_STARSTAR) return m;
          } else if (!special && t.charCodeAt(ti) === SLASH) {
            return ABORT_TO_STARSTAR;
          }
        }
        return ABORT_ALL;
      }
      case LBRACKET: {
        pc = at(p, ++pi);
        if (pc === CARET) pc = BANG;
        const negated = pc === BANG;
        if (negated) pc = at(p, ++pi);
        let prev = 0;
        let matched = false;
        do {
          if (!pc) return ABORT_ALL;
          if (pc === BACKSLASH) {
            pc = at(p, ++pi);
            if (!pc) return ABORT_ALL;
            if (tc === pc) matched = true;
          } else if (pc === DASH && prev && at(p, pi + 1) && at(p, pi + 1) !== RBRACKET) {
            pc = at(p, ++pi);
            if (pc === BACKSLASH) {
              pc = at(p, ++pi);
              if (!pc) return ABORT_ALL;
            }
            if (tc <= pc && tc >= prev) matched = true;
            pc = 0; // a range end cannot start another range
          } else if (pc === LBRACKET && at(p, pi + 1) === COLON) {
            const start = pi + 2;
            let end = start;
            while (at(p, end) && at(p, end) !== RBRACKET) end++;
            if (!at(p, end)) return ABORT_ALL;
            if (end - start - 1 < 0 || at(p, end - 1) !== COLON) {
              // No ":]": the "[" is an ordinary member and scanning resumes at the ":".
              if (tc === LBRACKET) matched = true;
              prev = LBRACKET;
              pc = at(p, ++pi);
              continue;
            }
            const r = inClass(p.slice(start, end - 1), tc);
            if (r === undefined) return ABORT_ALL;
            if (r) matched = true;
            pi = end;
            pc = 0;
          } else if (tc === pc) {
            matched = true;
          }
          prev = pc;
          pc = at(p, ++pi);
        } while (pc !== RBRACKET);
        if (matched === negated || tc === SLASH) return FALSE;
        continue;
      }
      default:
        if (tc !== pc) return FALSE;
        continue;
    }
  }
  return ti >= t.length ? TRUE : FALSE;
}

/** The last `count` slash-separated elements of `text`, or undefined when it has fewer. */
export function trailingElements(text: string, count: number): string | undefined {
  for (let i = text.length - 1; i >= 0; i--) {
    if (text.charCodeAt(i) === SLASH && --count === 0) return text.slice(i + 1);
  }
  return count === 1 ? text : undefined;
}

/** Does the wildcard `pattern` match all of `text`? */
export function wildmatch(pattern: string, text: string): boolean {
  return dowild(pattern, 0, text, 0) === TRUE;
}

/**
 * rsync's wildmatch_array: `where` 0 matches the whole text, N > 0 only its last N elements, and -1 the
 * whole text or any part of it that follows a slash.
 */
export function wildmatchWhere(pattern: string, text: string, where: number): boolean {
  const t = where > 0 ? trailingElements(text, where) : text;
  if (t === undefined) return false;
  let m = dowild(pattern, 0, t, 0);
  if (m !== TRUE && where < 0 && m !== ABORT_ALL) {
    for (let i = 0; i < t.length; i++) {
      if (t.charCodeAt(i) !== SLASH) continue;
      m = dowild(pattern, 0, t, i + 1);
      if (m !== FALSE && m !== ABORT_TO_STARSTAR) break;
    }
  }
  return m === TRUE;
}

/** The literal counterpart (no wildcards, backslashes literal): equality with the whole text or its tail. */
export function litmatchWhere(literal: string, text: string, where: number): boolean {
  const t = where > 0 ? trailingElements(text, where) : text;
  return t !== undefined && t === literal;
}

/** Whether rsync would treat this pattern as a wildcard pattern at all. */
export const hasWildcards = (pattern: string): boolean => /[*?[]/.test(pattern);
