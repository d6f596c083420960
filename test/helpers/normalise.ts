// What differs between an rsync run's stdout and arsync's for reasons outside what is compared (no vitest
// here: scripts use it too).

/**
 * What legitimately differs in stdout: the -v summary's byte counts and speed (rsync counts its protocol
 * traffic, arsync has none); under -vvv, pids, temp names and the work root. The "total size is N" figure is kept; -v prints nothing of arsync's own (the
 * engine line is --debug=proto's).
 */
export function normaliseOutput(out: string, _tool: 'rsync' | 'arsync'): string {
  return out
    .split('\n')
    .map((l) =>
      l
        // (-h's forms too: "9.26K", "1.05M".)
        .replace(/^sent [\d,.]+[KMGTP]? bytes\s+received [\d,.]+[KMGTP]? bytes\s+[\d,.]+[KMGTP]? bytes\/sec$/, 'sent … bytes  received … bytes  … bytes/sec')
        .replace(/^(total size is [\d,.]+[KMGTP]?)\s+speedup is [\d,.]+/, '$1  speedup is …')
        // --stats' totals are the summary's figures: where rsync's processes' timing moves them by a frame
        // header, so may arsync's (test/e2e/stream-bytes.test.ts compares them, exactly or within that).
        .replace(/^(Total bytes (?:sent|received): )[\d,.]+[KMGTP]?$/, '$1…')
        // --stats' times: how long the walk took.
        .replace(/^(File list (?:generation|transfer) time: )[\d,.]+ seconds$/, '$1… seconds')
        // -vvv's trace: process ids, temp names' random letters (their shape is kept), and the work root (A for rsync, B for arsync).
        .replace(/ pid=\d+$/, ' pid=…')
        .replace(/^renaming (.*)\.[A-Za-z0-9]{6} to /, 'renaming $1.<temp> to ')
        .replace(/^(\[\w+\] (?:pushing|popping) local filters for .*)\/[AB]\//, '$1/…/')
        .replace(/^(\[\w+\] (?:parse_filter_file\(|add_rule\(<rule from )\/.*?)\/[AB]\//, '$1/…/')
        .replace(/^(recv mapped \/.*)\/[AB]\//, '$1/…/'),
    )
    .join('\n');
}

/**
 * One run's output (stdout or stderr) made comparable with another's in a clone of the same tree: the
 * work root as ROOT, arsync's name as rsync's, and rsync's source location ("at main.c(777) [sender=…]")
 * dropped from its exit lines.
 */
export function sameRoot(text: string, root: string): string {
  return text
    .split(root)
    .join('ROOT')
    .replace(/^arsync([: ])/gm, 'rsync$1')
    .replace(/ at \S+\(\d+\) \[\w+=[^\]]+\]$/gm, '');
}

/** stderr as sameRoot() makes it, the temp names' random letters (rsync's mkstemp) left as arsync words them. */
export function sameErr(text: string, root: string): string {
  return sameRoot(text, root).replace(/^(\S+: \[receiver\] mkstemp ".*\.)[A-Za-z0-9]{6}(" failed)/gm, '$1XXXXXX$2');
}

/** stderr's lines as sameErr() makes them, sorted. */
export function sortedErrLines(text: string, root: string): string[] {
  return sameErr(text, root)
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}
