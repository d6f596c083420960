// The -vvv trace of a run without an incremental list (--no-inc-recursive): rsync's sender builds the
// whole list before it sends anything, reading each directory in readdir() order and then, depth first,
// the directories it found there (each between "pushing" and "popping local filters"); the receiving
// side takes the list in that order, then sorts it: the first operand's entry has index 0, and each
// directory's files come before its subdirectories, each subdirectory followed by everything under it.
// Then the generator goes through the whole list, and the sender and the receiver handle the indexes it
// handed on, in index order. trace.ts keeps the directories and entries the run saw; trace-render.ts's
// writers print an entry sent and received as under an incremental list.

import { sentName, type RunTrace, type TraceEntry, type TraceList } from './trace.js';
import { followersOf, sorted, traceWriters, type RenderInput } from './trace-render.js';

/**
 * The lists' tree: the operands in the sender's order (a "dir/" operand's "." first, the later ones after
 * it), the ones the sorted list starts from, and each directory's list by its name.
 */
function tree(t: RunTrace): { operands: TraceEntry[]; tops: TraceEntry[]; listOf: Map<string, TraceList> } {
  const first = t.lists[0]!;
  const listOf = new Map(t.lists.filter((l) => !l.top).map((l) => [l.dir.name, l]));
  if (first.top) return { operands: [...first.listed].sort((a, b) => a.pos - b.pos), tops: sorted(first), listOf };
  // The "." list holds the later operands too: they sort among its entries.
  return { operands: [first.dir, ...first.listed.filter((e) => e.operand).sort((a, b) => a.pos - b.pos)], tops: [first.dir], listOf };
}

/** A directory's entries in the sender's (readdir) order, without the directory itself nor a later operand. */
const readOrder = (l: TraceList): TraceEntry[] => l.listed.filter((e) => e !== l.dir && !e.operand).sort((a, b) => a.pos - b.pos);

export function renderWholeTrace(t: RunTrace, o: RenderInput & { listDone: boolean }): void {
  if (!t.lists.length) return;
  const { operands, tops, listOf } = tree(t);

  // The sorted list: each directory's files, then each subdirectory and what is under it.
  const index: TraceEntry[] = [];
  const under = (l: TraceList): void => {
    for (const e of sorted(l)) {
      if (e === l.dir) continue;
      if (!e.isDir) index.push(e);
    }
    for (const e of sorted(l)) {
      if (e === l.dir || !e.isDir) continue;
      index.push(e);
      const sub = listOf.get(e.name);
      if (sub) under(sub);
    }
  };
  for (const r of tops) {
    index.push(r);
    const l = r.isDir ? listOf.get(r.name) : undefined;
    if (l) under(l);
  }

  const attached = followersOf(index.map((e, ndx) => ({ e, ndx })), o.dryRun);
  const { on, out, line, replay, sentFollower, sent, got, sums, phases, pushFilters, popFilters } = traceWriters(t, o, attached);

  // The sender builds the list: the received order is this one.
  const received: TraceEntry[] = [];
  const readDir = (l: TraceList): void => {
    const types = pushFilters(l);
    const entries = readOrder(l);
    const made = entries.map((e) => ({ pos: e.pos, print: () => line(on.flist, `[sender] make_file(${e.name},*,2)`) }));
    const left = l.said.map((s) => ({ pos: s.pos, print: () => out.print(s.text) }));
    [...made, ...left].sort((a, b) => a.pos - b.pos).forEach((x) => x.print());
    received.push(...entries);
    for (const e of entries) {
      const sub = e.isDir ? listOf.get(e.name) : undefined;
      if (sub) readDir(sub);
    }
    popFilters(types);
  };
  /** The sender sends an operand, and what it finds beneath a directory. */
  const sendOperand = (r: TraceEntry): void => {
    line(on.flist, `[sender] make_file(${sentName(r)},*,0)`);
    received.push(r);
    const l = r.isDir ? listOf.get(r.name) : undefined;
    if (l) readDir(l);
  };
  if (t.relative) relativeOperands(t, listOf, { line, pushFilters, popFilters, received, sendOperand });
  else operands.forEach(sendOperand);
  if (o.listDone) out.print('done');
  line(on.flist, 'send_file_list done');
  line(on.send, 'send_files starting');

  // The receiving side takes the list, then forks.
  line(on.recv, `server_recv(2) starting pid=${o.pid}`);
  for (const e of received) line(on.flist, `recv_file_name(${sentName(e)})`);
  line(on.flist, `received ${received.length} names`);
  line(on.flist, 'recv_file_list done');
  line(on.recv, `get_local_name count=${received.length} ${o.dest}`);
  replay(t.prefork);
  line(on.genr, `generator starting pid=${o.pid}`);
  replay(t.genHead);

  // The generator, then the sender and the receiver, each over the whole list in index order.
  index.forEach((e, i) => {
    line(on.genr, `recv_generator(${e.name},${i})`);
    replay(e.gen);
    // -R under --delete-during: an implied directory's filters pushed (no deletions there).
    const push = e.isDir ? listOf.get(e.name)?.push : undefined;
    if (push) line(on.filter, push);
    // A backup made for an entry that sends no data is the generator's.
    if (!e.isDir && !e.data) replay(e.recv);
    sums(e, i);
  });
  index.forEach((e, i) => {
    if (e.decided && !e.follower) sent(e, i);
  });
  line(on.recv, `recv_files(${index.length}) starting`);
  for (const e of index) if (e.decided && !e.follower) got(e);
  // -H: the other followers are handed over once the whole list is done (rsync's phase 1), the last first.
  const followers = index.map((e, ndx) => ({ e, ndx })).filter((f) => f.e.follower && !(f.e.leader !== undefined && attached.has(f.e.leader))).reverse();
  phases(() => {
    followers.forEach(sentFollower);
    for (const f of followers) line(on.recv, `recv_files(${f.e.name})`);
  });
}

