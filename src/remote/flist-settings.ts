// The Config's share of the file-list settings both sides agree on (which fields an entry carries), one
// mapping for every list a session encodes or decodes: a pull's, a push's, a listing's, a batch's and a local run's byte totals.

import type { Config } from '../model/config.js';
import type { FlistSettings } from './flist.js';

export type { FlistSettings };

/** -o, -g, -l, -D's halves, -H and --numeric-ids as the list's settings; each caller adds its own session's fields. */
export function flistSettings(c: Config): FlistSettings {
  return {
    uid: c.owner,
    gid: c.group,
    links: c.links,
    devices: c.devices,
    specials: c.specials,
    hardLinks: c.hardLinks,
    numericIds: c.numericIds,
  };
}

/**
 * The far side's --numeric-ids in a session: this side's, unless a -M value sets it otherwise (the last
 * one). Whether the list ends with id lists is the sender's choice (it sends none under --numeric-ids)
 * and the receiver's (it reads none): rsync's own client lets the two differ only with incremental
 * recursion, where each id's name goes inline and a list without names maps each id to itself; without
 * it (rsync's --no-i-r, and every arsync session) the receiver waits for lists that never come or reads
 * garbage. So arsync's side of the list follows the far side's setting, and the ids map as rsync's
 * incremental session maps them: by name only when neither side has --numeric-ids.
 */
export function peerNumericIds(c: Pick<Config, 'numericIds' | 'remoteOptions'>): boolean {
  let numeric = c.numericIds;
  for (const o of c.remoteOptions ?? []) {
    if (o === '--numeric-ids') numeric = true;
    else if (o === '--no-numeric-ids') numeric = false;
  }
  return numeric;
}
