// Which line rsync prints for an entry, and in which format: -i / --out-format print every change
// (and with -ii every entry), -v prints what was created or sent and directories whose attributes
// changed, --json prints nothing per entry. Deletions read "*deleting   name" under -i and
// "deleting name" under -v.

import type { Config } from '../model/config.js';
import { formatHas, formatLine, type LineInfo } from './format.js';
import type { Reporter } from './reporter.js';
import type { EventStream } from './events.js';

export interface EntryEvent extends Omit<LineInfo, 'itemize'> {
  /** The entry was created, or its data sent/recreated. */
  changed: boolean;
  isDir: boolean;
  /** Made from a --*-dest twin (rsync's ITEM_LOCAL_CHANGE): a directory matching its twin is "uptodate" too. */
  local?: boolean;
}

type Formats = Pick<Config, 'itemize' | 'outFormat' | 'json'>;

/** The per-entry format on stdout: --out-format, or -i's; none for -v's plain names and for --json. */
const stdoutFormat = (c: Formats): string | undefined => (c.json ? undefined : (c.outFormat ?? (c.itemize > 0 ? '%i %n%L' : undefined)));

/** Are entries itemized? A format without %i selects entries like -v does (rsync's stdout_format_has_i). */
export function itemizes(c: Formats): boolean {
  const f = stdoutFormat(c);
  return f !== undefined && formatHas(f, 'i');
}

/**
 * rsync's stdout_format_has_i on the receiving side: the value -M settled (cli/receiver-options.ts),
 * else the line's (0 without %i in the format, else the -i count made odd).
 */
export function receiverHasI(c: Pick<Config, 'itemize' | 'outFormat' | 'json' | 'receiverOutput'>): number {
  return c.receiverOutput?.hasI ?? (itemizes(c) ? c.itemize | 1 : 0);
}

export class Output {
  private readonly format: string | undefined;
  private readonly all: boolean;
  private readonly itemizing: boolean;
  /** rsync's generator names entries it left alone or only touched (-vv without -i on its side). */
  private readonly uptodate: boolean;
  /**
   * The bytes of the lines rsync's generator prints itself ("is uptodate", a touched entry's name): in a
   * local rsync each goes to the sender as a message (4 bytes, the line, its newline), which rsync's
   * byte figures count (run/stream-totals.ts).
   */
  generatorBytes = 0;

  constructor(
    private readonly c: Pick<Config, 'itemize' | 'outFormat' | 'info' | 'json' | 'quiet' | 'humanReadable' | 'receiverOutput'>,
    private readonly reporter: Reporter,
    /** --json=events: entries go to the event stream instead of text lines. */
    private readonly events?: EventStream,
    /** -n: no op runs, so an entry is reported as it is decided. */
    private readonly dryRun = false,
    /** Where a line rsync's sender prints goes (run/line-order.ts: -vv's order); the reporter when absent. */
    private readonly sender?: (line: string) => void,
    /** --write-batch: told every entry's itemize string, printed or not (cli/batch-write.ts records them). */
    private readonly observe?: (e: EntryEvent, itemize: string) => void,
  ) {
    this.format = stdoutFormat(c);
    this.itemizing = itemizes(c);
    // The receiving side decides whether an unchanged entry is reported at all (rsync's generator: its
    // --info=name2 or -ii, and a format with %i), the client whether it prints what it is sent (its own
    // -ii, or --info=name2 with -i). Without %i on its side the generator says "is uptodate" itself.
    const rInfo = (c.receiverOutput ?? c).info;
    const rHasI = receiverHasI(c);
    this.uptodate = !c.json && rInfo.NAME > 1 && rHasI === 0;
    const sends = rHasI > 0 && (rInfo.NAME > 1 || rHasI > 1);
    this.all = !c.json && (this.itemizing ? (c.itemize > 1 || c.info.NAME > 1) && sends : this.uptodate);
  }

  /** Is anything printed or logged per entry at all? (Lets the caller skip building lines.) */
  get active(): boolean {
    if (this.events || this.reporter.log || this.observe) return true;
    return this.printing || this.uptodate || (!this.c.json && this.c.info.DEL > 0);
  }

  /**
   * Is a new file's line its name alone, or under a single -i the default "%i %n%L" with rsync's
   * ">f+++++++++" (nothing else per entry: nothing logged, observed or streamed, no "is uptodate" lines)?
   * Then run/direct.ts may send new files without planning them one by one, printing their lines from
   * their names (sentName).
   */
  get namesOnly(): boolean {
    const plain = this.format === undefined && !this.itemizing;
    const itemized = this.c.outFormat === undefined && this.c.itemize === 1 && this.itemizing && !this.all;
    return this.printing && (plain || itemized) && !this.uptodate && !this.events && !this.reporter.log && !this.observe;
  }

