// The shell script --write-batch leaves next to the batch (FILE.sh, rsync's write_batch_shell_file): the
// program as it was run (the script's path: Node's argv[0] is node itself), the command line again with --read-batch=FILE in place of the write option, without the operands and the
// filter options, the destination as "${1:-DEST}", and the filter rules in a here-document read through
// --filter='._-'. Every word is single-quoted as rsync quotes it (an option's "--name=" left bare when it
// is a plain option name), so nothing in a name or pattern runs in the script.

import type { FilterItem } from '../model/config.js';
import { FilterList } from '../plan/filter.js';
import { F, rulePrefix } from '../plan/filter-rules.js';
import { UsageError } from '../util/errors.js';

/** rsync's write_arg: a plain "--opt=" prefix unquoted, the rest single-quoted ('\'' for a quote). */
export function shellWord(arg: string): string {
  let head = '';
  const eq = arg.indexOf('=');
  if (arg.startsWith('-') && eq >= 0 && /^[-_0-9A-Za-z]*$/.test(arg.slice(0, eq))) {
    head = arg.slice(0, eq + 1);
    arg = arg.slice(eq + 1);
  }
  return `${head}'${arg.split("'").join("'\\''")}'`;
}

export interface ScriptInput {
  /** The command line's words after the program name, as given. */
  args: string[];
  /** The operands as the parser left them (the last is the destination). */
  operands: string[];
  /** The destination as the script names it, when not the last operand itself (a push's: its path). */
  destWord?: string;
  /** The batch's name. */
  file: string;
  /** How this program was run (rsync writes its argv[0]; Node's is the script's path), 'arsync' when unknown. */
  program?: string;
  filters: readonly FilterItem[];
  cvsExclude: boolean;
  from0: boolean;
}

/** The script's text. Throws UsageError for a rule whose pattern holds a newline (rsync refuses it, exit 1). */
export function batchScript(s: ScriptInput): Buffer {
  const rules = ruleLines(s);
  let out = shellWord(s.program ?? 'arsync');
  if (rules.length) out += ` --filter=${shellWord('._-')}`;
  // The operands are found from the end of the line, as rsync finds them, and left out.
  const words: (string | undefined)[] = [...s.args];
  for (let i = words.length - 1, j = s.operands.length - 1; i >= 0 && j >= 0; i--) {
    if (words[i] === s.operands[j]) {
      words[i] = undefined;
      j--;
    }
  }
  for (let i = 0; i < words.length; i++) {
    const p = words[i];
    if (p === undefined) continue;
    if (['--files-from', '--filter', '--include', '--exclude'].some((o) => p.startsWith(o))) {
      if (!p.includes('=')) i++;
      continue;
    }
    if (p === '-f') {
      i++;
      continue;
    }
    const write = p.startsWith('--write-batch') ? 13 : p.startsWith('--only-write-batch') ? 18 : 0;
    if (write) out += p[write] === '=' ? ` --read-batch=${shellWord(p.slice(write + 1))}` : ' --read-batch';
    else out += ` ${shellWord(p)}`;
  }
  out += ` \${1:-${shellWord(s.destWord ?? s.operands[s.operands.length - 1] ?? '')}}`;
  // The words came from argv (UTF-8 strings); rule patterns are bytes (latin1 strings).
  const parts = [Buffer.from(out, 'utf8')];
  if (rules.length) {
    let doc = " <<'#E#'\n";
    for (const r of rules) doc += r + (s.from0 ? '\0' : '\n');
    if (s.from0) doc += ';\n';
    parts.push(Buffer.from(doc + '#E#', 'latin1'));
  }
  parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** The rules of the command line, each as rsync spells it in the here-document (latin1 strings). */
function ruleLines(s: ScriptInput): string[] {
  if (!s.filters.length && !s.cvsExclude) return [];
  const list = FilterList.fromOptions(s.filters, { cvsExclude: s.cvsExclude, eolNulls: s.from0 });
  return list.globalRules.map((r) => {
    if (r.pattern.includes('\n')) throw new UsageError('cannot write a filter rule containing a newline to the batch replay script');
    return rulePrefix(r.flags) + r.pattern + (r.flags & F.DIRECTORY ? '/' : '');
  });
}
