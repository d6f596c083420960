// --json as a contract (schema/summary.v1.json): every run prints exactly one document on stdout, valid
// against the shipped schema, whatever happened (success, partial transfer, a missing operand, a usage
// error, --help, a run stopped by --max-delete), while the messages a person reads still go to stderr.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { REPO, runCli, show, startCli, type CliResult } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { put } from '../helpers/differential.js';

afterAll(() => removeTemps());

const schema = JSON.parse(fs.readFileSync(path.join(REPO, 'schema', 'summary.v1.json'), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

interface Summary {
  exitCode: number;
  exitMessage: string | null;
  dryRun: boolean;
  engine: { name: string } | null;
  files: Record<string, number> | null;
  bytes: { total: number; transferred: number } | null;
  errors: { path?: string; message: string; code?: string }[];
}

/** stdout must be one JSON document that the schema accepts, and its exit code the process's. */
function summary(r: CliResult): Summary {
  let doc: unknown;
  expect(() => (doc = JSON.parse(r.stdout)), `stdout is not one JSON document:\n${r.stdout}`).not.toThrow();
  expect(validate(doc), `schema errors: ${JSON.stringify(validate.errors)}\n${r.stdout}`).toBe(true);
  const s = doc as Summary;
  expect(s.exitCode, show(r)).toBe(r.code);
  return s;
}

describe('the schema itself', () => {
  it('rejects a document that breaks the contract (so the tests below can fail)', () => {
    const good = { format: 'arsync-summary', formatVersion: 1, version: '0', exitCode: 0, exitMessage: null, dryRun: false, engine: null, elapsedMs: 1, files: null, bytes: null, errors: [] };
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, exitCode: 7 })).toBe(false);
    expect(validate({ ...good, formatVersion: 2 })).toBe(false);
    expect(validate({ ...good, errors: [{ path: 'x' }] })).toBe(false);
    const { bytes: _b, ...missing } = good;
    expect(validate(missing)).toBe(false);
  });
});

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  it('a successful copy: exit 0, the engine, counts and bytes, no errors; -v -i --stats --progress print nothing on stdout', async () => {
    const root = tempDir('arsync-json-ok-');
    put(path.join(root, 'src'), 'a.txt', 'hello\n');
    put(path.join(root, 'src'), 'sub/b.bin', Buffer.alloc(5000, 7));
    const r = await runCli(['-a', '--json', '-v', '-i', '--stats', '--progress', eng, 'src/', 'dst/'], { cwd: root });
    const s = summary(r);
    expect(s.exitCode).toBe(0);
    expect(s.exitMessage).toBeNull();
    expect(s.engine?.name).toBe(e.name);
    expect(s.files).toMatchObject({ total: 4, reg: 2, dir: 2, transferred: 2 });
    expect(s.bytes).toEqual({ total: 5006, transferred: 5006 });
    expect(s.errors).toEqual([]);
    expect(fs.readFileSync(path.join(root, 'dst/sub/b.bin'))).toEqual(Buffer.alloc(5000, 7));
  });

  it('a missing source operand: exit 23, the path in errors, the message also on stderr', async () => {
    const root = tempDir('arsync-json-missing-');
    put(path.join(root, 'src'), 'a', 'x');
    const r = await runCli(['-a', '--json', eng, 'src/', 'nope', 'dst/'], { cwd: root });
    const s = summary(r);
    expect(s.exitCode).toBe(23);
    expect(s.exitMessage).toMatch(/some files\/attrs were not transferred/);
    expect(s.errors.some((x) => x.path?.includes('nope') && x.code === 'ENOENT'), JSON.stringify(s.errors)).toBe(true);
    expect(r.stderr).toMatch(/nope/);
    expect(fs.readFileSync(path.join(root, 'dst/a'), 'utf8')).toBe('x');
  });

  it('--max-delete stopping deletions: exit 25 with deleteSkipped', async () => {
    const root = tempDir('arsync-json-maxdel-');
    put(path.join(root, 'src'), 'keep', 'k');
    for (const n of ['x1', 'x2', 'x3']) put(path.join(root, 'dst'), n, n);
    const r = await runCli(['-a', '--json', '--delete', '--max-delete=1', eng, 'src/', 'dst/'], { cwd: root });
    const s = summary(r);
    expect(s.exitCode).toBe(25);
    expect(s.files?.deleted).toBe(1);
    expect(s.files?.deleteSkipped).toBe(2);
  });

  it('a signal while the run waits on a FIFO --files-from: exit 20 and still one document', async () => {
    const root = tempDir('arsync-json-signal-');
    put(path.join(root, 'src'), 'a', 'x');
    const fifo = path.join(root, 'list');
    execFileSync('mkfifo', [fifo]);
    const run = startCli(['-a', '--json', eng, `--files-from=${fifo}`, 'src/', 'dst/'], { cwd: root });
    // Opening the FIFO for writing waits until the CLI opens it for reading: it is then blocked there.
    const fd = fs.openSync(fifo, 'w');
    run.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 50));
    fs.closeSync(fd);
    const r = await run.done;
    const s = summary(r);
    expect(s.exitCode).toBe(20);
    expect(r.stderr).toMatch(/received SIGINT, SIGTERM, or SIGHUP/);
    expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
  });

  it('a dry run says so and transfers nothing', async () => {
    const root = tempDir('arsync-json-dry-');
    put(path.join(root, 'src'), 'a', 'abc');
    const r = await runCli(['-a', '-n', '--json', eng, 'src/', 'dst/'], { cwd: root });
    const s = summary(r);
    expect(s.dryRun).toBe(true);
    expect(s.files?.transferred).toBe(1);
    expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
  });
});

describe('--json when no transfer starts', () => {
  it('a usage error is a document too: exit 1, no engine, no counts, the message (also on stderr)', async () => {
    const r = await runCli(['--json', '-a', '--bogus-option', 'a', 'b']);
    const s = summary(r);
    expect(s.exitCode).toBe(1);
    expect(s.engine).toBeNull();
    expect(s.files).toBeNull();
    expect(s.errors).toEqual([{ message: "unknown option '--bogus-option'" }]);
    expect(r.stderr).toMatch(/unknown option '--bogus-option'/);
  });

  it('a destination that cannot be made: exit 11', async () => {
    const root = tempDir('arsync-json-dest-');
    put(path.join(root, 'src'), 'a', 'x');
    const r = await runCli(['-a', '--json', 'src/', 'no/such/parent/dst'], { cwd: root });
    const s = summary(r);
    expect(s.exitCode).toBe(r.code);
    expect([3, 11]).toContain(s.exitCode);
    expect(s.errors.length).toBe(1);
  });

  it('--help under --json: the help goes to stderr, stdout is the document (exit 0)', async () => {
    const r = await runCli(['--json', '--help']);
    const s = summary(r);
    expect(s.exitCode).toBe(0);
    expect(r.stderr).toMatch(/^Usage: arsync/m);
  });

  it('--json after -- is an operand, not the option', async () => {
    const root = tempDir('arsync-json-dashdash-');
    put(path.join(root, 'src'), 'a', 'x');
    const r = await runCli(['-a', 'src/', '--', '--json'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toBe('');
    expect(fs.readFileSync(path.join(root, '--json/a'), 'utf8')).toBe('x');
  });
});
