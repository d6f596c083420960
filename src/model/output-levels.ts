// rsync's --info and --debug words: their tables, how a FLAGS string sets levels (parse_output_words in
// rsync's options.c), what each -v level adds, and the =help text. Pure: the CLI parses with it, the run
// asks `levels.info.NAME >= 1` where rsync asks INFO_GTE(NAME, 1).

export const INFO_WORDS = [
  ['BACKUP', 'Mention files backed up'],
  ['COPY', 'Mention files copied locally on the receiving side'],
  ['DEL', 'Mention deletions on the receiving side'],
  ['FLIST', 'Mention file-list receiving/sending (levels 1-2)'],
  ['MISC', 'Mention miscellaneous information (levels 1-2)'],
  ['MOUNT', 'Mention mounts that were found or skipped'],
  ['NAME', 'Mention 1) updated file/dir names, 2) unchanged names'],
  ['NONREG', 'Mention skipped non-regular files (default 1, 0 disables)'],
  ['PROGRESS', 'Mention 1) per-file progress or 2) total transfer progress'],
  ['REMOVE', 'Mention files removed on the sending side'],
  ['SKIP', 'Mention files skipped due to transfer overrides (levels 1-2)'],
  ['STATS', 'Mention statistics at end of run (levels 1-3)'],
  ['SYMSAFE', 'Mention symlinks that are unsafe'],
] as const;

export const DEBUG_WORDS = [
  ['ACL', 'Debug extra ACL info'],
  ['BACKUP', 'Debug backup actions (levels 1-2)'],
  ['BIND', 'Debug socket bind actions'],
  ['CHDIR', 'Debug when the current directory changes'],
  ['CONNECT', 'Debug connection events (levels 1-2)'],
  ['CMD', 'Debug commands+options that are issued (levels 1-2)'],
  ['DEL', 'Debug delete actions (levels 1-3)'],
  ['DELTASUM', 'Debug delta-transfer checksumming (levels 1-4)'],
  ['DUP', 'Debug weeding of duplicate names'],
  ['EXIT', 'Debug exit events (levels 1-3)'],
  ['FILTER', 'Debug filter actions (levels 1-3)'],
  ['FLIST', 'Debug file-list operations (levels 1-4)'],
  ['FUZZY', 'Debug fuzzy scoring (levels 1-2)'],
  ['GENR', 'Debug generator functions'],
  ['HASH', 'Debug hashtable code'],
  ['HLINK', 'Debug hard-link actions (levels 1-3)'],
  ['ICONV', 'Debug iconv character conversions (levels 1-2)'],
  ['IO', 'Debug I/O routines (levels 1-4)'],
  ['NSTR', 'Debug negotiation strings'],
  ['OWN', 'Debug ownership changes in users & groups (levels 1-2)'],
  ['PROTO', 'Debug protocol information'],
  ['RECV', 'Debug receiver functions'],
  ['SEND', 'Debug sender functions'],
  ['TIME', 'Debug setting of modified times (levels 1-2)'],
] as const;

export type InfoWord = (typeof INFO_WORDS)[number][0];
export type DebugWord = (typeof DEBUG_WORDS)[number][0];
export type InfoLevels = Record<InfoWord, number>;
export type DebugLevels = Record<DebugWord, number>;

/** What each -v level turns on (rsync's info_verbosity[] and debug_verbosity[]). */
const INFO_VERBOSITY = ['NONREG', 'COPY,DEL,FLIST,MISC,NAME,STATS,SYMSAFE', 'BACKUP,MISC2,MOUNT,NAME2,REMOVE,SKIP'];
const DEBUG_VERBOSITY = [
  '',
  '',
  'BIND,CMD,CONNECT,DEL,DELTASUM,DUP,FILTER,FLIST,ICONV',
  'ACL,BACKUP,CONNECT2,DELTASUM2,DEL2,EXIT,FILTER2,FLIST2,FUZZY,GENR,OWN,RECV,SEND,TIME',
  'CMD2,DELTASUM3,DEL3,EXIT2,FLIST3,ICONV2,OWN2,PROTO,TIME2',
  'CHDIR,DELTASUM4,FLIST4,FUZZY2,HASH,HLINK',
];
/** rsync's MAX_VERBOSITY: -v past this adds nothing. */
const MAX_VERBOSITY = DEBUG_VERBOSITY.length - 1;
/** rsync's MAX_OUT_LEVEL: the largest N of a wordN. */
const MAX_OUT_LEVEL = 4;

