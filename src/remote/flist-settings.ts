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
