// rsync's --usermap/--groupmap (and --chown, which is `*:USER` / `*:GROUP`): the map string parsed as
// rsync's parse_name_map() parses it, and an id of the source mapped as its recv_add_id() maps it. A rule
// matches an id by number, by a LOW-HIGH range, by the id's name, or by a wildcard on the name; the first
// rule that matches wins; an id no rule matches keeps its name's id here (on one machine: itself).

import { UsageError } from '../util/errors.js';
import type { IdMapRule } from '../model/config.js';
import { wildmatch } from './glob.js';

/** rsync's id_parse(): decimal digits only, within an id_t (32 bits). */
function idParse(s: string): number {
  if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw new UsageError(`Invalid ID number: ${s}`);
  return Number(s);
}

/**
 * A --usermap or --groupmap string as rsync's parse_name_map() reads it: comma-separated FROM:TO items,
 * checked from the last to the first (so the error rsync reports is the one named here). TO is kept as
 * written: names are resolved when the run starts.
 */
export function parseIdMap(map: string, users: boolean): IdMapRule[] {
  const which = users ? 'user' : 'group';
  const items = map.split(',');
  const rules: IdMapRule[] = [];
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    const colon = item.indexOf(':');
    if (colon < 0) throw new UsageError(`No colon found in --${which}map: ${item}`, true);
    const from = item.slice(0, colon);
    const to = item.slice(colon + 1);
    if (to === '') throw new UsageError(`No name found after colon --${which}map: ${item}`);
    if (/^\d/.test(from)) {
      const dash = from.indexOf('-');
      if (!/^[\d-]*$/.test(from) || (dash >= 0 && (dash === from.length - 1 || from.includes('-', dash + 1)))) {
        throw new UsageError(`Invalid number in --${which}map: ${from}`);
      }
      const low = idParse(dash < 0 ? from : from.slice(0, dash));
      // rsync keeps a range's top in a field where 0 means "no range": LOW-0 is LOW alone.
      const top = dash < 0 ? 0 : idParse(from.slice(dash + 1));
      const high = top === 0 ? low : top;
      rules.unshift({ kind: 'ids', low, high, to });
    } else {
      rules.unshift({ kind: /[*[?]/.test(from) ? 'wild' : 'name', name: from, to });
    }
  }
  return rules;
}

/** What mapping needs to know of this machine's users and groups (names ↔ ids). */
export interface NameLookup {
  /** A user's or group's id, by name; undefined when unknown. */
  idOf(name: string): number | undefined;
  /** An id's name; undefined when it has none. */
  nameOf(id: number): string | undefined;
  /** The names the machine's files hold (for a wildcard's ranges); others are found only by name. */
  names?(): string[];
}

const MAX_ID = 0xffffffff;

/** One map resolved against this machine: its rules with target ids, and each source id's answer. */
export class IdMapper {
  private readonly rules: { rule: IdMapRule; to: number }[] = [];
  private readonly cache = new Map<number, number>();

  /**
   * `numericIds`: the source's ids travel without names (rsync's --numeric-ids), so only rules by number
   * and rules whose name is empty or a wildcard that matches "" apply. `warn` is told each target name
   * this machine does not know (rsync drops that rule and goes on).
   */
  constructor(
    rules: IdMapRule[],
    private readonly db: NameLookup,
    private readonly numericIds: boolean,
    users: boolean,
    warn: (message: string) => void,
  ) {
    for (const rule of rules) {
      // user_to_uid(name, num_ok): a target of digits only is a number.
      const to = /^\d+$/.test(rule.to) ? idParse(rule.to) : db.idOf(rule.to);
      if (to === undefined) warn(`Unknown --${users ? 'user' : 'group'}map name on receiver: ${rule.to}`);
      else this.rules.push({ rule, to });
    }
  }

  /** The id the destination gets for this source id. */
  map(id: number): number {
    let out = this.cache.get(id);
    if (out === undefined) {
      out = this.resolve(id);
      this.cache.set(id, out);
    }
    return out;
  }

  /**
   * The rules as ranges of source ids, (low, high, to) triples in rule order, for the native side, which
   * maps a local copy's ACL entries by the first range holding an id (native/aclids.c) and leaves the
   * others: on one machine an id no rule matches keeps itself. A rule by name holds the id of that name
   * (when the name is that id's own); a wildcard that matches the empty name is made of `*` alone and
   * matches every id; another holds the ids of the names the machine's files hold that it matches (a
   * name only an NSS source knows is left out). Under --numeric-ids the source's ids have no names, so
   * rules by name never match. Not covered: a rule whose name is empty (it matches ids without a name).
   */
  aclRanges(): Uint32Array {
    const out: number[] = [];
    for (const { rule, to } of this.rules) {
      if (rule.kind === 'ids') out.push(rule.low, rule.high, to);
      else if (rule.kind === 'wild' && wildmatch(rule.name, '')) out.push(0, MAX_ID, to);
      // (An empty name matches the ids without a name: under --numeric-ids, all of them.)
      else if (rule.kind === 'name' && rule.name === '' && this.numericIds) out.push(0, MAX_ID, to);
      else if (this.numericIds || rule.name === '') continue;
      else {
        const names = rule.kind === 'name' ? [rule.name] : (this.db.names?.() ?? []).filter((n) => wildmatch(rule.name, n));
        for (const n of names) {
          const id = this.db.idOf(n);
          if (id !== undefined && this.db.nameOf(id) === n) out.push(id, id, to);
        }
      }
    }
    return Uint32Array.from(out);
  }

  private resolve(id: number): number {
    const name = this.numericIds ? '' : (this.db.nameOf(id) ?? '');
    for (const { rule, to } of this.rules) {
      if (rule.kind === 'ids' ? id >= rule.low && id <= rule.high : rule.kind === 'wild' ? wildmatch(rule.name, name) : rule.name === name) return to;
    }
    // No rule: the sender's name names an id here (on the same machine, the same one); id 0 stays 0.
    if (name !== '' && id !== 0) return this.db.idOf(name) ?? id;
    return id;
  }
}
