// Xattr-name filter rules (rsync's rules with the `x` modifier, `-f '-x user.tmp'`): which extended
// attribute names -X lists, copies, compares and removes. Once any such rule is given, rsync's default
// namespace rule gives way on the sending side (it lists every name the rules let through, system.*
// included) and a non-root receiver keeps another namespace's name as user.rsync.NAME (xattrs.c
// rsync_xal_get, receive_xattr, rsync_xal_set). Each side sees the rules for it: a sender-only rule
// ("s", or --delete-excluded's unqualified rule) is not the receiver's, a receiver-only one ("r") not the
// sender's; the first rule that matches a name decides (check_filter). The wire lists use `excluded`
// here; the engines get the same rules as `engineRules` (native/xfilter.c matches them there).

import { F, isDirMerge, type PatternRule } from './filter-rules.js';
import { ruleMatches } from './filter-match.js';
import { FilterList } from './filter.js';
import type { Config } from '../model/config.js';

/** A rule as the native context takes it (engine/types.ts EngineOptions.xattrRules). */
export interface EngineXattrRule {
  pattern: Buffer;
  bits: number;
}

/** native/xfilter.h XR_*. */
export const XR = { INCLUDE: 1, NEGATE: 2, SENDER: 4, RECEIVER: 8, WILD: 16 } as const;

/** The x-rules of a run, in order; empty when none was given. */
export function xattrRules(list: FilterList | undefined): PatternRule[] {
  if (!list) return [];
  return list.globalRules.filter((e): e is PatternRule => !isDirMerge(e) && (e.flags & F.XATTR) !== 0);
}

type RuleOptions = Pick<Config, 'filters' | 'deleteExcluded' | 'insecureLinks' | 'from0'>;
const parsed = new WeakMap<RuleOptions, PatternRule[]>();

/**
 * The x-rules of a run's options, parsed once per Config (for code that has no FilterList at hand: a
 * pull's receiver, the figures of a local run's lists). The options were parsed before, so no FilterError.
 */
export function configXattrRules(c: RuleOptions): PatternRule[] {
  let r = parsed.get(c);
  if (!r) {
    r = c.filters.length ? xattrRules(FilterList.fromOptions(c.filters, { deleteExcluded: c.deleteExcluded, insecureLinks: c.insecureLinks, eolNulls: c.from0 })) : [];
    parsed.set(c, r);
  }
  return r;
}

/** Whether `name` is excluded in the sending side's (`sender`) or the receiving side's view. */
export function xattrExcluded(rules: readonly PatternRule[], name: Buffer, sender: boolean): boolean {
  const text = name.toString('latin1');
  for (const r of rules) {
    const sides = r.flags & (F.SENDER_SIDE | F.RECEIVER_SIDE);
    if (sides === (sender ? F.RECEIVER_SIDE : F.SENDER_SIDE)) continue;
    // An xattr name is matched as a file name would be (rule_matches with NAME_IS_XATTR).
    if (ruleMatches({ ...r, flags: r.flags & ~F.XATTR }, text, false, '/')) return !(r.flags & F.INCLUDE);
  }
  return false;
}

/** The rules as the engines take them. */
export function engineRules(rules: readonly PatternRule[]): EngineXattrRule[] {
  return rules.map((r) => ({
    pattern: Buffer.from(r.pattern, 'latin1'),
    bits:
      (r.flags & F.INCLUDE ? XR.INCLUDE : 0) |
      (r.flags & F.NEGATE ? XR.NEGATE : 0) |
      (r.flags & F.SENDER_SIDE ? XR.SENDER : 0) |
      (r.flags & F.RECEIVER_SIDE ? XR.RECEIVER : 0) |
      (r.flags & (F.WILD | F.WILD2) ? XR.WILD : 0),
  }));
}

/** The byte between an op's two views (native/xfilter.h XV_GEN): above every XR_* combination. */
export const XV_GEN = 0x80;

/** The most bytes an op's views may take (their length is the op header's u16: engine/batch.ts). */
export const XVIEW_MAX = 0xffff;

/**
 * An entry's own x-rules, as an op carries them (engine/batch.ts, native/xfilter.h): each rule its XR_*
 * bits in a byte and its pattern (a leading "/" dropped, as xfilter_from_js drops it) ending in a NUL.
 * First the sending side's view of them (`send`: the rules its sender meets while it lists the entry's
 * directory, per-directory ones among them; null: the command line's, `global`); then, when `generator`
 * is given, XV_GEN and the view rsync's generator compares the destination in (its per-directory files
 * read in the destination while it deletes during the transfer). Undefined when neither is given: the
 * engine context's rules serve (EngineOptions.xattrRules). Throws when the views exceed XVIEW_MAX.
 */
export function xattrView(send: readonly PatternRule[] | null, generator: readonly PatternRule[] | null, global: readonly PatternRule[]): Buffer | undefined {
  if (!send && !generator) return undefined;
  const parts: Buffer[] = [];
  const put = (rules: readonly PatternRule[]): void => {
    for (const r of engineRules(rules)) {
      // A NUL ends the pattern, as it ends rsync's C string.
      const nul = r.pattern.indexOf(0);
      const whole = nul < 0 ? r.pattern : r.pattern.subarray(0, nul);
      const p = whole[0] === 0x2f ? whole.subarray(1) : whole;
      parts.push(Buffer.of(r.bits), p, Buffer.of(0));
    }
  };
  put(send ?? global);
  if (generator) {
    parts.push(Buffer.of(XV_GEN));
    put(generator);
  }
  const out = Buffer.concat(parts);
  if (out.length > XVIEW_MAX) throw new Error(`the x-rules in force for one directory take ${out.length} bytes (at most ${XVIEW_MAX})`);
  return out;
}
