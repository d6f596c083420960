// src/cli/options.ts, the edges: sizes and numbers, --delete-WHEN, --info, --chmod, --out-format, backups
// and suffixes, --files-from, engine-specific refusals, and src/cli/config.ts's preserve bits. Every
// refusal here is a usage error before any I/O.

import { describe, expect, it } from 'vitest';
import { parseArgs, parseSize } from '../../../src/cli/options.js';
import { VERSION } from '../../../src/version.js';
import { preserveFlags, type Config } from '../../../src/model/config.js';
import { Preserve } from '../../../src/model/ops.js';
import { UsageError } from '../../../src/util/errors.js';

const run = (...args: string[]): Config => {
  const p = parseArgs(['node', 'arsync', ...args]);
  if (p.kind !== 'run') throw new Error('expected a run');
  return p.config;
};
const refused = (...args: string[]): string => {
  try {
    parseArgs(['node', 'arsync', ...args]);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`accepted: ${args.join(' ')}`);
};

describe('parseSize', () => {
  it("reads rsync's size syntax: K/M/G powers of 1024, KB/MB powers of 1000, +1/-1", () => {
    expect(parseSize('--max-size', '100')).toBe(100);
    expect(parseSize('--max-size', '1.5K')).toBe(1536);
    expect(parseSize('--max-size', '10m')).toBe(10 * 1024 ** 2);
    expect(parseSize('--max-size', '2G')).toBe(2 * 1024 ** 3);
    expect(parseSize('--max-size', '10KB')).toBe(10_000);
    expect(parseSize('--max-size', '10MiB')).toBe(10 * 1024 ** 2);
    expect(parseSize('--max-size', '1K+1')).toBe(1025);
    expect(parseSize('--max-size', '1K-1')).toBe(1023);
    expect(parseSize('--max-size', '1P')).toBe(1024 ** 5);
  });

  it('refuses what is not a size, and what does not fit in 64 bits', () => {
    expect(() => parseSize('--min-size', '1X')).toThrow(/^--min-size=1X is invalid$/);
    expect(() => parseSize('--min-size', '-5')).toThrow(UsageError);
    expect(() => parseSize('--max-size', '9000000P')).toThrow(/--max-size=9000000P is too large/);
  });

  it('--min-size and --max-size land in the config', () => {
    const c = run('-a', '--min-size=1k', '--max-size=2M', 'a', 'b');
    expect([c.minSize, c.maxSize]).toEqual([1024, 2 * 1024 ** 2]);
    expect(run('-a', 'a', 'b').minSize).toBeUndefined();
  });
});

describe('numbers', () => {
  it('--modify-window and --max-delete take a C int, negative allowed', () => {
    expect(run('-a', '--modify-window=-1', 'a', 'b').modifyWindow).toBe(-1);
    expect(run('-a', '--max-delete=0', 'a', 'b').maxDelete).toBe(0);
    expect(refused('-a', '--modify-window=x', 'a', 'b')).toMatch(/--modify-window=x: invalid numeric value/);
    expect(refused('-a', '--max-delete=2147483648', 'a', 'b')).toMatch(/--max-delete=2147483648: number too large or too small/);
    expect(refused('-a', '--max-delete=-2147483649', 'a', 'b')).toMatch(/number too large or too small/);
  });

  it('--workers and --queue-depth take a bounded positive number', () => {
    expect(run('-a', '--workers=256', 'a', 'b').workers).toBe(256);
    expect(refused('-a', '--workers=0', 'a', 'b')).toMatch(/--workers must be between 1 and 256, not 0/);
    expect(refused('-a', '--queue-depth=4097', 'a', 'b')).toMatch(/--queue-depth must be between 1 and 4096, not 4097/);
    expect(refused('-a', '--workers=-1', 'a', 'b')).toMatch(/--workers takes a whole number, not "-1"/);
  });
});

