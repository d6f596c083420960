// The remote shell of the remote e2e tests: a script given to `-e` that drops the host argument and runs
// the command it was asked to run here, through sh, as ssh would run it on the far side. With `log`, each
// command line is appended to that file first (what the client asked the far side to run).

import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes the script into `dir` (as `name`) and returns its path. */
export function fakeRsh(dir: string, o: { log?: string; name?: string } = {}): string {
  const file = path.join(dir, o.name ?? 'rsh');
  const record = o.log === undefined ? '' : `printf '%s\\n' "$*" >> '${o.log}'\n`;
  fs.writeFileSync(file, `#!/bin/sh\nshift\n${record}exec sh -c "$*"\n`, { mode: 0o755 });
  return file;
}
