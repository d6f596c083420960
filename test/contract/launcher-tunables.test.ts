// bin/arsync (sh) and cli/start.ts (TypeScript) share one value: the GLIBC_TUNABLES the launcher sets for
// arsync's own process when the caller set none, which the CLI then takes out of its children's
// environment. The launcher's text is read and its value compared, so the two cannot drift apart.
// Likewise NODE_EXTRA_CA_CERTS: the launcher starts Node without it (under ARSYNC_LAUNCHER_CA_CERTS) and
// cli/start.ts gives it back to arsync's children; a real pull through a remote shell that reads its
// own environment and its parent's (arsync's, as exec'd) shows both halves.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dropLauncherTunables, LAUNCHER_CA_CERTS, LAUNCHER_TUNABLES, restoreCaCerts } from '../../src/cli/start.js';
import { LAUNCHER, REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';

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

describe("the launcher's NODE_EXTRA_CA_CERTS", () => {
  it('bin/arsync moves it to the very name cli/start.ts restores it from', () => {
    const sh = fs.readFileSync(join(REPO, 'bin', 'arsync'), 'utf8');
    expect(sh).toMatch(new RegExp(`^unset ${LAUNCHER_CA_CERTS}$`, 'm'));
    expect(sh).toContain(
      `if [ -n "\${NODE_EXTRA_CA_CERTS-}" ]; then ${LAUNCHER_CA_CERTS}=$NODE_EXTRA_CA_CERTS; export ${LAUNCHER_CA_CERTS}; unset NODE_EXTRA_CA_CERTS; fi`,
    );
  });

  it('restoreCaCerts gives the value back and drops the carrier; without a carrier nothing changes', () => {
    const launched: NodeJS.ProcessEnv = { [LAUNCHER_CA_CERTS]: '/etc/certs.pem', PATH: '/bin' };
    restoreCaCerts(launched);
    expect(launched).toEqual({ NODE_EXTRA_CA_CERTS: '/etc/certs.pem', PATH: '/bin' });
    const plain: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/own.pem' };
    restoreCaCerts(plain);
    expect(plain).toEqual({ NODE_EXTRA_CA_CERTS: '/own.pem' });
  });

  it("arsync's Node starts without it and the remote shell it starts has it, as the caller set it", () => {
    const dir = tempDir('arsync-ca-');
    try {
      fs.mkdirSync(join(dir, 'src'));
      fs.writeFileSync(join(dir, 'src', 'a'), 'bytes\n');
      const certs = join(dir, 'certs.pem');
      fs.writeFileSync(certs, '');
      // The remote shell's parent is arsync's Node process; /proc/PID/environ is its environment at exec.
      const rsh = join(dir, 'rsh');
      const names = `^(NODE_EXTRA_CA_CERTS|${LAUNCHER_CA_CERTS})=`;
      fs.writeFileSync(
        rsh,
        `#!/bin/sh\ntr '\\0' '\\n' < /proc/$PPID/environ | grep -E '${names}' > '${dir}/parent.env'\n` +
          `env | grep -E '${names}' > '${dir}/self.env'\nshift\nexec sh -c "$*"\n`,
        { mode: 0o755 },
      );
      const env = { ...process.env, NODE_EXTRA_CA_CERTS: certs, [LAUNCHER_CA_CERTS]: 'stale' };
      const r = spawnSync(LAUNCHER, ['-a', '-e', rsh, `h:${dir}/src/`, `${dir}/dst/`], { env, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(fs.readFileSync(join(dir, 'dst', 'a'), 'utf8')).toBe('bytes\n');
      expect(fs.readFileSync(join(dir, 'parent.env'), 'utf8')).toBe(`${LAUNCHER_CA_CERTS}=${certs}\n`);
      expect(fs.readFileSync(join(dir, 'self.env'), 'utf8')).toBe(`NODE_EXTRA_CA_CERTS=${certs}\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
