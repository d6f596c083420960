// --log-file in a push: what rsync's sending client writes to its log (log.c's log_item, maybe_log_item,
// log_delete, rwrite and log_exit as a client that sends). Its transferred files (not under -n: nothing
// was sent), the entries the receiver reports that rsync's rule logs, deletions, the far side's
// informational lines and every error line that reaches this process, its statistics and summary lines,
// and the closing totals when no statistics were printed or the run failed.

import type { LogFile } from '../progress/logfile.js';
import type { LineInfo } from '../progress/format.js';
import { significant } from '../remote/iflags.js';
import { Msg, type Frame } from '../remote/mux.js';
import type { ClientIo } from '../remote/client.js';

export class PushLog {
  constructor(
    private readonly log: LogFile,
    private readonly dryRun: boolean,
  ) {}

  /** A transferred file, after its data. */
  sent(info: LineInfo): void {
    if (!this.dryRun) this.log.item(info);
  }

  /**
   * An entry the receiver only looked at (rsync's maybe_log_item for a client): `shown` is whether the
   * client's rule names it at all (-i's see_item, a local change, a hard link's name, a changed directory).
   */
  looked(info: LineInfo, iflags: number, shown: boolean): void {
    if (shown && (significant(iflags) !== 0 || this.log.hasI)) this.log.item(info);
  }

  deleted(info: LineInfo): void {
    this.log.deleted(info);
  }

  /** Lines this side printed that rsync logs (its FINFO and FERROR lines), as printed. */
  lines(text: string): void {
    this.log.lines(text);
  }

  /** The far side's informational lines (MSG_INFO; MSG_CLIENT lines are not logged). Never consumes the frame. */
  readonly frame = (f: Frame): false => {
    if (f.tag === Msg.Info) this.log.lines(f.payload.toString('latin1'));
    return false;
  };

  /** `io` with its error stream copied to the log: the far side's error messages and our own. */
  tee(io: ClientIo): ClientIo {
    const err = io.err;
    const write = (chunk: string | Uint8Array): boolean => {
      this.log.lines(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'));
      return err.write(chunk);
    };
    // Only write() is used on a session's streams (remote/client.ts, remote/messages.ts).
    return { out: io.out, err: { write } as unknown as NodeJS.WritableStream };
  }

  /** rsync's log_exit for a sender: the totals, in plain digits. */
  totals(sent: number, received: number, totalSize: number): void {
    this.log.line(`sent ${sent} bytes  received ${received} bytes  total size ${totalSize}`);
  }
}