/** Who set a level: -v's defaults lose to what the user names with --info/--debug. */
export const Priority = {
  Default: 0,
  Help: 1,
  User: 2,
} as const;

type Table = readonly (readonly [string, string])[];

/** One word family's levels and who set each, mutated as the command line is read. */
export class WordLevels<W extends string> {
  readonly levels: Record<W, number>;
  private readonly priority: Record<W, number>;

  constructor(
    private readonly table: Table,
    /** "--info" or "--debug", for messages. */
    readonly option: string,
  ) {
    this.levels = Object.fromEntries(table.map(([w]) => [w, 0])) as Record<W, number>;
    this.priority = Object.fromEntries(table.map(([w]) => [w, Priority.Default])) as Record<W, number>;
  }

  /**
   * Apply a FLAGS string (rsync's parse_output_words): words separated by commas, case-insensitive,
   * a trailing number is the level (1 when absent, capped at 4), ALL sets every word, NONE silences all.
   * Returns "help" when the string asks for the help text; throws on an unknown word.
   */
  apply(str: string, priority: number): 'help' | undefined {
    for (const item of str.split(',')) {
      if (!item) continue;
      let len = item.length;
      if (!/^\d/.test(item)) while (len && /\d/.test(item[len - 1]!)) len--;
      let lev = len < item.length ? parseLevel(item.slice(len)) : 1;
      let name = item.slice(0, len).toUpperCase();
      if (name === 'HELP') return 'help';
      if (name === 'NONE') {
        name = '';
        lev = 0;
      } else if (name === 'ALL') name = '';
      let found = false;
      for (const [w] of this.table) {
        if (name && w !== name) continue;
        found = true;
        const key = w as W;
        if (priority >= this.priority[key]) {
          this.priority[key] = priority;
          this.levels[key] = lev;
        }
        if (name) break;
      }
      if (name && !found) {
        throw new Error(`Unknown ${this.option} item: "${item.slice(0, len)}"`);
      }
    }
    return undefined;
  }

  /** rsync's make_output_option() over the words `where` accepts (serverInfoOption). */
  outputOption(where: (word: string) => boolean): string | undefined {
    const counts: number[] = new Array<number>(MAX_OUT_LEVEL + 1).fill(0);
    let skipped = 0;
    let named = 0;
    let max = 0;
    let lev = 0;
    for (const [w] of this.table) {
      if (!where(w)) continue;
      const k = w as W;
      // Implied by -v: the other side works it out itself.
      if (this.priority[k] === Priority.Default) {
        skipped++;
        continue;
      }
      named++;
      if (this.priority[k] === Priority.Help) continue;
      if (++counts[this.levels[k]]! > max) {
        lev = this.levels[k];
        max = counts[lev]!;
      }
    }
    if (!named) return undefined;
    const shared = skipped || max < 5 ? -1 : lev;
    const parts = shared < 0 ? [] : [shared === 0 ? 'NONE' : shared === 1 ? 'ALL' : `ALL${shared}`];
    for (const [w] of this.table) {
      const k = w as W;
      if (this.priority[k] === Priority.Default || this.levels[k] === shared || !where(w)) continue;
      parts.push(this.levels[k] === 1 ? w : `${w}${this.levels[k]}`);
    }
    return `${this.option}=${parts.join(',')}`;
  }
}

/**
 * Which side of a transfer acts on each --info word (rsync's info_words[] "where": C the client, V the
 * server, S the sender, R the receiver): what a client tells its server about.
 */
