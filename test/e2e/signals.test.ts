// SIGINT/SIGTERM at any moment of a run: rsync's exit 20, never the default action (death by signal), and
// no temp file left behind. The earliest moment is checked deterministically: the CLI blocks reading a
// FIFO given as --exclude-from or --files-from (before any transfer), gets the signal there, and only then
// sees end of file. Later moments are random delays after the handlers are in place (SIGHUP's bit in
// /proc/<pid>/status SigCgt: Node itself catches SIGINT and SIGTERM from its first instruction, SIGHUP only
// once arsync asks), repeated many times.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Rng, makeTree, removeTemps, tempDir } from '../helpers/tree.js';
import { compareTrees, findTempFiles, formatDiffs } from '../helpers/compare.js';
import { show, startCli, type Running } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { fakeRsh } from '../helpers/fake-rsh.js';

let base: string;
let src: string;

beforeAll(() => {
  base = tempDir('arsync-signals-');
  src = path.join(base, 'src');
  // Large enough that a copy lasts well past the 300 ms in which the signals go out: a signal that
  // arrives while the process is already exiting (its run done) is a race no program can win.
  makeTree(src, { seed: 2020, catalogue: false, files: 2_400, maxFileSize: 200_000, xattrs: false, acls: false });
});
afterAll(() => removeTemps());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether the process has a handler for SIGHUP (bit 0 of SigCgt); false once it is gone. */
function catchesHup(pid: number): boolean | undefined {
  try {
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? (BigInt(`0x${m[1]}`) & 1n) === 1n : undefined;
  } catch {
    return undefined;
  }
}

/** Poll (a bound against hangs only, not a timing assertion) until the handlers are installed. */
async function handlersInstalled(run: Running): Promise<boolean> {
  for (let i = 0; i < 20_000; i++) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) return false;
    const pid = run.child.pid!;
    if (catchesHup(pid)) return true;
    await sleep(i < 200 ? 0 : 1);
  }
  return false;
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  it.each([
    ['SIGTERM', '--exclude-from'],
    ['SIGINT', '--exclude-from'],
    ['SIGTERM', '--files-from'],
    ['SIGINT', '--files-from'],
  ] as const)('%s while reading %s (before anything is copied): exit 20, nothing written', async (sig, opt) => {
    const fifo = path.join(base, `fifo-${e.name}-${sig}-${opt}`);
    execFileSync('mkfifo', [fifo]);
    const dst = path.join(base, `early-${e.name}-${sig}-${opt}`);
    const run = startCli(['-a', eng, `${opt}=${fifo}`, `${src}/`, `${dst}/`]);
    // Opening the FIFO for writing waits for the CLI to open it for reading: the CLI is then blocked there.
    const fd = fs.openSync(fifo, 'w');
    run.child.kill(sig);
    // Give the kernel a moment to deliver it (not an assertion: a late delivery only makes the test easier).
    await sleep(50);
    fs.closeSync(fd);
    const r = await run.done;
    expect(r.signal, show(r)).toBeNull();
    expect(r.code, show(r)).toBe(20);
    expect(r.stderr).toMatch(/received SIGINT, SIGTERM, or SIGHUP \(code 20\)/);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(fs.existsSync(dst)).toBe(false);
  });

  it('a signal at random moments from start to finish, many times: always exit 20, never a temp file', async () => {
    const rng = new Rng(e.name === 'uring' ? 11 : e.name === 'sync' ? 12 : 13);
    let delivered = 0;
    for (let i = 0; i < 10; i++) {
      const sig = i % 2 ? 'SIGINT' : 'SIGTERM';
      const dst = path.join(base, `rand-${e.name}-${i}`);
      const run = startCli(['-a', eng, `${src}/`, `${dst}/`]);
      const ready = await handlersInstalled(run);
      expect(ready, `run ${i}: the CLI ended before catching signals`).toBe(true);
      // Half the runs right away (before the first output), the rest anywhere in the first 300 ms (a run
      // that has already finished by then is not counted).
      const delay = i % 2 === 0 ? 0 : Math.floor(rng.next() * 300);
      if (delay) await sleep(delay);
      const alive = run.child.exitCode === null && run.child.signalCode === null;
      if (alive) run.child.kill(sig);
      const r = await run.done;
      if (!alive) continue; // finished before the signal went out
      if (delay > 0 && (r.code === 0 || r.signal !== null)) {
        // The signal came while the process was already on its way out, its work done: its exit code was
        // set, and Node puts the default signal actions back while it tears down. The copy must then be
        // whole, as exit 0 promises.
        const diffs = formatDiffs(compareTrees(src, dst, { xattrs: false, acls: false, hardlinks: false }));
        expect(diffs.slice(0, 5).join('; '), `run ${i}: ${sig} after ${delay} ms ended a partial copy with ${r.signal ?? r.code}`).toBe('');
        continue;
      }
      expect(r.signal, `run ${i} (${sig} after ${delay} ms): ${show(r)}`).toBeNull();
      delivered++;
      expect(r.code, `run ${i} (${sig} after ${delay} ms): ${show(r)}`).toBe(20);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      if (fs.existsSync(dst)) expect(findTempFiles(dst, src), `run ${i}: temp files`).toEqual([]);
    }
    // At least the runs signalled right after start-up (a copy of 2,400 files is never over by then).
    expect(delivered, 'signals that reached a running CLI').toBeGreaterThanOrEqual(5);
  });
});

describeEngines((e) => {
  it("a signal during a pull's transfer: exit 20 and its staging tree removed", async () => {
    const root = tempDir(`arsync-pullsig-${e.name}-`);
    const tmp = path.join(root, 'tmp');
    fs.mkdirSync(tmp);
    fs.mkdirSync(path.join(root, 'far'));
    fs.writeFileSync(path.join(root, 'far', 'big'), Buffer.alloc(2 << 20, 5));
    const rsh = fakeRsh(root);
    // --bwlimit holds the wire to 256 KiB/s: the transfer lasts about 8 s, the signal comes during it.
    const run = startCli([`--engine=${e.name}`, '-a', '--bwlimit=256', '-e', rsh, `host:${root}/far/`, `${root}/dst/`], { env: { TMPDIR: tmp } });
    const staged = (): string[] => fs.readdirSync(tmp).filter((n) => n.startsWith('arsync-pull-'));
    // Poll (a bound against hangs, not a timing assertion) until the staging tree exists.
    for (let i = 0; i < 2_000 && staged().length === 0 && run.child.exitCode === null; i++) await sleep(5);
    expect(staged()).toHaveLength(1);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code, show(r)).toBe(20);
    expect(r.stderr).toMatch(/received SIGINT, SIGTERM, or SIGHUP \(code 20\)/);
    expect(staged()).toEqual([]);
    expect(fs.existsSync(path.join(root, 'dst', 'big'))).toBe(false);
  });
});
