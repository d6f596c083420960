// Where a remote transfer's --files-from list is (rsync's parse_arguments and client_run checks): a
// file or stdin here, or `host:path` / `:path` on the machine the transfer reaches, which must be the
// same host; "host:-" names nothing. Refused before anything starts, in rsync's words (exit 1).

import type { Config } from '../model/config.js';
import type { FilesFromPlace } from '../remote/files-from.js';
import { UsageError } from '../util/errors.js';
import { classifyOperand } from './remote-operand.js';

/** The list's place for a transfer that reaches `host`; undefined without --files-from. */
export function filesFromPlace(c: Config, host: string): FilesFromPlace | undefined {
  if (c.filesFrom === undefined) return undefined;
  if (c.filesFrom === '-') return { remote: false };
  const op = classifyOperand(Buffer.from(c.filesFrom));
  if (op.kind === 'local') return { remote: false };
  if (op.kind === 'daemon') throw new UsageError(`--files-from=${c.filesFrom} names an rsync daemon, and rsync daemons are not supported yet`);
  const path = op.path.toString();
  if (path === '-') throw new UsageError('Invalid --files-from remote filename');
  if (op.host !== '' && op.host !== host) throw new UsageError('--files-from hostname is not the same as the transfer hostname');
  return { remote: true, path };
}
