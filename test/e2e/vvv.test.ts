// Differential tests against rsync for -vvv (issue 9): the debug trace of a local copy's sender, receiver
// and generator. rsync interleaves its three processes differently from run to run, so the contract is
// the same multiset of lines (differential() compares them, pids, temp names and the work root normalised)
// and, for each process, the same lines in the same order (test/helpers/trace-order.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, put, touchNs } from '../helpers/differential.js';
import { byProcess, normaliseTrace } from '../helpers/trace-order.js';
import { sameProcessOrder, synced, tree } from '../helpers/vvv-trees.js';

afterAll(() => removeTemps());

describeEngines((e) => {
  const engine = e.name;

  it('a fresh copy: the trace of every list, entry, send and rename', async () => {
    const r = await differential({ engine, setup: tree, args: ['-avvv', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    // rsync's numbering of its incremental lists: the lists of a-b, a, a/x, b, e follow the first.
    expect(out).toContain('recv_generator(a-b,8)');
    expect(out).toContain('send_files(12, src/a/x)');
    expect(out).toContain('[receiver] receiving flist for dir 5');
    expect(out).toContain('renaming a/x/.y.<temp> to a/x/y');
    expect(out.at(-1)).toBe('[sender] _exit_cleanup(code=0, file=main.c, line=1394): about to call exit(0)');
    expect(fs.readFileSync(path.join(r.B, 'dst/a/x/y'), 'utf8')).toBe('one\n');
  });

  it('a no-op re-sync: every entry up to date, nothing sent', async () => {
    const r = await differential({ engine, setup: synced, args: ['-avvv', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    expect(out).toContain('a/x/y is uptodate');
    expect(out.filter((l) => l.startsWith('renaming'))).toEqual([]);
  });

  it('-n: the lists and indexes, no data', async () => {
    const r = await differential({ engine, setup: tree, args: ['-avvvn', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout).at(-1)).toBe('[sender] _exit_cleanup(code=0, file=main.c, line=1394): about to call exit(0) (DRY RUN)');
    expect(fs.existsSync(path.join(r.B, 'dst'))).toBe(false);
  });

  it('one changed file in a re-sync', async () => {
    const setup = (root: string): void => {
      synced(root);
      put(root, 'src/a/x/y', 'changed\n', 0o644);
      touchNs([[path.join(root, 'src/a/x/y'), '1700000100.5'], [path.join(root, 'src/a/x'), '1700000000.5']]);
    };
    const r = await differential({ engine, setup, args: ['-avvv', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout)).toContain('send_files mapped src/a/x/y of size 8');
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('--delete: delete_in_dir, delete_item and the generator\'s filter pushes and pops, as rsync', async () => {
    const setup = (root: string): void => {
      synced(root);
      put(root, 'dst/zz', 'extra\n', 0o644);
      put(root, 'dst/old/sub/k', 'extra\n', 0o644);
      put(root, 'dst/a/x/gone', 'extra\n', 0o600);
      fs.mkdirSync(path.join(root, 'dst/b/empty'));
      touchNs([['dst/a/x', 'dst/a', 'dst/b', 'dst'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string])].flat());
    };
    const r = await differential({ engine, setup, args: ['-avvv', '--delete', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    expect(out).toContain('delete_item(old) mode=40755 flags=2');
    expect(out).toContain('delete_item(old/sub/k) mode=100644 flags=4');
    expect(out).toContain('[generator] popping local filters');
    expect(fs.existsSync(path.join(r.B, 'dst/old'))).toBe(false);
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('--no-whole-file: the generator\'s sums, the sender\'s hash search and each match, as rsync', async () => {
    const setup = (root: string): void => {
      synced(root);
      const data = Buffer.alloc(20000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i >> 8) * 31) & 0xff;
      put(root, 'dst/a/x/y', data, 0o644);
      data.write('XXXX', 5000);
      put(root, 'src/a/x/y', data, 0o644);
      touchNs([[path.join(root, 'src/a/x/y'), '1700000100.5'], [path.join(root, 'dst/a/x/y'), '1700000000.5'], [path.join(root, 'src/a/x'), '1700000000.5'], [path.join(root, 'dst/a/x'), '1700000000.5']]);
    };
    const r = await differential({ engine, setup, args: ['-avvv', '--no-whole-file', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    expect(out).toContain('count=29 rem=400 blength=700 s2length=2 flength=20000');
    expect(out).toContain('match at 5600 last_match=4900 j=8 len=700 n=700');
  });
});

describeEngines((e) => {
  const engine = e.name;

  /** One inode under three names, one of them in a subdirectory (rsync's leader is the last in list order). */
  const linked = (root: string): void => {
    tree(root);
    fs.linkSync(path.join(root, 'src/t'), path.join(root, 'src/a/t2'));
    fs.linkSync(path.join(root, 'src/t'), path.join(root, 'src/b/t3'));
    touchNs(['src/a', 'src/b', 'src'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string]));
  };

  it('-H: the generator takes every list first; followers are handed over after their leader', async () => {
    const r = await differential({ engine, setup: linked, args: ['-avvvH', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout)).toContain('t => b/t3');
  });

  it('-H: a no-op re-sync', async () => {
    const setup = (root: string): void => {
      linked(root);
      fs.cpSync(path.join(root, 'src'), path.join(root, 'dst'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      fs.lutimesSync(path.join(root, 'dst/l'), 1_700_000_000, 1_700_000_000);
      fs.rmSync(path.join(root, 'dst/a/t2'));
      fs.rmSync(path.join(root, 'dst/b/t3'));
      fs.linkSync(path.join(root, 'dst/t'), path.join(root, 'dst/a/t2'));
      fs.linkSync(path.join(root, 'dst/t'), path.join(root, 'dst/b/t3'));
      touchNs(['dst/a/x', 'dst/a', 'dst/a-b', 'dst/b', 'dst/e', 'dst'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string]));
    };
    const r = await differential({ engine, setup, args: ['-avvvH', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
  });

  it('-H --no-inc-recursive: the followers are handed over after phase 1, the last first', async () => {
    const r = await differential({ engine, setup: linked, args: ['-avvvH', '--no-i-r', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    const send = byProcess(out).sender;
    expect(send.slice(send.indexOf('send_files phase=1'), send.indexOf('send_files phase=2'))).toEqual(['send_files phase=1', 'send_files(6, src/a/t2)', 'a/t2 => b/t3', 'send_files(2, src/t)', 't => b/t3']);
    expect(fs.statSync(path.join(r.B, 'dst/t')).ino).toBe(fs.statSync(path.join(r.B, 'dst/b/t3')).ino);
    // -n: nothing waits for the leader's data, each follower is handed over right after it (also incrementally).
    for (const more of [['--no-i-r'], []]) {
      const n = await differential({ engine, setup: linked, args: ['-avvvHn', ...more, 'src/', 'dst/'], noItemize: true });
      sameProcessOrder(n);
      const sender = byProcess(normaliseTrace(n.arsync.stdout)).sender;
      expect(sender[sender.findIndex((l) => l.startsWith('send_files(') && l.endsWith(', src/b/t3)')) + 2]).toMatch(/^send_files\(\d+, src\/a\/t2\)$/);
    }
  });
});

describeEngines((e) => {
  const engine = e.name;

  /** The destination has a non-empty directory where the source has a file. */
  const blocked = (root: string): void => {
    synced(root);
    fs.rmSync(path.join(root, 'dst/t'));
    put(root, 'dst/t/inside', 'kept\n', 0o644);
    touchNs([[path.join(root, 'dst/t'), '1700000000.5'], [path.join(root, 'dst'), '1700000000.5']]);
  };

  it('a file that cannot replace a non-empty directory: the make-room trace and exit 23 in _exit_cleanup', async () => {
    const r = await differential({ engine, setup: blocked, args: ['-avvv', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    expect(r.arsync.code).toBe(23);
    const out = normaliseTrace(r.arsync.stdout);
    expect(out).toContain('delete_item(t) mode=40755 flags=8');
    expect(out.at(-1)).toBe('[sender] _exit_cleanup(code=23, file=main.c, line=1394): about to call exit(23)');
    expect(fs.readFileSync(path.join(r.B, 'dst/t/inside'), 'utf8')).toBe('kept\n');
  });

  it('--delete empties that directory first (delete_item with DEL_FOR_FILE|DEL_RECURSE)', async () => {
    const r = await differential({ engine, setup: blocked, args: ['-avvv', '--delete', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout)).toContain('delete_item(t) mode=40755 flags=10');
    expect(fs.readFileSync(path.join(r.B, 'dst/t'), 'utf8')).toBe('top\n');
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('a named source directory: its first list holds only it, its entries come in a list sent with it', async () => {
    const r = await differential({ engine, setup: tree, args: ['-avvv', 'src', 'dst/'], noItemize: true, volatile: ['dst'] });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    expect(out).toContain('[sender] make_file(src,*,0)');
    expect(out).toContain('send_files(2, src)');
    expect(out).toContain('recv_files(1) starting');
  });

  it('a single file', async () => {
    const r = await differential({ engine, setup: tree, args: ['-avvv', 'src/a/x/y', 'dst/'], noItemize: true, volatile: ['dst'] });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout)).toContain('send_files(1, src/a/x/y)');
  });

  it('--exclude: the sender\'s filter lines in its make_file order', async () => {
    const r = await differential({ engine, setup: tree, args: ['-avvv', '--exclude=q', '--exclude=x/', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout)).toContain('[sender] hiding directory a/x because of pattern x/');
  });
});

describeEngines((e) => {
  const engine = e.name;

  /** synced, with one file changed. */
  const changed = (root: string): void => {
    synced(root);
    put(root, 'src/a/x/y', 'changed\n', 0o644);
    touchNs([[path.join(root, 'src/a/x/y'), '1700000100.5'], [path.join(root, 'src/a/x'), '1700000000.5']]);
  };

  it('--backup: the receiver backs the replaced file up before its rename', async () => {
    const r = await differential({ engine, setup: changed, args: ['-avvv', '--backup', 'src/', 'dst/'], noItemize: true, volatile: ['dst/a/x'] });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout)).toContain('make_backup: HLINK a/x/y successful.');
    expect(fs.readFileSync(path.join(r.B, 'dst/a/x/y~'), 'utf8')).toBe('one\n');
  });

  it('--debug=genr,send,recv without -v: the sender gets only what changed (rsync\'s itemize without NAME2)', async () => {
    const r = await differential({ engine, setup: changed, args: ['-a', '--debug=genr,send,recv', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout).filter((l) => l.startsWith('send_files('))).toEqual(['send_files(13, src/a/x/y)']);
  });

  it('--inplace: "finishing" instead of a rename; --ignore-existing and -u: the generator\'s skip lines', async () => {
    const r = await differential({ engine, setup: changed, args: ['-avvv', '--inplace', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout)).toContain('finishing a/x/y');
    for (const o of ['--ignore-existing', '-u', '-c', '--size-only']) {
      sameProcessOrder(await differential({ engine, setup: changed, args: ['-avvv', o, 'src/', 'dst/'], noItemize: true }));
    }
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('-D: the generator\'s mknod line for a FIFO it makes (and under -n)', async () => {
    const setup = (root: string): void => {
      tree(root);
      execFileSync('mkfifo', [path.join(root, 'src/a/pipe')]);
      touchNs([[path.join(root, 'src/a'), '1700000000.5']]);
    };
    for (const n of [[], ['-n']]) {
      const r = await differential({ engine, setup, args: ['-avvv', ...n, 'src/', 'dst/'], noItemize: true });
      sameProcessOrder(r);
      expect(normaliseTrace(r.arsync.stdout)).toContain('mknod(a/pipe, 010644, [0,0])');
    }
    // Without -D: the generator's skip line at the entry.
    const r = await differential({ engine, setup, args: ['-rlptvvv', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    expect(out.indexOf('skipping non-regular file "a/pipe"')).toBe(out.findIndex((l) => l.startsWith('recv_generator(a/pipe,')) + 1);
  });
});

describeEngines((e) => {
  const engine = e.name;

  /**
   * An earlier snapshot in prev/ of the tree as it is (without the symlink, and no file changed since: a
   * changed file's basis in prev/ and a symlink's twin are among what -vvv leaves out, docs/options.md).
   */
  const snapshot = (root: string): void => {
    tree(root);
    fs.rmSync(path.join(root, 'src/l'));
    touchNs([[path.join(root, 'src'), '1700000000.5']]);
    fs.cpSync(path.join(root, 'src'), path.join(root, 'prev'), { recursive: true, preserveTimestamps: true });
    touchNs(['prev/a/x', 'prev/a', 'prev/a-b', 'prev/b', 'prev/e', 'prev'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string]));
  };

  it('--link-dest: what the generator links from the snapshot never reaches the sender', async () => {
    const r = await differential({ engine, setup: snapshot, args: ['-avvv', '--link-dest=../prev', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    expect(out).toContain('a/x/y is uptodate');
    expect(out.filter((l) => l.startsWith('send_files('))).toEqual([]);
  });

  it('--link-dest: a file changed since the snapshot is received against its twin there', async () => {
    const setup = (root: string): void => {
      snapshot(root);
      put(root, 'src/a/x/y', 'changed\n', 0o644);
      touchNs([[path.join(root, 'src/a/x/y'), '1700000100.5'], [path.join(root, 'src/a/x'), '1700000000.5']]);
    };
    const r = await differential({ engine, setup, args: ['-avvv', '--link-dest=../prev', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout).some((l) => /^recv mapped \/.*\/dst\/\.\.\/prev\/a\/x\/y of size 4$/.test(l))).toBe(true);
  });

  it('--compare-dest: the generator hands on the files it finds in the snapshot', async () => {
    const r = await differential({ engine, setup: snapshot, args: ['-avvv', '--compare-dest=../prev', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
  });
});

describeEngines((e) => {
  const engine = e.name;

  /** synced, with changed files whose temp names differ from `.NAME.XXXXXX`: a dot file, a trailing dot. */
  const oddNames = (root: string): void => {
    synced(root);
    for (const n of ['src/.dot', 'dst/.dot', 'src/trail.', 'dst/trail.']) put(root, n, n.startsWith('src') ? 'new\n' : 'old\n', 0o644);
    put(root, 'src/a/x/y', 'changed\n', 0o644);
    fs.mkdirSync(path.join(root, 'dst/tmpd'));
    touchNs([
      [path.join(root, 'src/.dot'), '1700000100.5'],
      [path.join(root, 'src/trail.'), '1700000100.5'],
      [path.join(root, 'src/a/x/y'), '1700000100.5'],
      ...['src', 'dst', 'src/a/x', 'dst/tmpd'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string]),
    ]);
  };

  for (const tempDir of [[], ['-T', 'tmpd']]) {
    it(`the renaming lines name the temp file the engine made, in rsync's shape${tempDir.length ? ' (-T)' : ''}`, async () => {
      // What arsync creates in the directories its temp files go to (inotify, during its run only).
      const created = new Set<string>();
      const watchers: fs.FSWatcher[] = [];
      const r = await differential({
        engine,
        setup: oddNames,
        args: ['-avvv', ...tempDir, 'src/', 'dst/'],
        noItemize: true,
        volatile: ['dst/tmpd'],
        beforeRun: ({ B }) => {
          for (const d of tempDir.length ? ['dst/tmpd'] : ['dst', 'dst/a/x']) {
            watchers.push(fs.watch(path.join(B, d), { encoding: 'latin1' }, (_ev, f) => f && created.add(f)));
          }
        },
      });
      await new Promise((res) => setTimeout(res, 200));
      watchers.forEach((w) => w.close());
      sameProcessOrder(r);
      const renames = r.arsync.stdout.split('\n').filter((l) => l.startsWith('renaming '));
      expect(renames.map((l) => l.replace(/\.[A-Za-z0-9]{6} to /, '.<temp> to ')).sort()).toEqual(
        tempDir.length ? ['renaming tmpd/.dot.<temp> to .dot', 'renaming tmpd/trail.<temp> to trail.', 'renaming tmpd/y.<temp> to a/x/y'] : ['renaming .dot.<temp> to .dot', 'renaming .trail.<temp> to trail.', 'renaming a/x/.y.<temp> to a/x/y'],
      );
      for (const l of renames) {
        const temp = /^renaming (?:.*\/)?([^/]+) to /.exec(l)![1]!;
        expect(created.has(temp), `${l}: ${temp} was made (made: ${[...created].join(' ')})`).toBe(true);
      }
      expect(fs.readFileSync(path.join(r.B, 'dst/.dot'), 'utf8')).toBe('new\n');
    });
  }

  it('--copy-dest: the generator\'s renaming line names the temp file its copy was made in', async () => {
    const setup = (root: string): void => {
      put(root, 'src/f', 'same\n', 0o644);
      put(root, 'prev/f', 'same\n', 0o644);
      fs.mkdirSync(path.join(root, 'dst'));
      touchNs(['src/f', 'prev/f', 'src', 'prev', 'dst'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string]));
    };
    const created = new Set<string>();
    let watcher: fs.FSWatcher | undefined;
    const r = await differential({
      engine,
      setup,
      // Not -vv: its total line counts --copy-dest's copy as data (docs/options.md, "Left missing").
      args: ['-a', '--debug=recv,genr,send', '--copy-dest=../prev', 'src/', 'dst/'],
      noItemize: true,
      beforeRun: ({ B }) => {
        watcher = fs.watch(path.join(B, 'dst'), { encoding: 'latin1' }, (_ev, f) => f && created.add(f));
      },
    });
    await new Promise((res) => setTimeout(res, 200));
    watcher?.close();
    sameProcessOrder(r);
    const renames = r.arsync.stdout.split('\n').filter((l) => l.startsWith('renaming '));
    expect(renames).toHaveLength(1);
    const temp = /^renaming (\S+) to f$/.exec(renames[0]!)![1]!;
    expect(created.has(temp), `${temp} was made (made: ${[...created].join(' ')})`).toBe(true);
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('--no-inc-recursive: the whole list built depth first, sorted, then the generator\'s, sender\'s and receiver\'s passes', async () => {
    const r = await differential({ engine, setup: tree, args: ['-avvv', '--no-inc-recursive', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    expect(out.slice(0, 2)).toEqual(['building file list ... ', '[sender] make_file(.,*,0)']);
    expect(out).toContain('done');
    expect(out).toContain('recv_generator(a-b/q,4)');
    expect(out).toContain('recv_generator(a/x/y,7)');
    expect(out).toContain('received 11 names');
    expect(out).toContain('recv_files(11) starting');
    expect(fs.readFileSync(path.join(r.B, 'dst/a/x/y'), 'utf8')).toBe('one\n');
  });

  it('--no-inc-recursive: a named source, -n, a re-sync with --delete, --exclude', async () => {
    sameProcessOrder(await differential({ engine, setup: tree, args: ['-avvv', '--no-i-r', 'src', 'dst/'], noItemize: true, volatile: ['dst'] }));
    sameProcessOrder(await differential({ engine, setup: tree, args: ['-avvvn', '--no-i-r', 'src/', 'dst/'], noItemize: true }));
    sameProcessOrder(await differential({ engine, setup: tree, args: ['-avvv', '--no-i-r', '--exclude=q', '--exclude=x/', 'src/', 'dst/'], noItemize: true }));
    const setup = (root: string): void => {
      synced(root);
      put(root, 'dst/zz', 'extra\n', 0o644);
      put(root, 'dst/old/sub/k', 'extra\n', 0o644);
      put(root, 'src/a/x/y', 'changed\n', 0o644);
      touchNs([['src/a/x/y', 'src/a/x', 'dst/a/x', 'dst'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string])].flat());
    };
    const r = await differential({ engine, setup, args: ['-avvv', '--no-i-r', '--delete', 'src/', 'dst/'], noItemize: true });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout)).toContain('delete_item(old/sub/k) mode=100644 flags=4');
    expect(fs.existsSync(path.join(r.B, 'dst/zz'))).toBe(false);
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('a file copied to a new name: the sender\'s name in its list, the new one on the receiving side', async () => {
    const setup = (root: string): void => {
      tree(root);
      fs.mkdirSync(path.join(root, 'dst'));
    };
    const r = await differential({ engine, setup, args: ['-avvv', 'src/a/x/y', 'dst/new'], noItemize: true, volatile: ['dst'] });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    expect(out).toContain('[sender] make_file(y,*,0)');
    expect(out).toContain('send_files(1, src/a/x/y)');
    expect(out).toContain('recv_generator(new,1)');
    expect(out).toContain('renaming .new.<temp> to new');
    expect(fs.readFileSync(path.join(r.B, 'dst/new'), 'utf8')).toBe('one\n');
  });

  it('a file replacing one: the receiver maps the old file as its basis (also under a new name)', async () => {
    const setup = (root: string): void => {
      tree(root);
      put(root, 'dst/new', 'older\n', 0o644);
      put(root, 'dst/t', 'older\n', 0o644);
      touchNs([[path.join(root, 'dst'), '1700000000.5']]);
    };
    const r = await differential({ engine, setup, args: ['-avvv', 'src/a/x/y', 'dst/new'], noItemize: true, volatile: ['dst'] });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout)).toContain('recv mapped new of size 6');
    const t = await differential({ engine, setup, args: ['-avvv', 'src/t', 'dst/'], noItemize: true, volatile: ['dst'] });
    sameProcessOrder(t);
    expect(normaliseTrace(t.arsync.stdout)).toContain('recv mapped t of size 6');
  });
});

describeEngines((e) => {
  const engine = e.name;

  /** The tree and a second source directory. */
  const two = (root: string): void => {
    tree(root);
    put(root, 'src2/w', 'w\n', 0o644);
    put(root, 'src2/c/f', 'f\n', 0o644);
    touchNs(['src2/w', 'src2/c/f', 'src2/c', 'src2'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string]));
  };

  it('several operands: one first list (a "dir/" source\'s "." and the later operands), numbered and sorted as rsync', async () => {
    const r = await differential({ engine, setup: two, args: ['-avvv', 'src/', 'src2', 'dst/'], noItemize: true, unchanged: ['src', 'src2'] });
    sameProcessOrder(r);
    const out = normaliseTrace(r.arsync.stdout);
    expect(out).toContain('[sender] make_file(src2,*,0)');
    expect(out.filter((l) => /^send_files\(\d+, src2\)$/.test(l))).toHaveLength(1);
    expect(out).toContain('recv_files(8) starting');
    expect(fs.readFileSync(path.join(r.B, 'dst/src2/c/f'), 'utf8')).toBe('f\n');
  });

  it('several operands: named directories, files in command-line order, and --no-inc-recursive', async () => {
    for (const args of [['src', 'src2'], ['src/a/x/y', 'src/t'], ['src/a/x/y', 'src/t', 'src2'], ['--no-i-r', 'src/', 'src2'], ['--no-i-r', 'src', 'src2']]) {
      const r = await differential({ engine, setup: two, args: ['-avvv', ...args, 'dst/'], noItemize: true, volatile: ['dst'], unchanged: ['src', 'src2'] });
      sameProcessOrder(r);
      expect(r.arsync.stdout, args.join(' ')).toContain('send_files starting');
    }
  });
});

describeEngines((e) => {
  const engine = e.name;

  /** The tree with per-directory merge files at the top and in b/ (one hides b/z), one with comments and blank lines in a/. */
  const merged = (root: string): void => {
    tree(root);
    put(root, 'src/.rsync-filter', '- *.o\n', 0o644);
    put(root, 'src/b/.rsync-filter', '- z\n', 0o644);
    put(root, 'src/a/.rsync-filter', '- *.o\n+ keep\n# a comment\n\n- /abs\n', 0o644);
    put(root, 'src/b/k.o', 'object\n', 0o644);
    touchNs(['src/b', 'src/a', 'src'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string]));
  };

  it('-F and dir-merge rules: the sender\'s merge lists pushed, parsed (found or not, each rule\'s line) and popped, as rsync', async () => {
    for (const rule of [['-F'], ['--filter=: .rsync-filter'], ['--filter=:n- .rsync-filter'], ['-FF']]) {
      for (const list of [[], ['--no-i-r']]) {
        const r = await differential({ engine, setup: merged, args: ['-avvv', ...rule, ...list, 'src/', 'dst/'], noItemize: true });
        sameProcessOrder(r);
        const out = normaliseTrace(r.arsync.stdout);
        expect(out.some((l) => /^\[sender\] parse_filter_file\(.*\/src\/a\/\.rsync-filter,[ef]?c?00,4\)$/.test(l)), rule.join(' ')).toBe(true);
        const lines = out.map((l) => /^\[sender\] add_rule\(<rule from .*\/src\/a\/\.rsync-filter line (\d)>\) \[per-dir \.rsync-filter\]$/.exec(l)?.[1]);
        expect(lines.filter(Boolean)).toEqual(['1', '2', '5']);
        expect(out).toContain('[sender] popping mergelist #0 [per-dir .rsync-filter]');
        // b/.rsync-filter's "- z" hides b/z, but under ":n-" every line is a bare exclude pattern ("- z" itself).
        expect(fs.existsSync(path.join(r.B, 'dst/b/z'))).toBe(rule[0]!.includes('n-'));
      }
    }
  });

  it('-F --delete: the generator reads the destination\'s merge files in delete_in_dir, and pops them all before its phase 1', async () => {
    const setup = (root: string): void => {
      merged(root);
      fs.cpSync(path.join(root, 'src'), path.join(root, 'dst'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      put(root, 'dst/a/x/gone', 'extra\n', 0o644);
      // No entry the destination's rules protect: rsync names those in readdir order as it lists the
      // directory, arsync as it deletes (docs/options.md, "Left missing").
      fs.rmSync(path.join(root, 'dst/b/k.o'));
      fs.rmSync(path.join(root, 'dst/b/z'));
      touchNs(['dst/a/x', 'dst/a', 'dst/b', 'dst/a-b', 'dst/e', 'dst'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string]));
    };
    {
      const r = await differential({ engine, setup, args: ['-avvvF', '--delete', 'src/', 'dst/'], noItemize: true });
      sameProcessOrder(r);
      const gen = byProcess(normaliseTrace(r.arsync.stdout)).generator;
      expect(gen.some((l) => /^\[generator\] parse_filter_file\(.*\/dst\/b\/\.rsync-filter,c00,4\)$/.test(l))).toBe(true);
      expect(fs.existsSync(path.join(r.B, 'dst/a/x/gone'))).toBe(false);
    }
  });

  it('-F with a named source directory', async () => {
    sameProcessOrder(await differential({ engine, setup: merged, args: ['-avvvF', 'src', 'dst/'], noItemize: true, volatile: ['dst'] }));
  });
});
