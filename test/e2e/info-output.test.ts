// rsync's output options against rsync 3.5 on the same tree, on every engine: -v/-vv's lines (no arsync
// line among them), --info and --debug words and levels with their =help tables, --stderr/--msgs2stderr,
// --log-file/--log-file-format (rsync's prefix, items, escapes), %o, -V's protocol line and -VV's JSON
// capabilities (xattrs and ACLs only where the engine has them), --stats' file list generation time.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { differential, freshSetup, put, syncedSetup, updateSetup, deleteSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

const rsync = (args: string[], cwd?: string) => spawnSync('rsync', args, { cwd, encoding: 'latin1' });

it('--info=help and --debug=help print rsync\'s tables, byte for byte, and exit 0', async () => {
  for (const a of ['--info=help', '--debug=help', '--info=name2,HELP']) {
    const r = await runCli([a]);
    const want = rsync([a]);
    expect(r.code, a).toBe(0);
    expect(r.stdout, a).toBe(want.stdout);
  }
});

it("an unknown word is rsync's error, exit 1, nothing written", async () => {
  const root = tempDir('arsync-info-');
  put(root, 'src/f', 'x');
  // rsync prints the unknown words without its name (rprintf lines), the --stderr refusal with it.
  for (const [a, msg] of [['--info=nam', 'Unknown --info item: "nam"'], ['--debug=hlinkx2', 'Unknown --debug item: "hlinkx"'], ['--stderr=x', 'arsync: --stderr mode "x" is not one of errors, all, or client']]) {
    const r = await runCli(['-a', a!, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, a).toBe(1);
    expect(r.stderr.split('\n')[0], a).toBe(msg);
    expect(rsync(['-a', a!, `${root}/src/`, `${root}/dst/`]).status, a).toBe(1);
    expect(fs.existsSync(`${root}/dst`), a).toBe(false);
  }
});

it("--version: rsync's protocol line first; -VV: rsync's JSON keys, xattrs and ACLs as the engine can", async () => {
  const v = await runCli(['--version']);
  expect(v.code).toBe(0);
  expect(v.stdout.split('\n')[0]).toMatch(/^arsync {2}version \d+\.\d+\.\d+ {2}protocol version 32$/);
  expect(v.stdout).toMatch(/^Capabilities:\n {4}64-bit files, /m);
  expect(v.stdout).toContain('no crtimes');
  const vv = await runCli(['-VV', '--engine=node']);
  const doc = JSON.parse(vv.stdout) as { capabilities: Record<string, unknown>; protocol: string };
  const keys = Object.keys((JSON.parse(rsync(['-VV']).stdout) as { capabilities: object }).capabilities);
  expect(Object.keys(doc.capabilities)).toEqual(keys);
  expect(doc.protocol).toBe('32.0');
  expect(vv.stdout).toContain('"xattrs": false');
  expect(doc.capabilities['ACLs']).toBe(false);
  expect(doc.capabilities['crtimes']).toBe(false);
  expect(doc.capabilities['inplace']).toBe(true);
});

describeEngines((e) => {
  const engine = e.name;

  it('-v prints rsync\'s lines and nothing of arsync\'s; the engine line is --debug=proto\'s', async () => {
    const r = await differential({ engine, setup: updateSetup, args: ['-av', 'src/', 'dst/'], noItemize: true });
    expect(r.arsync.stdout).not.toMatch(/^engine: /m);
    const root = tempDir('arsync-info-');
    put(root, 'src/f', 'x');
    const p = await runCli(['-a', '--debug=proto', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(p.stdout).toMatch(new RegExp(`^engine: ${engine} \\(`, 'm'));
  });

  it('-vv: rsync\'s lines on a fresh copy, an update and an unchanged tree ("X is uptodate")', async () => {
    await differential({ engine, setup: freshSetup, args: ['-avv', 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-avv', 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: syncedSetup, args: ['-avv', 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-avvn', 'src/', 'dst/'], noItemize: true });
  });

  it('--info words alone and against -v: name, name2, name0, del, nonreg, all/none', async () => {
    await differential({ engine, setup: syncedSetup, args: ['-a', '--info=name2', 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-av', '--info=name0', 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: deleteSetup, args: ['-a', '--delete', '--info=del', 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: deleteSetup, args: ['-av', '--delete', '--info=none', 'src/', 'dst/'], noItemize: true });
    // -r without -l: each symlink is a special file rsync names, also when the destination already has it.
    await differential({ engine, setup: freshSetup, args: ['-rt', '--info=nonreg0', 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: freshSetup, args: ['-rt', 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: syncedSetup, args: ['-rt', 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-a', '--info=flist,stats1', '--debug=flist', 'src/', 'dst/'], noItemize: true });
  });

  it('--stderr=all and --msgs2stderr: every line on stderr, none on stdout; --stderr=client prints as the default', async () => {
    for (const a of ['--stderr=all', '--msgs2stderr', '--stderr=client --msgs2stderr']) {
      const r = await differential({ engine, setup: updateSetup, args: ['-av', ...a.split(' '), 'src/', 'dst/'], noItemize: true });
      expect(r.arsync.stdout, a).toBe('');
      expect(r.arsync.stderr, a).toContain('sending incremental file list\n');
      expect(r.arsync.stderr, a).toMatch(/^a\.txt$/m);
    }
    for (const a of ['--stderr=c', '--no-msgs2stderr', '--msgs2stderr --stderr=e']) {
      const r = await differential({ engine, setup: updateSetup, args: ['-av', ...a.split(' '), 'src/', 'dst/'], noItemize: true });
      expect(r.arsync.stdout, a).toMatch(/^a\.txt$/m);
    }
  });

  it("--info=backup and -vv: rsync's backup_dir and 'backed up X to Y' lines, for replaced and deleted entries", async () => {
    await differential({ engine, setup: deleteSetup, args: ['-a', '--info=backup', '--delete', '-b', 'src/', 'dst/'], volatileDirsUnder: ['dst'] });
    await differential({ engine, setup: deleteSetup, args: ['-avv', '--delete', '--backup-dir=../bk', 'src/', 'dst/'], noItemize: true, volatileDirsUnder: ['bk'] });
  });

    it('%o is "send" for entries and "del." for deletions, as rsync\'s local client prints', async () => {
    await differential({ engine, setup: deleteSetup, args: ['-a', '--delete', '--out-format=%o %n', 'src/', 'dst/'], noItemize: true });
  });

  it("--log-file: rsync's prefix and lines, control characters escaped as rsync's log escapes them", async () => {
    const setup = (root: string): void => {
      deleteSetup(root);
      put(root, 'src/esc\x1bname', 'x');
      fs.writeFileSync(Buffer.from(path.join(root, 'src/c1\xc2\x9bname'), 'latin1'), 'y');
      put(root, 'src/tab\tname', 'z');
    };
    const strip = (log: string): string[] =>
      log.split('\n').filter((l) => l !== '').map((l) => {
        expect(l).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[\d+\] /);
        return l.replace(/^[^\]]*\] /, '');
      });
    for (const extra of [[], ['--log-file-format=%o %n%L %l'], ['-v'], ['-n'], ['-i']]) {
      const logs = tempDir('arsync-log-');
      const args = (who: string) => ['-a', '--delete', `--log-file=${logs}/${who}.log`, ...extra, 'src/', 'dst/'];
      await differential({ engine, setup, args: args('arsync'), rsyncArgs: args('rsync'), noItemize: true });
      const a = strip(fs.readFileSync(`${logs}/rsync.log`, 'latin1'));
      const b = strip(fs.readFileSync(`${logs}/arsync.log`, 'latin1'));
      // Totals differ (rsync counts its protocol bytes): the entry lines must not. Their order is not
      // compared: rsync's generator and sender processes both append to the log.
      const entries = (l: string[]) => l.filter((x) => !/^(sent|total size) /.test(x)).sort();
      expect(entries(b), extra.join(' ')).toEqual(entries(a));
      expect(b.some((x) => /^sent [\d,]+ bytes {2}received [\d,]+ bytes/.test(x)), extra.join(" ")).toBe(true);
      const raw = fs.readFileSync(`${logs}/arsync.log`);
      expect(raw.includes(0x1b)).toBe(false);
      expect(raw.includes(0x9b)).toBe(false);
      // A tab stays a tab, as in rsync's log (under -n no file transfer is logged at all).
      if (!extra.includes('-n')) expect(raw.toString('latin1')).toContain('tab\tname');
    }
  });

  it("a --log-file that cannot be opened: rsync's two lines (strerror's words and the client's role on stderr, the notice on stdout), then the copy, exit 0", async () => {
    const root = tempDir('arsync-info-');
    put(root, 'src/f', 'x');
    for (const log of [root, `${root}/missing/x.log`]) {
      const theirs = spawnSync('rsync', ['-a', `--log-file=${log}`, `${root}/src/`, `${root}/dst-rsync/`], { encoding: 'utf8' });
      expect(theirs.status).toBe(0);
      const r = await runCli(['-a', `--log-file=${log}`, `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe(theirs.stderr.replace(/^rsync: /, 'arsync: '));
      expect(theirs.stdout).toBe('Ignoring "log file" setting.\n');
      expect(r.stdout).toBe(theirs.stdout);
      expect(fs.readFileSync(`${root}/dst/f`, 'utf8')).toBe('x');
    }
  });

  it("--stats' file list generation time is the listing's, not the copy's (a rate-limited copy of 256 KiB)", async () => {
    const root = tempDir('arsync-info-');
    put(root, 'src/a/f', Buffer.alloc(256 * 1024, 7));
    put(root, 'src/b', 'x');
    const t0 = performance.now();
    const r = await runCli(['-a', '--stats', '--bwlimit=256', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    const wall = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(`${root}/dst/a/f`).equals(Buffer.alloc(256 * 1024, 7))).toBe(true);
    const gen = Number(/^File list generation time: ([\d.]+) seconds$/m.exec(r.stdout)?.[1]);
    // The copy is held to 256 KiB/s, so the run lasts about a second; listing three entries does not.
    expect(wall).toBeGreaterThan(0.8);
    expect(gen).toBeLessThan(wall / 2);
  });
});