describe('--delete-WHEN', () => {
  it('picks the mode; --delete and --delete-excluded mean during', () => {
    expect(run('-a', 'a', 'b').deleteMode).toBe('none');
    expect(run('-a', '--delete', 'a', 'b').deleteMode).toBe('during');
    expect(run('-a', '--delete-excluded', 'a', 'b')).toMatchObject({ deleteMode: 'during', deleteExcluded: true });
    expect(run('-a', '--delete-before', 'a', 'b').deleteMode).toBe('before');
    expect(run('-a', '--delete-after', 'a', 'b').deleteMode).toBe('after');
    expect(run('-a', '--del', '--delete-during', 'a', 'b').deleteMode).toBe('during');
  });

  it('refuses two different WHENs', () => {
    expect(refused('-a', '--delete-before', '--delete-after', 'a', 'b')).toBe('You may not combine multiple --delete-WHEN options.');
    expect(refused('-a', '--del', '--delete-after', 'a', 'b')).toBe('You may not combine multiple --delete-WHEN options.');
  });

  it('--files-from transfers whole directories: --delete needs no -r there', () => {
    expect(run('-a', '--delete', '--files-from=list', 'a', 'b')).toMatchObject({ deleteMode: 'during', recursive: false, relative: true });
    expect(run('-a', '-r', '--files-from=list', 'a', 'b').recursive).toBe(true);
    expect(run('-a', '--no-relative', '--files-from=list', 'a', 'b').relative).toBe(false);
  });
});

describe('--info', () => {
  it("progress0 turns both off; progress2 is the bar alone; a word rsync lacks is rsync's error", () => {
    expect(run('-a', '--progress', '--info=progress0', 'a', 'b')).toMatchObject({ progress: false, progressFiles: false });
    expect(run('-a', '--progress', '--info=progress2', 'a', 'b')).toMatchObject({ progress: true, progressFiles: false });
    expect(run('-a', '--info=name1', 'a', 'b').info.NAME).toBe(1);
    expect(refused('-a', '--info=nam', 'a', 'b')).toBe('Unknown --info item: "nam"');
  });

  it('-v, --stats and --progress set the levels rsync sets, beneath what --info names', () => {
    expect(run('-v', 'a', 'b').info).toMatchObject({ NAME: 1, STATS: 1, FLIST: 1, DEL: 1, BACKUP: 0, NONREG: 1 });
    expect(run('-vv', 'a', 'b').info).toMatchObject({ NAME: 2, BACKUP: 1, MISC: 2, SKIP: 1 });
    expect(run('-vv', 'a', 'b').debug).toMatchObject({ FLIST: 1, DELTASUM: 1, BACKUP: 0 });
    expect(run('-vv', '--info=name0', 'a', 'b').info.NAME).toBe(0);
    expect(run('--info=name0', '-vv', 'a', 'b').info.NAME).toBe(0);
    expect(run('--stats', 'a', 'b').info.STATS).toBe(2);
    expect(run('-vv', '--stats', 'a', 'b').info.STATS).toBe(3);
    expect(run('--progress', 'a', 'b').info).toMatchObject({ NAME: 1, FLIST: 2, PROGRESS: 1 });
    expect(run('-i', '--progress', 'a', 'b').info.NAME).toBe(0);
    expect(run('-q', '-vv', 'a', 'b').info).toMatchObject({ NAME: 0, NONREG: 0 });
    expect(run('--info=all,name0', 'a', 'b').info).toMatchObject({ NAME: 0, BACKUP: 1, STATS: 1 });
    expect(run('--info=ALL9', 'a', 'b').info.STATS).toBe(4);
    expect(run('--debug=none,hlink5', 'a', 'b').debug).toMatchObject({ HLINK: 4, FLIST: 0 });
  });

  it('=help prints the table wherever it comes on the line, before operands are checked', () => {
    const p = parseArgs(['node', 'arsync', '--info=name,help']);
    expect(p.kind === 'print' && p.text.startsWith('Use OPT or OPT1 for level 1 output')).toBe(true);
    const d = parseArgs(['node', 'arsync', '--debug=HELP']);
    expect(d.kind === 'print' && d.text.includes('5) CHDIR,DELTASUM4,FLIST4,FUZZY2,HASH,HLINK\n')).toBe(true);
  });
});

