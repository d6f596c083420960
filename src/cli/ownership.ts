// Ownership and privilege options: --usermap, --groupmap, --chown (rsync implements it as the two maps,
// so they cannot be mixed), --super and --no-super (one setting, rsync's am_root: the last one on the line
// wins) and --copy-as. Registered on the program with rsync's usage errors, in argv order
// (a map turns on -o/-g where it is met, so a later --no-o turns it off again).

import type { Command } from 'commander';
import { UsageError } from '../util/errors.js';
import type { Config } from '../model/config.js';
import { parseIdMap } from '../plan/idmap.js';

/** What these options leave in the Config. */
export type Ownership = Pick<Config, 'usermap' | 'groupmap' | 'idmapArgs' | 'amRoot' | 'copyAs'>;

/** One map's string and whether --chown wrote it (rsync's usermap_via_chown). */
interface MapSlot {
  value: string | undefined;
  viaChown: boolean;
}

export function addOwnershipOptions(p: Command): () => Ownership {
  const user: MapSlot = { value: undefined, viaChown: false };
  const group: MapSlot = { value: undefined, viaChown: false };
  let amRoot: number | undefined;
  // rsync's OPT_USERMAP/OPT_GROUPMAP: once only, and not after a --chown that set the same map.
  const setMap = (slot: MapSlot, which: 'user' | 'group', attr: 'owner' | 'group') => (v: string): void => {
    if (slot.value !== undefined) {
      throw new UsageError(slot.viaChown ? `--${which}map conflicts with prior --chown.` : `You can only specify --${which}map once.`);
    }
    slot.value = v;
    slot.viaChown = false;
    p.setOptionValue(attr, true);
  };
  // rsync's OPT_CHOWN: USER[:GROUP] or :GROUP; an empty part maps nothing.
  const chown = (v: string): void => {
    const colon = v.indexOf(':');
    const u = colon < 0 ? v : v.slice(0, colon);
    const g = colon < 0 ? '' : v.slice(colon + 1);
    for (const [part, slot, which, attr] of [[u, user, 'user', 'owner'], [g, group, 'group', 'group']] as const) {
      if (part === '') continue;
      if (slot.value !== undefined) {
        throw new UsageError(slot.viaChown ? `You can only specify a ${which}-affecting --chown once.` : `--chown conflicts with prior --${which}map.`);
      }
      slot.value = `*:${part}`;
      slot.viaChown = true;
      p.setOptionValue(attr, true);
    }
  };
  p.option('--usermap <STRING>', 'custom username mapping (FROM:TO,... ids, LOW-HIGH ranges, names, wildcards; implies -o)')
    .option('--groupmap <STRING>', 'custom groupname mapping (as --usermap; implies -g)')
    .option('--chown <USER:GROUP>', 'simple username/groupname mapping (--usermap=*:USER --groupmap=*:GROUP)')
    .option('--super', 'receiver attempts super-user activities (owners, devices) even when not root')
    .option('--no-super', 'receiver does not attempt super-user activities, even as root')
    .option('--copy-as <USER[:GROUP]>', 'run the copy as this user (and group); root only');
  p.on('option:usermap', setMap(user, 'user', 'owner'));
  p.on('option:groupmap', setMap(group, 'group', 'group'));
  p.on('option:chown', chown);
  p.on('option:super', () => (amRoot = 2));
  p.on('option:no-super', () => (amRoot = 0));
  return () => {
    const out: Ownership = {};
    // parse_name_map() runs on rsync's receiver before the transfer; here before any I/O.
    if (user.value !== undefined) out.usermap = parseIdMap(user.value, true);
    if (group.value !== undefined) out.groupmap = parseIdMap(group.value, false);
    if (user.value !== undefined || group.value !== undefined) {
      out.idmapArgs = { ...(user.value !== undefined ? { user: user.value } : {}), ...(group.value !== undefined ? { group: group.value } : {}) };
    }
    if (amRoot !== undefined) out.amRoot = amRoot;
    const copyAs = p.getOptionValue('copyAs') as string | undefined;
    if (copyAs !== undefined) out.copyAs = copyAs;
    return out;
  };
}
