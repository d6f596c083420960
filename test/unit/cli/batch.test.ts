// The batch options' pure parts: item flags read back from the run's itemize strings (the inverse of
// remote/iflags.ts, which prints rsync's item flags), the FILE.sh script rsync's write_batch_shell_file
// writes, the stream-flags word both ways, and rsync's option checks.

import { describe, expect, it } from 'vitest';
import { itemFlags } from '../../../src/cli/batch-write.js';
import { batchScript, shellWord } from '../../../src/cli/batch-script.js';
import { batchFlags, matchBatchFlags } from '../../../src/cli/batch-flags.js';
import { Item, itemizeFlags } from '../../../src/remote/iflags.js';
import { parseArgs } from '../../../src/cli/options.js';
import type { Config } from '../../../src/model/config.js';

const parse = (...args: string[]): Config => {
  const p = parseArgs(['node', 'arsync', ...args]);
  if (p.kind !== 'run') throw new Error(p.kind);
  return p.config;
};

describe('itemFlags', () => {
  const modes = { f: 0o100644, d: 0o040755, L: 0o120777, D: 0o020644, S: 0o010644 };
  it("turns every itemize string back into flags rsync's log prints the same", () => {
    const lines = ['>f+++++++++', 'cd+++++++++', 'cL+++++++++', '>f..t......', '>f.st......', '.d..t......', '.f...p.....', '.f....og...', 'cL..T......',
      '>fcs.......', '.f......u..', '.f.......a.', '.f........x', '.d         ', 'hf+++++++++', 'hf         ', 'cD+++++++++', 'cS+++++++++', '.f......b..', '.f......n..'];
    for (const line of lines) {
      const mode = modes[line[1] as keyof typeof modes];
      expect(itemizeFlags(itemFlags(line), mode, { sending: false, times: !line.includes('T'), symlinkTimes: true }), line).toBe(line);
    }
  });

  it("sets rsync's bits: a transfer, a new entry, a hard link's name following", () => {
    expect(itemFlags('>f+++++++++')).toBe(Item.Transfer | Item.IsNew);
    expect(itemFlags('cd+++++++++')).toBe(Item.LocalChange | Item.IsNew);
    expect(itemFlags('hf+++++++++')).toBe(Item.LocalChange | Item.XnameFollows | Item.IsNew);
    expect(itemFlags('.d..t......')).toBe(Item.ReportTime);
    expect(itemFlags('>f.st......')).toBe(Item.Transfer | Item.ReportSize | Item.ReportTime);
  });
});

