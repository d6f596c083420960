// --log-file: rsync's log of a run, appended to a file the CLI opened. Each line starts with
// "YYYY/MM/DD HH:MM:SS [PID] " (local time); it carries "building file list", rsync's informational and
// error messages, one line per changed entry in --log-file-format (default "%i %n%L"), deletions, and
// the closing totals. Names arrive escaped for the terminal; here bytes 0x80-0x9f are escaped too
// (rsync's escape_c1 for the log), so no C1 control reaches whoever reads the file.

import { writeSync } from 'node:fs';
import { formatHas, formatLine, type LineInfo } from './format.js';
import { outputBytes } from '../util/names.js';

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** rsync's log prefix: "%Y/%m/%d %H:%M:%S [pid] ". */
function prefix(d: Date): string {
  return `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} [${process.pid}] `;
}

/** A terminal line's bytes with each C1 byte (0x80-0x9f) written as \#ooo. */
function escapeC1(line: string): Buffer {
  const raw = outputBytes(line);
  const b = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x80 && c <= 0x9f) {
      parts.push(b.subarray(start, i), Buffer.from(`\\#${c.toString(8).padStart(3, '0')}`));
      start = i + 1;
    }
  }
  parts.push(b.subarray(start));
  return Buffer.concat(parts);
}

export class LogFile {
  /** The entry format; "" logs no entries (rsync's empty --log-file-format). */
  private readonly format: string;
  private readonly hasOorI: boolean;

  constructor(
    private readonly fd: number,
    format: string | undefined,
    private readonly dryRun: boolean,
  ) {
    this.format = format ?? '%i %n%L';
    this.hasOorI = formatHas(this.format, 'i') || formatHas(this.format, 'o');
  }

  /** One message line (rsync's FINFO, FERROR, FLOG), as printed. */
  line(text: string): void {
    // rsync's blank separator lines (before the totals) never reach its log.
    if (text === '') return;
    const body = escapeC1(text);
    const head = Buffer.from(prefix(new Date()));
    try {
      writeSync(this.fd, Buffer.concat([head, body, Buffer.from('\n')]));
    } catch {
      // rsync stops logging to a file it cannot write to and the run goes on.
    }
  }

  /**
   * An entry the run changed (its itemize string shows a change). Under -n rsync's sender logs no data
   * transfer (it sends none), only what the generator itemized. `stdoutItemizing`: -i or a %i format.
   */
  entry(i: LineInfo, stdoutItemizing: boolean): void {
    if (!this.format) return;
    if (this.dryRun && i.itemize.startsWith('>')) return;
    // rsync's maybe_log_item(): a transfer, a local change (created, hard-linked) or a directory's change
    // is logged; a file's attribute-only change only when stdout itemizes too.
    if (!stdoutItemizing && !'>ch*'.includes(i.itemize[0]!) && i.itemize[1] !== 'd') return;
    this.line(formatLine(this.format, { ...i, op: i.op === 'recv' ? 'recv' : 'send' }));
  }

  /** rsync's logfile_format_has_i: the entry format has %i. */
  get hasI(): boolean {
    return formatHas(this.format, 'i');
  }

  /** An entry line in the log's format, for a caller that applied rsync's rule itself (a push's sender). */
  item(i: LineInfo): void {
    if (this.format) this.line(formatLine(this.format, i));
  }

  /** Each line of text as printed (a message, a block of statistics). */
  lines(text: string): void {
    for (const l of text.split('\n')) this.line(l.replace(/\r$/, ''));
  }

  /** A deletion: "deleting NAME" unless the format itemizes (%i or %o); nothing under -n. */
  deleted(i: LineInfo): void {
    if (this.dryRun || !this.format) return;
    this.line(formatLine(this.hasOorI ? this.format : 'deleting %n', i));
  }
}
