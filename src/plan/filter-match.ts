// Whether one pattern rule matches a path: rsync's rule_matches() (exclude.c), which part of the path a
// pattern sees and how it is anchored, on top of the wildcard matcher (glob.ts).

import { F, type PatternRule } from './filter-rules.js';
import { litmatchWhere, wildmatchWhere } from './glob.js';

/** rsync's rule_matches(): which part of the path a pattern sees, and how it is anchored. */
export function ruleMatches(rule: PatternRule, fname: string, isDir: boolean, absRoot: string): boolean {
  const hit = !(rule.flags & F.NEGATE);
  const { flags, slashCnt } = rule;
  if (flags & F.XATTR) return false;
  let text: string;
  if (!slashCnt && !(flags & F.WILD2)) {
    // No slash and no "**": the last component only.
    text = fname.slice(fname.lastIndexOf('/') + 1);
  } else if (flags & F.ABS_PATH && absRoot !== '/') {
    text = absRoot.slice(1) + '/' + fname;
  } else if (flags & F.WILD2_PREFIX) {
    // Lets "**/foo" match "foo" at the top.
    text = '/' + fname;
  } else {
    text = fname;
  }
  if (isDir) {
    // "dir/***" matches the directory itself too.
    if (flags & F.WILD3_SUFFIX) text += '/';
  } else if (flags & F.DIRECTORY) {
    return !hit;
  }
  let pattern = rule.pattern;
  const anchored = pattern.startsWith('/');
  if (anchored) pattern = pattern.slice(1);

  let where: number;
  if (!anchored && slashCnt && !(flags & F.WILD2)) where = slashCnt + 1;
  else if (!anchored && !(flags & F.WILD2_PREFIX) && flags & F.WILD2) where = -1;
  else where = 0;

  // Without wildcards a backslash is an ordinary byte, and the match is plain equality (of the tail).
  const matched = flags & F.WILD ? wildmatchWhere(pattern, text, where) : litmatchWhere(pattern, text, where);
  return matched ? hit : !hit;
}