describe('batchScript', () => {
  const script = (args: string[], operands: string[], more: Partial<Parameters<typeof batchScript>[0]> = {}): string =>
    batchScript({ args, operands, file: 'B', filters: [], cvsExclude: false, from0: false, ...more }).toString('latin1');

  it("quotes as rsync's write_arg: a plain --opt= bare, the rest single-quoted, a quote as '\\''", () => {
    expect(shellWord('-a')).toBe("'-a'");
    expect(shellWord('--chmod=u+x')).toBe("--chmod='u+x'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
    expect(shellWord('--a$b=c')).toBe("'--a$b=c'");
    expect(shellWord('x`rm`')).toBe("'x`rm`'");
  });

  it('leaves out the operands and the filter options, turns the write option into --read-batch', () => {
    expect(script(['--write-batch=B', '-av', 'src/', 'dst/'], ['src/', 'dst/'])).toBe("'arsync' --read-batch='B' '-av' ${1:-'dst/'}\n");
    expect(script(['-a', '--only-write-batch', 'B', 'src/', 'dst dir/'], ['src/', 'dst dir/'])).toBe("'arsync' '-a' --read-batch 'B' ${1:-'dst dir/'}\n");
    expect(
      script(['--exclude', '*.o', '-f', '- x', '--include=y', '--write-batch=B', '-a', 'src/', 'dst/'], ['src/', 'dst/'], {
        filters: [
          { kind: 'exclude', value: '*.o' },
          { kind: 'filter', value: '- x' },
          { kind: 'include', value: 'y' },
        ],
      }),
    ).toBe("'arsync' --filter='._-' --read-batch='B' '-a' ${1:-'dst/'} <<'#E#'\n- *.o\n- x\n+ y\n#E#\n");
  });

  it('refuses a rule with a newline (the here-document could be ended by it)', () => {
    expect(() => script(['--write-batch=B', '-a', 'src/', 'dst/'], ['src/', 'dst/'], { filters: [{ kind: 'exclude', value: 'a\n#E#\nrm -rf /' }] })).toThrow(/newline/);
  });
});

describe('stream flags', () => {
  it("-a as rsync writes it: -r -o -g -l -D and --dirs (0x9f)", () => {
    expect(batchFlags(parse('-a', 'src/', 'dst/'))).toBe(0x9f);
    expect(batchFlags(parse('-aHcz', '--inplace', 'src/', 'dst/'))).toBe(0x9f | 0x20 | 0x40 | 0x100 | 0x1000);
  });

  it("a reader takes the batch's options and says which, as rsync's check_batch_flags", () => {
    const c = parse('--read-batch=B', 'dst/');
    expect(matchBatchFlags(c, 0x9f | 0x20)).toEqual([
      'Setting the --recurse (-r) option to match the batchfile.',
      'Setting the --owner (-o) option to match the batchfile.',
      'Setting the --group (-g) option to match the batchfile.',
      'Setting the --links (-l) option to match the batchfile.',
      'Setting the --devices (-D) option to match the batchfile.',
      'Setting the --hard-links (-H) option to match the batchfile.',
      'Setting the --dirs (-d) option to match the batchfile.',
    ]);
    expect(c.recursive && c.hardLinks && c.owner).toBe(true);
    expect(matchBatchFlags(parse('-a', '--read-batch=B', 'dst/'), 0x1f)).toEqual(['Clearing the --dirs (-d) option to match the batchfile.']);
  });
});

describe("rsync's checks", () => {
  it('--read-batch: the last operand is the destination; no sources', () => {
    const c = parse('--read-batch=B', 'dst/');
    expect(c.batch).toEqual({ mode: 'read', file: 'B' });
    expect(c.sources).toEqual([]);
    expect(c.dest.toString()).toBe('dst/');
  });

  it('-n writes no batch; --only-write-batch is its own mode', () => {
    expect(parse('--write-batch=B', '-n', 'src/', 'dst/').batch).toBeUndefined();
    expect(parse('--only-write-batch=B', 'src/', 'dst/').batch).toEqual({ mode: 'only-write', file: 'B' });
  });

  it('refuses what rsync refuses (exit 1)', () => {
    expect(() => parse('--write-batch=B', '--read-batch=B', 'dst/')).toThrow('--write-batch and --read-batch can not be used together');
    expect(() => parse('--read-batch=B', '--files-from=x', 'dst/')).toThrow('--read-batch cannot be used with --files-from');
    expect(() => parse('--read-batch=B', '--remove-source-files', 'dst/')).toThrow('--read-batch cannot be used with --remove-source-files');
    expect(() => parse(`--write-batch=${'b'.repeat(257)}`, 'src/', 'dst/')).toThrow('the batch-file name must be 256 characters or less.');
    expect(() => parse('--read-batch=B', 'host:dst/')).toThrow('remote destination is not allowed with --read-batch');
    // -A: a batch holds the ACL lists, locally (cli/batch-write.ts) and in a pull or a push.
    expect(parse('--only-write-batch=B', '-A', 'src/', 'dst/').batch).toEqual({ mode: 'only-write', file: 'B' });
    expect(parseArgs(['node', 'arsync', '--write-batch=B', '-aA', 'host:src/', 'dst/'])).toMatchObject({ kind: 'remote-pull' });
    expect(parseArgs(['node', 'arsync', '--only-write-batch=B', '-aA', 'src/', 'host:dst/'])).toMatchObject({ kind: 'remote-push' });
    expect(() => parse('--only-write-batch=B', 'host:dir/')).toThrow(/--only-write-batch is not supported with a listing/);
    // A pull and a push write their batches (cli/batch-tap.ts).
    const q = parseArgs(['node', 'arsync', '--write-batch=B', '-aH', 'src/', 'host:dst/']);
    expect(q.kind === 'remote-push' && q.push.config.batch).toEqual({ mode: 'write', file: 'B' });
    const p = parseArgs(['node', 'arsync', '--write-batch=B', '-aH', 'host:src/', 'dst/']);
    expect(p.kind === 'remote-pull' && p.pull.config.batch).toEqual({ mode: 'write', file: 'B' });
    // --only-write-batch too, both ways (the server is told only in a push: remote/server-args.ts).
    const oq = parseArgs(['node', 'arsync', '--only-write-batch=B', '-a', 'src/', 'host:dst/']);
    expect(oq.kind === 'remote-push' && oq.push.config.batch).toEqual({ mode: 'only-write', file: 'B' });
    const op = parseArgs(['node', 'arsync', '--only-write-batch=B', '-a', 'host:src/', 'dst/']);
    expect(op.kind === 'remote-pull' && op.pull.config.batch).toEqual({ mode: 'only-write', file: 'B' });
  });
});