const INFO_WHERE: Record<InfoWord, string> = {
  BACKUP: 'R', COPY: 'R', DEL: 'R', FLIST: 'C', MISC: 'SR', MOUNT: 'SR', NAME: 'SR', NONREG: 'R',
  PROGRESS: 'C', REMOVE: 'S', SKIP: 'R', STATS: 'CV', SYMSAFE: 'SR',
};

/**
 * rsync's make_output_option() for its server_options(): the --info= argument that tells a server the
 * levels the user set (beyond -v's defaults, which the server works out from -v itself) of the words a
 * server of that role acts on; undefined when there are none. When every such word was set and five or
 * more share a level, that level is said once (ALL, ALLn or NONE) and only the rest follow.
 */
export function serverInfoOption(info: WordLevels<InfoWord>, serverSends: boolean): string | undefined {
  const role = serverSends ? 'S' : 'R';
  return info.outputOption((w) => INFO_WHERE[w as InfoWord].includes('V') || INFO_WHERE[w as InfoWord].includes(role));
}

function parseLevel(digits: string): number {
  const n = Number(digits);
  // rsync's atoi() and its cap: anything past the largest level is the largest level.
  return !Number.isFinite(n) || n > MAX_OUT_LEVEL || n < 0 ? MAX_OUT_LEVEL : n;
}

export interface OutputLevels {
  info: InfoLevels;
  debug: DebugLevels;
}

export const newInfo = (): WordLevels<InfoWord> => new WordLevels<InfoWord>(INFO_WORDS, '--info');
export const newDebug = (): WordLevels<DebugWord> => new WordLevels<DebugWord>(DEBUG_WORDS, '--debug');

/** rsync's set_output_verbosity(): what -v (given `level` times) adds, beneath what the user named. */
export function applyVerbosity(info: WordLevels<InfoWord>, debug: WordLevels<DebugWord>, level: number): void {
  for (let j = 0; j <= Math.min(level, MAX_VERBOSITY); j++) {
    if (INFO_VERBOSITY[j]) info.apply(INFO_VERBOSITY[j]!, Priority.Default);
    if (DEBUG_VERBOSITY[j]) debug.apply(DEBUG_VERBOSITY[j]!, Priority.Default);
  }
}

/** rsync's output_item_help(): the word table and what each -v level adds, as --info=help prints it. */
export function wordsHelp(which: 'info' | 'debug'): string {
  const table: Table = which === 'info' ? INFO_WORDS : DEBUG_WORDS;
  const verbosity = which === 'info' ? INFO_VERBOSITY : DEBUG_VERBOSITY;
  const family = which === 'info' ? '--info' : '--debug';
  const row = (a: string, b: string): string => `${a.padEnd(10)} ${b}\n`;
  let s = 'Use OPT or OPT1 for level 1 output, OPT2 for level 2, etc.; OPT0 silences.\n\n';
  for (const [w, h] of table) s += row(w, h);
  s += '\n';
  s += row('ALL', `Set all ${family} options (e.g. all${MAX_OUT_LEVEL})`);
  s += row('NONE', `Silence all ${family} options (same as all0)`);
  s += row('HELP', 'Output this help message');
  s += '\nOptions added at each level of verbosity:\n';
  for (let j = 0; j <= MAX_VERBOSITY; j++) {
    const levels = new WordLevels<string>(table, family);
    if (verbosity[j]) levels.apply(verbosity[j]!, Priority.Help);
    // rsync's make_output_option(): the words in table order, with their level when it is not 1.
    const words = table.filter(([w]) => levels.levels[w]! > 0).map(([w]) => (levels.levels[w] === 1 ? w : `${w}${levels.levels[w]}`));
    if (words.length) s += `${j}) ${words.join(',')}\n`;
  }
  return s;
}

/** The levels -v given `verbose` times sets, alone (for callers that start from a -v count). */
export function levelsForVerbosity(verbose: number): OutputLevels {
  const info = newInfo();
  const debug = newDebug();
  applyVerbosity(info, debug, verbose);
  return { info: info.levels, debug: debug.levels };
}