/**
 * -R's operands in the sender's order (send_implied_dirs without an incremental list): the directories
 * above an operand that the operand before it did not have above it (rsync compares with the last path
 * it sent implied directories for), each sent and its filters pushed at its depth, which first pops those
 * pushed at that depth or deeper (change_local_filter_dir; they stay pushed while the list is built); then
 * the operand and what is beneath it.
 */
function relativeOperands(
  t: RunTrace,
  listOf: Map<string, TraceList>,
  w: { line: (on: boolean, text: string) => void; pushFilters: (l: TraceList) => string[]; popFilters: (types: readonly string[]) => void; received: TraceEntry[]; sendOperand: (r: TraceEntry) => void },
): void {
  const entryOf = new Map<string, TraceEntry>();
  for (const l of t.lists) for (const e of l.listed) entryOf.set(e.name, e);
  const pushed: Array<string[] | undefined> = [];
  let last: string[] = [];
  for (const name of t.relativeOperands) {
    const above = name.split('/').slice(0, -1);
    let common = 0;
    while (common < above.length && common < last.length && above[common] === last[common]) common++;
    if (above.length && common < above.length) {
      for (let k = common; k < above.length; k++) {
        const dir = above.slice(0, k + 1).join('/');
        const e = entryOf.get(dir);
        if (!e) continue;
        w.line(t.levels.flist, `[sender] make_file(${dir},*,2)`);
        w.received.push(e);
        const depth = k + 1;
        for (let d = pushed.length - 1; d >= depth; d--) {
          const types = pushed[d];
          if (types) w.popFilters(types);
          pushed[d] = undefined;
        }
        pushed.length = depth;
        // Without a per-directory merge rule nothing is pushed, so nothing is popped (push_local_filters' NULL).
        const l = listOf.get(dir);
        const types = l ? w.pushFilters(l) : [];
        pushed[depth] = t.dirMerge ? types : undefined;
      }
      last = above;
    }
    const r = entryOf.get(name);
    if (r) w.sendOperand(r);
  }
}
