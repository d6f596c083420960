// --chmod's rules as rsync 3.5's tweak_mode applies them, against rsync on every engine: files and
// directories of modes with and without set-id and sticky bits, each rule string copied by both tools
// from the same source, the resulting modes compared entry by entry. The cases that once differed: "="
// keeps the set-id and sticky bits it does not name ("u=rw" on a 4755 file is 4655), and X asks whether
// the file was executable before any rule ("a-x,a+X" keeps 751's x bits), as rsync computes it once.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';

const MODES = [0o644, 0o755, 0o4755, 0o2755, 0o1777, 0o751, 0o600, 0o000, 0o6711, 0o1644];
const RULES = [
  'u=rw', 'o=', 'a=r', 'ugo=rwx', 'u=rwX,go=rX', 'u=,g=,o=', 'a-x,a+X', 'F-x,F+X', '=r', '=rx', '+s', 'o+s', 'g+s',
  'u+s,g+t', '=t', 'u=rws', 'g=u', 'o=g', 'a+u', 'go-u', '=u', 'D2755,F644', '0', 'Da+X', 'a=X', 'u-s', 'a-st', 'o=t',
];

let src: string;
let base: string;
beforeAll(() => {
  base = tempDir('arsync-chmod-rules-');
  src = path.join(base, 'src');
  fs.mkdirSync(src);
  for (const m of MODES) {
    const o = m.toString(8);
    fs.writeFileSync(path.join(src, `f${o}`), 'x\n');
    fs.chmodSync(path.join(src, `f${o}`), m);
    fs.mkdirSync(path.join(src, `d${o}`));
    fs.chmodSync(path.join(src, `d${o}`), m);
  }
});
afterAll(() => removeTemps());

const modes = (dir: string): Record<string, string> =>
  Object.fromEntries(fs.readdirSync(dir).sort().map((n) => [n, (fs.lstatSync(path.join(dir, n)).mode & 0o7777).toString(8)]));

describeEngines((e) => {
  it('every rule gives the modes rsync gives, set-id and sticky bits included', async () => {
    let i = 0;
    for (const rule of RULES) {
      const theirs = path.join(base, `${e.name}-r${i}`);
      const ours = path.join(base, `${e.name}-a${i++}`);
      const r = spawnSync('rsync', ['-a', `--chmod=${rule}`, `${src}/`, `${theirs}/`], { encoding: 'utf8' });
      expect(r.status, `${rule}: rsync ${r.stderr}`).toBe(0);
      const a = await runCli([`--engine=${e.name}`, '-a', `--chmod=${rule}`, `${src}/`, `${ours}/`]);
      expect(a.code, `${rule}: ${show(a)}`).toBe(0);
      expect(modes(ours), rule).toEqual(modes(theirs));
    }
    // rsync 3.5's own answers for the two cases that differed, so that both sides cannot agree wrongly.
    const one = path.join(base, `${e.name}-once`);
    await runCli([`--engine=${e.name}`, '-a', '--chmod=u=rw', `${src}/f4755`, `${src}/f751`, `${one}/`]);
    expect(modes(one)).toEqual({ f4755: '4655', f751: '651' });
    const two = path.join(base, `${e.name}-twice`);
    await runCli([`--engine=${e.name}`, '-a', '--chmod=a-x,a+X', `${src}/f751`, `${two}/`]);
    expect(modes(two)).toEqual({ f751: '751' });
  });
});
