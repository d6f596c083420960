// -V and -VV: rsync's version text and its JSON capability dump, in rsync's shape (scripts grep the
// "protocol version" line; rsync's test suite reads the JSON's capabilities), with what arsync can really
// do here, then arsync's own block: which engines can run on this machine and why.

import type { Command } from 'commander';
import { VERSION } from '../version.js';
import { engineReport, selectEngine } from '../engine/index.js';
import type { EngineChoice } from '../model/config.js';

/** The rsync protocol arsync's command line follows (rsync 3.5's PROTOCOL_VERSION). */
const PROTOCOL = 32;
const COPYRIGHT = '(C) 2026 the arsync authors; after rsync, (C) 1996-2026 by Andrew Tridgell, Wayne Davison, and others.';
const URL = 'https://rsync.samba.org/ (the rsync arsync follows)';
/** The names --checksum-choice and --compress-choice accept (local-noops.ts checks them). */
const CHECKSUMS = ['xxh128', 'xxh3', 'xxh64', 'md5', 'md4', 'sha1', 'none'];
const COMPRESSIONS = ['zstd', 'lz4', 'zlibx', 'zlib', 'none'];

type Cap = [key: string, text: string, value: boolean | number | string];

/**
 * What arsync can do, with rsync's names. An option-backed capability is true only when the option is on
 * the parser (so it follows the code as options land); ACLs and xattrs only when the engine a run would
 * get here can copy them (the node engine cannot).
 */
function capabilities(program: Command, engine: EngineChoice): Cap[] {
  const has = (long: string): boolean => program.options.some((o) => o.long === long);
  const sel = selectEngine(engine);
  const xattrs = !('error' in sel) && sel.caps.xattrs && has('--xattrs');
  const acls = !('error' in sel) && sel.caps.xattrs && has('--acls');
  return [
    ['file_bits', '64-bit files', 64],
    ['inum_bits', '64-bit inums', 64],
    ['timestamp_bits', '64-bit timestamps', 64],
    ['long_int_bits', '64-bit long ints', 64],
    // No remote side or daemon: arsync opens no sockets.
    ['socketpairs', 'socketpairs', false],
    ['symlinks', 'symlinks', has('--links')],
    ['symtimes', 'symtimes', has('--links')],
    ['hardlinks', 'hardlinks', has('--hard-links')],
    ['hardlink_specials', 'hardlink-specials', has('--hard-links')],
    ['hardlink_symlinks', 'hardlink-symlinks', has('--hard-links')],
    ['IPv6', 'IPv6', false],
    ['atimes', 'atimes', has('--atimes')],
    ['batchfiles', 'batchfiles', has('--write-batch')],
    ['inplace', 'inplace', has('--inplace')],
    ['append', 'append', has('--append')],
    ['ACLs', 'ACLs', acls],
    ['ACL_at', 'ACL-at', acls],
    ['xattrs', 'xattrs', xattrs],
    ['secluded_args', 'secluded-args', 'optional'],
    ['iconv', 'iconv', has('--iconv')],
    ['prealloc', 'prealloc', has('--preallocate')],
    ['stop_at', 'stop-at', has('--stop-at')],
    ['crtimes', 'crtimes', false],
  ];
}

/** rsync's "Capabilities:" list: "no X" for what is missing, wrapped as rsync wraps it. */
function capText(caps: Cap[]): string {
  const items = caps.map(([, text, v]) =>
    typeof v === 'number' ? text : typeof v === 'string' ? `${v} ${text}` : v ? text : `no ${text}`,
  );
  const lines: string[] = [];
  let line = '   ';
  for (const [i, item] of items.entries()) {
    const piece = ` ${item}${i < items.length - 1 ? ',' : ''}`;
    if (line.length + piece.length > 75 && line.length > 3) {
      lines.push(line);
      line = '   ';
    }
    line += piece;
  }
  lines.push(line);
  return lines.join('\n');
}

function enginesText(): string {
  const rows = engineReport().map((e) => `    ${e.name.padEnd(7)}${e.usable ? 'usable' : 'not usable'}: ${e.why}`);
  return `Engines on this machine:\n${rows.join('\n')}\n`;
}

/** -V (count 1) or -VV (count 2 and more). */
export function versionText(count: number, program: Command, engine: EngineChoice): string {
  const caps = capabilities(program, engine);
  if (count > 1) {
    const doc = {
      program: 'arsync',
      version: VERSION,
      protocol: `${PROTOCOL}.0`,
      copyright: COPYRIGHT,
      url: URL,
      capabilities: Object.fromEntries(caps.map(([k, , v]) => [k, v])),
      optimizations: {},
      checksum_list: CHECKSUMS,
      compress_list: COMPRESSIONS,
      daemon_auth_list: [],
      engines: engineReport(),
      license: 'MIT',
      caveat: 'arsync comes with ABSOLUTELY NO WARRANTY',
    };
    return JSON.stringify(doc, null, 2) + '\n';
  }
  return (
    `arsync  version ${VERSION}  protocol version ${PROTOCOL}\n` +
    `Copyright ${COPYRIGHT}\n` +
    `Web site: ${URL}\n` +
    `Capabilities:\n${capText(caps)}\n` +
    `Checksum list:\n    ${CHECKSUMS.join(' ')}\n` +
    `Compress list:\n    ${COMPRESSIONS.join(' ')}\n` +
    enginesText() +
    '\narsync comes with ABSOLUTELY NO WARRANTY.\n'
  );
}
