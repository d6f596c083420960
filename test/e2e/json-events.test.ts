// --json=events: the stream is read while a large copy runs. Every line is valid against the shipped
// schema (schema/events.v1.json); the start comes before the copy ends; a file's entry event is read only
// once that file is in place under its final name with all its bytes; each file gets exactly one entry;
// a file that cannot be written gets an error event and no entry; the stream ends with the summary.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { REPO, runCli, show, startCli } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { bytes, put } from '../helpers/differential.js';

const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  removeTemps();
});

const readSchema = (f: string): object => JSON.parse(fs.readFileSync(path.join(REPO, 'schema', f), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: false });
ajv.addSchema(readSchema('summary.v1.json'));
const validate = ajv.compile(readSchema('events.v1.json'));

interface Ev {
  event: string;
  path?: string;
  itemize?: string;
  size?: number;
  message?: string;
  summary?: { exitCode: number; files: { transferred: number } | null };
  files?: { done: number; planned: number };
}

function valid(line: string): Ev {
  const ev = JSON.parse(line) as Ev;
  expect(validate(ev), `schema errors ${JSON.stringify(validate.errors)} for ${line}`).toBe(true);
  return ev;
}

describe('events schema', () => {
  it('rejects lines that break the contract', () => {
    expect(validate({ event: 'entry', elapsedMs: 1, path: 'a', itemize: '>f+++++++++', size: 1 })).toBe(true);
    expect(validate({ event: 'entry', elapsedMs: 1, path: 'a', size: 1 })).toBe(false);
    expect(validate({ event: 'bogus', elapsedMs: 1 })).toBe(false);
    expect(validate({ event: 'end', elapsedMs: 1, summary: { exitCode: 0 } })).toBe(false);
  });
});

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  it('read while a large copy runs: start first, each file once and only when it is in place, progress, end', async () => {
    const root = tempDir('arsync-events-');
    const src = path.join(root, 'src');
    const n = 400;
    for (let i = 0; i < n; i++) put(src, `d${i % 8}/f${i}`, bytes(64 * 1024 + i, i));
    const dst = path.join(root, 'dst');
    const run = startCli(['-a', '--json=events', eng, `${src}/`, `${dst}/`]);
    const seen: Ev[] = [];
    const problems: string[] = [];
    let startWhileRunning = false;
    let buf = '';
    run.child.stdout!.on('data', (d: Buffer | string) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const ev = JSON.parse(buf.slice(0, nl)) as Ev;
        buf = buf.slice(nl + 1);
        if (ev.event === 'start' && run.child.exitCode === null) startWhileRunning = true;
        // Done means done: the file is there, under its name, with every byte, when its event is read.
        if (ev.event === 'entry' && ev.itemize?.startsWith('>f')) {
          let size = -1;
          try {
            size = fs.statSync(path.join(dst, ev.path!)).size;
          } catch {
            // missing: size stays -1
          }
          if (size !== ev.size) problems.push(`${ev.path}: event says ${ev.size} bytes, the file has ${size}`);
        }
        seen.push(ev);
      }
    });
    const r = await run.done;
    expect(r.code, show(r)).toBe(0);
    expect(problems).toEqual([]);
    expect(startWhileRunning, 'the start event was read before the copy ended').toBe(true);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(seen.length);
    lines.forEach(valid);
    expect(seen[0]!.event).toBe('start');
    expect(seen.at(-1)!.event).toBe('end');
    expect(seen.at(-1)!.summary!.exitCode).toBe(0);
    const files = seen.filter((x) => x.event === 'entry' && x.itemize!.startsWith('>f')).map((x) => x.path!);
    expect(files.length).toBe(n);
    expect(new Set(files).size).toBe(n);
    expect(seen.filter((x) => x.event === 'entry' && x.path === 'd3/').length).toBe(1);
    const progress = seen.filter((x) => x.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.at(-1)!.files).toEqual({ done: n, planned: n });
    expect(r.stderr).toBe('');
  });

  it.skipIf(!isRoot)('a destination that fills up: error events for the files that did not fit, entries only for those that did', async () => {
    const root = tempDir('arsync-events-full-');
    const src = path.join(root, 'src');
    for (let i = 0; i < 12; i++) put(src, `f${String(i).padStart(2, '0')}`, bytes(200 * 1024, i));
    const mnt = path.join(root, 'small');
    fs.mkdirSync(mnt);
    sh(`mount -t tmpfs -o size=1m tmpfs '${mnt}'`);
    mounts.push(mnt);
    const r = await runCli(['-a', '--json=events', eng, `${src}/`, `${mnt}/`]);
    expect([11, 23], show(r)).toContain(r.code);
    const evs = r.stdout.trim().split('\n').map(valid);
    const done = evs.filter((x) => x.event === 'entry' && x.itemize!.startsWith('>f')).map((x) => x.path!);
    const failed = evs.filter((x) => x.event === 'error').map((x) => x.message!);
    expect(failed.some((m) => /No space left on device|ENOSPC/.test(m)), failed.join('\n')).toBe(true);
    // Every file with an entry event is complete; every other one is absent.
    for (let i = 0; i < 12; i++) {
      const name = `f${String(i).padStart(2, '0')}`;
      const there = fs.existsSync(path.join(mnt, name));
      expect(there, `${name}: on disk ${there}, entry event ${done.includes(name)}`).toBe(done.includes(name));
      if (there) expect(fs.readFileSync(path.join(mnt, name)).equals(bytes(200 * 1024, i))).toBe(true);
    }
    expect(done.length).toBeLessThan(12);
    expect(evs.at(-1)!.summary!.exitCode).toBe(r.code);
  });

  it('a usage error under --json=events: the stream is the end event alone, exit 1', async () => {
    const r = await runCli(['--json=events', '--bogus-option', 'a', 'b']);
    expect(r.code).toBe(1);
    const evs = r.stdout.trim().split('\n').map(valid);
    expect(evs.map((x) => x.event)).toEqual(['end']);
    expect(evs[0]!.summary!.exitCode).toBe(1);
  });

  it('-n under --json=events: entries as decided, nothing written', async () => {
    const root = tempDir('arsync-events-dry-');
    put(path.join(root, 'src'), 'a', 'abc');
    const r = await runCli(['-a', '-n', '--json-events', eng, 'src/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    const evs = r.stdout.trim().split('\n').map(valid);
    expect(evs.filter((x) => x.event === 'entry').map((x) => `${x.itemize} ${x.path}`)).toEqual(['cd+++++++++ ./', '>f+++++++++ a']);
    expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
  });
});
