// --debug=FILTER (which -vv turns on): rsync's line for each rule that decides an entry, on the sending
// side ("[sender] hiding/showing file|directory NAME because of pattern P") and, deleting, on the
// receiving side ("[generator] protecting/risking ..."), with the list it is in (" [per-dir NAME]",
// " [global CVS]"). A rule read from a file is never quoted (rsync's filter-merge-content-echo test).

import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, put, stampTree } from '../helpers/differential.js';

afterAll(() => removeTemps());

function setup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a.o', '1\n');
  put(src, 'sub/b.o', '2\n');
  put(src, 'keep', '3\n');
  put(src, 'cache/c', '4\n');
  put(src, 'secret-marker-9x', 'hidden\n');
  put(src, '.rsync-filter', '- sec[r]et-marker-9x\n');
  put(root, 'rules', '+ keep\n- *.o\n');
  stampTree(src);
  put(root, 'dst/z.o', 'old\n');
  put(root, 'dst/gone', 'old\n');
}

const traces = (out: string): string[] => out.split('\n').filter((l) => l.includes(' because of pattern ')).sort();

describeEngines((e) => {
  const engine = e.name;

  it('-vv: the deciding rule of each entry on both sides, file rules never quoted', async () => {
    const r = await differential({ engine, setup, args: ['-a', '-vv', '-F', '--delete', '--exclude-from=rules', '--exclude=cache/', 'src/', 'dst/'] });
    expect(traces(r.arsync.stdout)).toEqual(traces(r.rsync.stdout));
    expect(traces(r.arsync.stdout)).toEqual([
      '[generator] protecting file z.o because of pattern <rule from a file read earlier>',
      '[sender] hiding directory cache because of pattern cache/',
      '[sender] hiding file a.o because of pattern <rule from a file read earlier>',
      '[sender] hiding file secret-marker-9x because of pattern <rule from a file read earlier> [per-dir .rsync-filter]',
      '[sender] hiding file sub/b.o because of pattern <rule from a file read earlier>',
      '[sender] showing file keep because of pattern <rule from a file read earlier>',
    ]);
    expect(r.arsync.stdout).not.toContain('sec[r]et');
  });

  it("--debug=FILTER: -C's list and an operator's rules are named as rsync names them", async () => {
    const r = await differential({ engine, setup, args: ['-a', '--debug=FILTER', '-C', '--filter=- cache/', 'src/', 'dst/'] });
    expect(traces(r.arsync.stdout)).toEqual(traces(r.rsync.stdout));
    expect(traces(r.arsync.stdout)).toContain('[sender] hiding file a.o because of pattern *.o [global CVS]');
    expect(traces(r.arsync.stdout)).toContain('[sender] hiding directory cache because of pattern cache/');
  });

  it("--debug=FILTER: an operator's rule ending in white space gets rsync's CAUTION line", async () => {
    const r = await differential({ engine, setup, args: ['-a', '--debug=FILTER', '--filter=- my-own-rule ', '--exclude=a ', '--include=b\t', '--filter=-! c ', '--exclude-from=rules', 'src/', 'dst/'] });
    const cautions = (out: string): string[] => out.split('\n').filter((l) => l.includes('CAUTION'));
    expect(cautions(r.arsync.stdout)).toEqual(cautions(r.rsync.stdout));
    expect(cautions(r.arsync.stdout)).toEqual([
      '[client] add_rule(- my-own-rule ) -- CAUTION: trailing whitespace!',
      '[client] add_rule(- a ) -- CAUTION: trailing whitespace!',
      '[client] add_rule(+ b\t) -- CAUTION: trailing whitespace!',
      '[client] add_rule(-! c ) -- CAUTION: trailing whitespace!',
    ]);
  });

  it('a rule as long as a path may be (4096 bytes) is discarded with rsync\'s message, the run goes on (exit 0)', async () => {
    const long = `ARGLONG-${'Q'.repeat(4200)}`;
    const r = await differential({ engine, setup, args: ['-a', `--filter=- ${long}`, 'src/', 'dst/'] });
    expect(r.arsync.code).toBe(0);
    expect(r.arsync.stderr).toBe(`discarding over-long filter: ${long}\n`);
  });
});