  /**
   * namesOnly without -i: every sent file's line is its name alone, so a file that replaces one on the
   * destination has the line a new file has (run/direct.ts sends those the direct way too).
   */
  get bareNames(): boolean {
    return this.namesOnly && this.format === undefined && !this.itemizing;
  }

  /** A new file sent whole, under namesOnly: its line, printed where entry() prints a sent file's. */
  sentName(name: string): void {
    // rsync's itemized string of a regular file it creates (a symlink's %L is empty for a file).
    const text = this.itemizing ? `>f+++++++++ ${name}` : name;
    if (this.sender) this.sender(text);
    else this.reporter.item(text);
  }

  /** Are entries printed on stdout? */
  private get printing(): boolean {
    // --progress names files through --info=name (cli/output-options.ts), --info=progress1 alone does not.
    return !this.c.json && (this.format !== undefined || this.c.info.NAME > 0);
  }

  entry(e: EntryEvent, itemize: string | undefined): void {
    if (itemize !== undefined) this.observe?.(e, itemize);
    if (this.events) {
      if (itemize === undefined) return;
      const ev = { path: e.name, itemize, size: e.bytes };
      // A file whose data an op writes is reported when that op is done (EventStream.fileDone).
      if (!this.dryRun && itemize.startsWith('>f')) this.events.deferEntry(ev);
      else this.events.entry(ev);
      return;
    }
    // --log-file: every entry whose itemize string shows a change, in the log's own format.
    if (this.reporter.log && itemize !== undefined && !itemize.endsWith('         ')) this.reporter.log.entry({ ...e, itemize }, this.itemizing);
    if (!this.printing && !this.uptodate) return;
    if (this.itemizing) {
      if (itemize === undefined) return;
      // rsync's sender prints an itemized line too, when the generator's buffer brings it (line-order.ts).
      const text = formatLine(this.format!, { ...e, itemize });
      if (this.sender) this.sender(text);
      else this.reporter.item(text);
      return;
    }
    // -v, or a format without %i: created or sent entries, and directories with changed attributes.
    const attrsChanged = itemize !== undefined && !itemize.endsWith('         ');
    if (e.changed || (e.isDir && attrsChanged)) {
      if (!this.printing) return;
      // rsync's itemize() hands this line to the sender; the ones below are the generator's own.
      const line = formatLine(this.format ?? '%n%L', { ...e, itemize: itemize ?? '' });
      if (this.sender) this.sender(line);
      else this.reporter.item(line);
    } else if ((!e.isDir || e.local) && this.uptodate) {
      // --info=name2 (-vv): rsync names an entry whose attributes it updated, and says the others are
      // up to date (a directory only when it matched a --*-dest twin: try_dests_non).
      const name = e.generatorName ?? e.name;
      const line = attrsChanged ? name : `${name} is uptodate`;
      this.generatorBytes += 4 + Buffer.byteLength(line) + 1;
      this.reporter.item(line);
    }
  }

  deleted(entry: LineInfo): void {
    // rsync's log_delete() formats a blank file record that has only the mode: no size, owner or time.
    const e: LineInfo = { ...entry, size: 0, bytes: 0, uid: 0, gid: 0, mtimeSec: 0 };
    if (this.events) {
      this.events.entry({ path: e.name, itemize: '*deleting', size: 0 });
      return;
    }
    this.reporter.log?.deleted({ ...e, itemize: '*deleting  ' });
    // rsync's log_delete(): with a format or --info=del (-v) every deletion is printed, in the format
    // when it has %o or %i, else as "deleting NAME". --info=name (and --progress, which implies it) gives
    // rsync a format ("%n%L") too.
    if (this.c.json || (this.format === undefined && this.c.info.DEL === 0 && this.c.info.NAME === 0)) return;
    if (this.format !== undefined && (formatHas(this.format, 'i') || formatHas(this.format, 'o'))) this.reporter.item(formatLine(this.format, { ...e, itemize: '*deleting  ' }));
    else this.reporter.item(`deleting ${e.name}`);
  }

  /** -ii and --info=name2 print unchanged entries too. */
  get itemizeAll(): boolean {
    return this.all;
  }
}
