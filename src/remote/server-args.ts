// The command line a client gives the remote `rsync --server` (rsync's server_options): the options
// that change what the server does or sends, as one cluster of single letters in rsync's own order
// followed by the capability letters (handshake.ts's CLIENT_INFO), then the long options.

import { CLIENT_INFO } from './handshake.js';
import { compressLetter, compressLongArgs, type ClientCompress } from './compress.js';

/** What the server must know of the client's options (a subset of the Config, named as there). */
export interface ServerFlags {
  verbose: number;
  links: boolean;
  /** -d, or a listing without -r (rsync sends 'd' then). */
  dirs: boolean;
  recursive: boolean;
  copyLinks: boolean;
  hardLinks: boolean;
  owner: boolean;
  group: boolean;
  devices: boolean;
  specials: boolean;
  times: boolean;
  perms: boolean;
  checksum: boolean;
  relative: boolean;
  numericIds: boolean;
  /** --list-only given explicitly (a source without a destination lists without saying so). */
  listOnly: boolean;
  /** -z and its options (compress.ts): a letter and long options of their own. */
  compress?: ClientCompress;
}

/** The arguments after the remote rsync's path when the server sends (a pull or a listing). */
export function senderArgs(f: ServerFlags): string[] {
  let letters = 'v'.repeat(Math.min(f.verbose, 9));
  if (f.links) letters += 'l';
  if (f.dirs && !f.recursive) letters += 'd';
  // The receiving client tells the sender to follow symlinks (-L): the sender does the following.
  if (f.copyLinks) letters += 'L';
  if (f.hardLinks) letters += 'H';
  if (f.owner) letters += 'o';
  if (f.group) letters += 'g';
  if (f.devices) letters += 'D';
  if (f.times) letters += 't';
  if (f.perms) letters += 'p';
  if (f.recursive) letters += 'r';
  if (f.checksum) letters += 'c';
  if (f.relative) letters += 'R';
  const compress = f.compress ?? { mode: 'off' };
  letters += compressLetter(compress);
  const z = compressLongArgs(compress, false);
  const args = ['--server', '--sender', `-${letters}${CLIENT_INFO}`];
  if (f.listOnly) args.push('--list-only');
  args.push(...z.level);
  // -D sends devices and specials; one without the other is said in a long option.
  if (f.devices && !f.specials) args.push('--no-specials');
  else if (!f.devices && f.specials) args.push('--specials');
  args.push(...z.choice, ...z.skip);
  if (f.numericIds) args.push('--numeric-ids');
  return args;
}