describe('formats, --chmod, --json', () => {
  it('--out-format takes every escape, as rsync does, and is dropped by -q', () => {
    expect(run('-a', '--out-format=%n %c %z', 'a', 'b').outFormat).toBe('%n %c %z');
    expect(run('-a', '--out-format=%n', 'a', 'b').outFormat).toBe('%n');
    expect(run('-a', '-q', '-i', '--out-format=%n', 'a', 'b')).toMatchObject({ outFormat: undefined, itemize: 0 });
  });

  it('--chmod rules are parsed at once, a bad one is a usage error', () => {
    expect(run('-a', '--chmod=u+x', '--chmod=Fg-w', 'a', 'b').chmod).toHaveLength(2);
    expect(refused('-a', '--chmod=q+x', 'a', 'b')).toMatch(/chmod/i);
  });

  it('--json is quiet: no -v, no progress', () => {
    expect(run('-a', '--json', '-vv', '--progress', 'a', 'b')).toMatchObject({ json: true, quiet: true, verbose: 0, progress: false, progressFiles: false });
  });
});

describe('backups', () => {
  it('-b: suffix ~ and directory times left alone; --backup-dir: no suffix and times kept', () => {
    expect(run('-a', '-b', 'a', 'b')).toMatchObject({ backup: true, suffix: '~', omitDirTimes: true });
    expect(run('-a', '--backup-dir=old', 'a', 'b')).toMatchObject({ backup: true, backupDir: 'old', suffix: '', omitDirTimes: false });
    expect(run('-a', '--backup-dir=old', '--suffix=.bak', 'a', 'b').suffix).toBe('.bak');
  });

  it("refuses an empty suffix that would make the backup the file itself (rsync's checks)", () => {
    expect(refused('-a', '-b', '--suffix=', 'a', 'b')).toBe('--suffix cannot be empty without a --backup-dir');
    for (const dir of ['.', './', '../b', '/abs/b']) {
      const dest = dir === '/abs/b' ? '/abs/b' : 'b';
      expect(refused('-a', `--backup-dir=${dir}`, 'a', dest)).toBe('--suffix cannot be empty when --backup-dir is the same as the dest dir');
    }
    expect(run('-a', '--backup-dir=sub', 'a', 'b').backupDir).toBe('sub');
  });

  it('at most 20 --*-dest directories', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => `--link-dest=d${i}`);
    expect(run('-a', ...twenty, 'a', 'b').linkDest).toHaveLength(20);
    expect(refused('-a', ...twenty, '--link-dest=d20', 'a', 'b')).toBe('ERROR: at most 20 --link-dest args may be specified');
  });
});

describe('engines', () => {
  it('the node engine cannot do -X or -A; --direct is for the uring engine', () => {
    expect(refused('-aX', '--engine=node', 'a', 'b')).toMatch(/^-X\/--xattrs needs the native addon/);
    expect(refused('-aA', '--engine=node', 'a', 'b')).toMatch(/^-A\/--acls needs the native addon/);
    expect(refused('-a', '--direct', '--engine=sync', 'a', 'b')).toBe('--direct works with the uring engine only');
    expect(run('-a', '--direct', '--engine=uring', 'a', 'b').direct).toBe(true);
    expect(run('-a', '--direct', 'a', 'b').direct).toBe(true);
    expect(refused('-a', '--engine=fast', 'a', 'b')).toMatch(/--engine/);
  });

  it('--version names the version and protocol first, as rsync does, then each engine', () => {
    const p = parseArgs(['node', 'arsync', '--version']);
    const text = p.kind === 'print' ? p.text : '';
    expect(text.split('\n')[0]).toBe(`arsync  version ${VERSION}  protocol version 32`);
    expect(text).toMatch(/^ {4}node {3}usable: /m);
  });
});

describe('operands', () => {
  it('a remote --files-from is refused in a local copy, and one on another host than the transfer\'s, in rsync\'s words', () => {
    expect(refused('-a', '--files-from=host:list', 'a', 'b')).toBe('--files-from cannot be remote when the transfer is local');
    expect(refused('-a', '--files-from=other:list', 'a', 'host:b')).toBe('--files-from hostname is not the same as the transfer hostname');
    expect(refused('-a', '--files-from=host:-', 'host:a', 'b')).toBe('Invalid --files-from remote filename');
  });

  it('one operand is a listing (rsync\'s implicit --list-only), none is refused', () => {
    const one = parseArgs(['node', 'arsync', '-a', 'a']);
    expect(one.kind === 'run' && one.config.listOnly).toBe(true);
    const two = parseArgs(['node', 'arsync', '-a', 'a', 'b']);
    expect(two.kind === 'run' && two.config.listOnly).toBe(false);
    const asked = parseArgs(['node', 'arsync', '--list-only', 'a', 'b']);
    expect(asked.kind === 'run' && asked.config.listOnly).toBe(true);
    expect(refused('-a')).toBe('no source or destination given');
  });

  it('the same operand twice maps to its own bytes each time', () => {
    expect(run('-a', 'x', 'x', 'd').sources.map(String)).toEqual(['x', 'x']);
  });

  it('fromProcess reads the raw bytes of this process when they match, else the decoded strings', () => {
    const p = parseArgs(['node', 'arsync', '-a', 'a', 'b'], true);
    expect(p.kind === 'run' && p.config.sources.map(String)).toEqual(['a']);
  });
});

