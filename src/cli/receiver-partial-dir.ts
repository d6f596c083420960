// The partial dir of rsync's local receiver when -M names one (-M--partial-dir, -M--delay-updates): which
// filter rules each side of the copy holds. rsync adds a relative partial dir's perishable exclude rule
// to a process's list when it settles its protocol, after the fork: the client's rule (from the line's
// partial dir) hides that dir from the sender only, and the receiver's rule (from its own partial dir)
// keeps --delete off it only. arsync has one list, so the two rules get their side written on them.

import type { Config, FilterItem } from '../model/config.js';

/** The rule cli/partial-options.ts adds for a relative partial dir (none for an absolute one). */
function ruleOf(dir: string | undefined): string | undefined {
  return dir === undefined || dir.startsWith('/') ? undefined : `-p ${dir}/`;
}

/** `filters` without the last rule whose value is `rule`. */
function without(filters: FilterItem[], rule: string | undefined): FilterItem[] {
  const i = rule === undefined ? -1 : filters.findLastIndex((f) => f.kind === 'filter' && f.value === rule);
  return i < 0 ? filters : [...filters.slice(0, i), ...filters.slice(i + 1)];
}

/**
 * The receiver's parse (`receiver`, the line with the -M values last) with its partial dir settled as
 * rsync's receiver has it, and its filter list the one arsync runs with: the client's rules, the
 * client's partial-dir rule made sender-side when the receiver's partial dir is another, and the
 * receiver's rule receiver-side. `named`: whether a -M value names the partial dir (--partial-dir,
 * --delay-updates); otherwise a partial dir the receiver's parse found in RSYNC_PARTIAL_DIR is not
 * the receiver's (rsync reads that variable only on the client), so the client's stays.
 */
export function receiverPartialDir(config: Config, receiver: Config, named: boolean): Config {
  const mine = ruleOf(config.partialDir);
  const theirs = named ? ruleOf(receiver.partialDir) : undefined;
  const rest = without(config.filters, mine);
  // A filter change other than the partial dir's rule is not the partial dir's: left to the field check.
  if (JSON.stringify(without(receiver.filters, ruleOf(receiver.partialDir))) !== JSON.stringify(rest)) return receiver;
  if (!named) return { ...receiver, partialDir: config.partialDir, filters: config.filters };
  if (receiver.partialDir === config.partialDir) return { ...receiver, filters: config.filters };
  // --delete-excluded makes the receiver's unmodified rule sender-side on its list: it guards nothing.
  const guard = theirs === undefined || receiver.deleteExcluded ? [] : [{ kind: 'filter' as const, value: `-r${theirs.slice(1)}` }];
  const at = mine === undefined ? -1 : config.filters.findLastIndex((f) => f.kind === 'filter' && f.value === mine);
  const sent = config.filters.map((f, i) => (i === at ? { kind: 'filter' as const, value: `-s${mine!.slice(1)}` } : f));
  return { ...receiver, filters: [...sent, ...guard] };
}
