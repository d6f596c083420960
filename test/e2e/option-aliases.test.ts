// rsync's other names for options arsync has (docs/options.md, second table): --ignore-non-existing
// (--existing), --log-format (--out-format; the last one on the line wins), --no-verbose and --no-v (the
// -v count back to 0, a later -v counts on). Each against rsync on the same tree, on every engine: same
// exit code, same output lines, same result.

import { afterAll, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, freshSetup, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

describeEngines((e) => {
  const engine = e.name;

  it('--ignore-non-existing updates what the destination has and creates nothing', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '--ignore-non-existing', 'src/', 'dst/'] });
  });

  it('--log-format after --out-format: the log format is the one printed', async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', '--out-format=%i %n', '--log-format=%n%L', 'src/', 'dst/'], noItemize: true });
  });

  it('--out-format after --log-format: the out format is the one printed', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '--log-format=%n', '--out-format=%i %n%L', 'src/', 'dst/'], noItemize: true });
  });

  it('-vv --no-v: nothing listed; --no-verbose -v: the -v lines', async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', '-vv', '--no-v', 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-a', '--no-verbose', '-v', 'src/', 'dst/'], noItemize: true });
  });
});
