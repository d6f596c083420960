// The filter list on the wire (rsync's send_rules framing): each rule string as a 4-byte length then
// its bytes, a zero length at the end; nothing at all when the client sends no list. Which rules and
// how they are spelled is plan/filter-send.ts's.

import { int32 } from './wire.js';

export function filterListBytes(rules: readonly Buffer[] | undefined): Buffer {
  if (!rules) return Buffer.alloc(0);
  return Buffer.concat([...rules.flatMap((r) => [int32(r.length), r]), int32(0)]);
}
