// --fake-super (rsync's am_root = -1) and the receiver's own settings that a local copy's -M passes on
// (rsync's local_child parses -M options for the receiving side): on the line it fakes both sides (the
// sender reads user.rsync.%stat records, the receiver writes them); -M--fake-super fakes only the
// receiver, -M--super and -M--no-super set the receiver's am_root as on the line. One variable with
// --super/--no-super: the last of them wins.

import type { Command } from 'commander';
import type { Config } from '../model/config.js';

/** What these options leave in the Config (they override what cli/ownership.ts set for am_root). */
export type FakeSuper = Pick<Config, 'amRoot' | 'fakeSuper'>;

/** -M options that are the receiver's settings in a local copy (not refused as "no remote side"). */
const RECEIVER_OPTIONS = new Map<string, number>([
  ['--fake-super', -1],
  ['--super', 2],
  ['--no-super', 0],
]);

export function isReceiverOption(opt: string): boolean {
  return RECEIVER_OPTIONS.has(opt);
}

export function addFakeSuperOptions(p: Command): (remoteOptions: string[]) => FakeSuper {
  let fake = false;
  p.option('--fake-super', 'store/recover privileged attrs (owners, set-id bits, devices, specials) using xattrs');
  p.on('option:fake-super', () => (fake = true));
  p.on('option:super', () => (fake = false));
  p.on('option:no-super', () => (fake = false));
  return (remoteOptions) => {
    let amRoot = fake ? -1 : undefined;
    for (const opt of remoteOptions) amRoot = RECEIVER_OPTIONS.get(opt) ?? amRoot;
    const out: FakeSuper = {};
    if (fake) out.fakeSuper = true;
    if (amRoot !== undefined) out.amRoot = amRoot;
    return out;
  };
}
