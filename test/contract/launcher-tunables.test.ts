// bin/arsync (sh) and cli/start.ts (TypeScript) share one value: the GLIBC_TUNABLES the launcher sets for
// arsync's own process when the caller set none, which the CLI then takes out of its children's
// environment. The launcher's text is read and its value compared, so the two cannot drift apart.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dropLauncherTunables, LAUNCHER_TUNABLES } from '../../src/cli/start.js';
import { REPO } from '../helpers/cli.js';

describe("the launcher's glibc tunables", () => {
  it('bin/arsync sets exactly the value cli/start.ts removes, and only when the caller set none', () => {
    const sh = fs.readFileSync(join(REPO, 'bin', 'arsync'), 'utf8');
    const set = /^if \[ -z "\$\{GLIBC_TUNABLES-\}" \]; then GLIBC_TUNABLES=(\S+); export GLIBC_TUNABLES; fi$/m.exec(sh);
    expect(set, 'the launcher line that sets GLIBC_TUNABLES').not.toBeNull();
    expect(set![1]).toBe(LAUNCHER_TUNABLES);
  });

  it("the launcher's value is removed, any other value kept", () => {
    const launched: NodeJS.ProcessEnv = { GLIBC_TUNABLES: LAUNCHER_TUNABLES, PATH: '/bin' };
    dropLauncherTunables(launched);
    expect(launched).toEqual({ PATH: '/bin' });
    for (const value of ['glibc.malloc.arena_max=2', `${LAUNCHER_TUNABLES}:glibc.malloc.arena_max=2`, '']) {
      const own: NodeJS.ProcessEnv = { GLIBC_TUNABLES: value };
      dropLauncherTunables(own);
      expect(own).toEqual({ GLIBC_TUNABLES: value });
    }
  });
});