describe('preserveFlags', () => {
  it('maps each preserve option to its bit', () => {
    expect(preserveFlags(run('a', 'b'))).toBe(0);
    const all = run('-aAX', '--sparse', '--inplace', '-K', '-O', '--fsync', '--preallocate', 'a', 'b');
    const want =
      Preserve.Perms | Preserve.Owner | Preserve.Group | Preserve.Times | Preserve.Xattrs | Preserve.Acls | Preserve.Devices |
      Preserve.Specials | Preserve.Sparse | Preserve.Inplace | Preserve.KeepDirlinks | Preserve.OmitDirTimes |
      Preserve.Fsync | Preserve.Preallocate;
    expect(preserveFlags(all)).toBe(want);
    expect(preserveFlags(run('--partial', 'a', 'b'))).toBe(Preserve.Partial);
  });

  it('--inplace clears --partial (rsync: the target itself holds the data)', () => {
    expect(run('--partial', '--inplace', 'a', 'b').partial).toBe(false);
  });

  it('the last of -S/--no-sparse/--no-S and of --partial/-P/--no-partial wins', () => {
    expect(run('-S', '--no-sparse', 'a', 'b').sparse).toBe(false);
    expect(run('--no-S', '-S', 'a', 'b').sparse).toBe(true);
    expect(run('-S', '--no-S', 'a', 'b').sparse).toBe(false);
    expect(run('-P', '--no-partial', 'a', 'b').partial).toBe(false);
    expect(run('--no-partial', '-P', 'a', 'b').partial).toBe(true);
    expect(run('--inplace', '--no-inplace', 'a', 'b').inplace).toBe(false);
  });

  it('--del, --delete-during and --delete-delay: the last one wins; with another --delete-WHEN it is a usage error', () => {
    expect(run('-r', '--del', '--delete-delay', 'a', 'b').deleteMode).toBe('delay');
    expect(run('-r', '--delete-delay', '--delete-during', 'a', 'b').deleteMode).toBe('during');
    expect(run('-r', '--delete-delay', 'a', 'b').incRecursive).toBe(true);
    expect(() => run('-r', '--delete-delay', '--delete-after', 'a', 'b')).toThrow(/multiple --delete-WHEN/);
  });
});

describe('--info for the server (rsync\'s make_output_option in server_options)', () => {
  // Each row: what rsync 3.5's client gives a receiving (push) and a sending (pull) server, taken from
  // its remote shell's argv.
  const rows: [string[], string | undefined, string | undefined][] = [
    [['--info=skip2'], '--info=SKIP2', undefined],
    [['--info=name2,del'], '--info=DEL,NAME2', '--info=NAME2'],
    [['--info=all'], '--info=ALL', '--info=ALL'],
    [['--info=all2'], '--info=ALL2', '--info=ALL2'],
    [['-v', '--info=skip2'], '--info=SKIP2', undefined],
    [['--info=none'], '--info=NONE', '--info=NONE'],
    [['--info=all,name0'], '--info=ALL,NAME0', '--info=ALL,NAME0'],
    [['--info=stats2'], '--info=STATS2', '--info=STATS2'],
    [['--info=progress2'], undefined, undefined],
    [['--info=flist0,remove'], undefined, '--info=REMOVE'],
    [['-q', '--info=name'], '--info=NAME', '--info=NAME'],
    [['-vv'], undefined, undefined],
  ];
  it.each(rows)('%j: push %s, pull %s', (args, push, pull) => {
    const c = run('-a', ...args, 'a', 'b');
    expect(c.serverInfo?.receiver).toBe(push);
    expect(c.serverInfo?.sender).toBe(pull);
  });
});
