// The -vvv trace written out (trace.ts keeps it): rsync's incremental file list numbered as rsync numbers
// it, and the lines of its four writers (the sender; the receiving side before it forks; the generator;
// the receiver) in one order a local rsync could print them in: each writer's lines in its own order,
// each directory's list handled by the generator, then the sender, then the receiver.
//
// rsync's numbering: the first list's directory has index 0 and its entries start at 1; each later list
// starts one past the end of the list sent before it, and its own directory has the index before its
// first entry. Directories are numbered (in "receiving flist for dir N") in the order the lists that hold
// them arrive, each list's directories in its order.

import { tempName } from '../model/temp-name.js';
import { UNKNOWN_LETTERS, sentName, type Said, type TraceEntry, type TraceList, type RunTrace } from './trace.js';

export interface RenderInput {
  /** The destination operand as given (rsync's get_local_name). */
  dest: string;
  pid: number;
  /** -H: rsync's generator takes in every list before it starts (and links followers last). */
  hardLinks: boolean;
  /** --inplace: the receiver writes the file itself ("finishing NAME", no rename). */
  inplace: boolean;
  /** -T DIR as given: temp files are made there. */
  tempDir?: string | undefined;
  /** -n: nothing waits for a leader's data, so -H's followers are handed over right after it. */
  dryRun: boolean;
}

/** An entry and its index in rsync's list. */
export interface Indexed {
  e: TraceEntry;
  ndx: number;
}

/** -H's followers (those with a known leader under -n, see RenderInput.dryRun) by their leader's name, the last first. */
export function followersOf(all: readonly Indexed[], dryRun: boolean): Map<string, Indexed[]> {
  const by = new Map<string, Indexed[]>();
  if (!dryRun) return by;
  for (const f of all) {
    if (!f.e.follower || f.e.leader === undefined) continue;
    const list = by.get(f.e.leader) ?? [];
    list.push(f);
    by.set(f.e.leader, list);
  }
  for (const list of by.values()) list.sort((a, b) => b.ndx - a.ndx);
  return by;
}

/** A list's entries in rsync's order: non-directories first, then directories with their trailing "/". */
export function sorted(l: TraceList): TraceEntry[] {
  const head = l.listed.filter((e) => e === l.dir);
  const files = l.listed.filter((e) => e !== l.dir && !e.isDir);
  // The operands come in command-line order: the receiver sorts them with the rest.
  if (l.top || l.listed.some((e) => e.operand)) files.sort((a, b) => byteOrder(a.name, b.name));
  const dirs = l.listed.filter((e) => e !== l.dir && e.isDir).sort((a, b) => byteOrder(`${a.name}/`, `${b.name}/`));
  return [...head, ...files, ...dirs];
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));

/** rsync's numbering of the lists (see the head comment): each list's entries, its first index, each directory's number. */
export function numbering(lists: readonly TraceList[]): { entries: TraceEntry[][]; starts: number[]; dirNo: Map<string, number> } {
  const entries = lists.map(sorted);
  const starts: number[] = [];
  let next = 1;
  for (const e of entries) {
    starts.push(next);
    next += e.length + 1;
  }
  const dirNo = new Map<string, number>();
  for (const list of entries) for (const e of list) if (e.isDir && !dirNo.has(e.name)) dirNo.set(e.name, dirNo.size);
  return { entries, starts, dirNo };
}

/**
 * The temp file the receiver renames over `name`: beside it, or in -T's directory, in rsync's shape
 * (model/temp-name.ts) with the letters the engine reported.
 */
function tempFor(name: string, tempDir: string | undefined, letters: string): string {
  const slash = name.lastIndexOf('/');
  const temp = tempName(Buffer.from(name.slice(slash + 1)), tempDir !== undefined, letters).toString();
  return tempDir === undefined ? `${name.slice(0, slash + 1)}${temp}` : `${tempDir.replace(/\/+$/, '')}/${temp}`;
}

/**
 * The lines every shape of list writes alike: an entry sent, an entry received, the phases. `attached`:
 * followers handed over with their leader (followersOf).
 */
export function traceWriters(t: RunTrace, o: RenderInput, attached: ReadonlyMap<string, Indexed[]> = new Map()) {
  const on = t.levels;
  const out = t.inner;
  const line = (when: boolean, text: string): void => {
    if (when) out.item(text);
  };
  // A line kept before its op ran gets the temp letters the engine reported since.
  const textOf = (s: Said): string => (s.renames?.temp ? s.text.replace(`.${UNKNOWN_LETTERS} to `, `.${s.renames.temp} to `) : s.text);
  const replay = (said: Said[]): void => said.forEach((s) => out[s.how](textOf(s)));
  const path = (e: TraceEntry): string => `${e.base}${sentName(e)}`;
  /** The sender: a -H follower (no data: the receiver links it). */
  const sentFollower = (f: Indexed): void => {
    line(on.send, `send_files(${f.ndx}, ${path(f.e)})`);
    replay(f.e.send);
  };
  /** The sender: an index the generator handed it, and the followers handed with it. */
  const sent = (e: TraceEntry, ndx: number): void => {
    sendData(e, ndx);
    attached.get(e.name)?.forEach(sentFollower);
  };
  const sendData = (e: TraceEntry, ndx: number): void => {
    line(on.send, `send_files(${ndx}, ${path(e)})`);
    if (!e.data) return replay(e.send);
    line(on.deltasum, `send_files mapped ${path(e)} of size ${e.size}`);
    line(on.deltasum, `calling match_sums ${path(e)}`);
    replay(e.send);
    const d = e.delta;
    if (d && d.len > 0 && d.count > 0) {
      line(on.deltasum, 'built hash table');
      line(on.deltasum, `hash search b=${d.blength} len=${d.len}`);
      for (const m of d.matches) line(on.deltasum, m);
      line(on.deltasum, 'done hash search');
    }
    line(on.deltasum, 'sending file_sum');
    line(on.deltasum, `false_alarms=${d?.falseAlarms ?? 0} hash_hits=${d?.hashHits ?? 0} matches=${d?.matchCount ?? 0}`);
    line(on.send, `sender finished ${path(e)}`);
  };
  /** The receiver: an entry whose index came back to it, and the followers handed with it. */
  const got = (e: TraceEntry): void => {
    place(e);
    for (const f of attached.get(e.name) ?? []) line(on.recv, `recv_files(${f.e.name})`);
  };
  const place = (e: TraceEntry): void => {
    line(on.recv, `recv_files(${e.name})`);
    if (!e.data) return;
    if (e.basis > 0) line(on.deltasum, `recv mapped ${e.basisName ?? e.name} of size ${e.basis}`);
    line(on.deltasum, 'got file_sum');
    if (e.failed) return;
    if (o.inplace) return line(on.recv, `finishing ${e.name}`);
    replay(e.recv);
    line(on.recv, `renaming ${tempFor(e.name, o.tempDir, e.temp ?? UNKNOWN_LETTERS)} to ${e.name}`);
  };
  /** The generator's sums of an entry's basis (--no-whole-file). */
  const sums = (e: TraceEntry, ndx: number): void => {
    const d = e.delta;
    if (!d) return;
    line(on.deltasum, `generating and sending sums for ${ndx}`);
    if (d.count) line(on.deltasum, `count=${d.count} rem=${d.remainder} blength=${d.blength} s2length=${d.s2length} flength=${d.flength}`);
  };
  /** The sender enters a list's directory: rsync's push_local_filters; returns what pushed merge lists are to be popped. */
  const pushFilters = (l: TraceList): string[] => {
    line(on.filter, `[sender] pushing local filters for ${l.abs}`);
    const m = t.mergesOf(l.abs);
    m?.lines.forEach((s) => line(on.filter, s));
    return m?.types ?? [];
  };
  /** rsync's pop_local_filters: the merge lists go last first. */
  const popFilters = (types: readonly string[]): void => {
    line(on.filter, '[sender] popping local filters');
    for (let i = types.length; i-- > 0; ) if (types[i] !== undefined) line(on.filter, `[sender] popping mergelist #${i}${types[i]}`);
  };
  /** After the pass: the generator's tail and the three processes' phases; `first`: what they do in phase 1's end. */
  const phases = (first?: () => void): void => {
    replay(t.genTail);
    replay(t.genLast);
    line(on.genr, 'generate_files phase=1');
    line(on.send, 'send_files phase=1');
    line(on.recv, 'recv_files phase=1');
    first?.();
    line(on.genr, 'generate_files phase=2');
    line(on.send, 'send_files phase=2');
    line(on.send, 'send files finished');
    line(on.recv, 'recv_files phase=2');
    line(on.recv, 'recv_files finished');
    line(on.genr, 'generate_files phase=3');
    line(on.genr, 'generate_files finished');
  };
  return { on, out, line, replay, sentFollower, sent, got, sums, phases, pushFilters, popFilters };
}

/**
 * The lists in rsync's sending order: its sender walks the directories depth first, each list's
 * subdirectories in list order (send_extra_file_list). The walk lists them in that order already; under
 * -R the operands' own order and their implied directories' lists are put in it here.
 */
function sendingOrder(t: RunTrace): TraceList[] {
  if (!t.relative || !t.lists.length) return t.lists;
  const byDir = new Map(t.lists.filter((l) => !l.top).map((l) => [l.dir.name, l]));
  const out = new Set<TraceList>();
  const visit = (l: TraceList): void => {
    out.add(l);
    for (const e of sorted(l)) {
      const sub = e.isDir && e !== l.dir ? byDir.get(e.name) : undefined;
      if (sub && !out.has(sub)) visit(sub);
    }
  };
  visit(t.lists[0]!);
  for (const l of t.lists) out.add(l);
  return [...out];
}

export function renderTrace(t: RunTrace, o: RenderInput): void {
  const lists = sendingOrder(t);
  if (!lists.length) return;
  const { entries, starts, dirNo } = numbering(lists);
  const attached = followersOf(entries.flatMap((list, k) => list.map((e, i) => ({ e, ndx: starts[k]! + i }))), o.dryRun);
  const { on, out, line, replay, sentFollower, sent, got, sums, phases, pushFilters, popFilters } = traceWriters(t, o, attached);
  // rsync's sender keeps one pushed state per depth (change_local_filter_dir): entering a directory pops
  // those at its depth and deeper, the end of the lists pops them all. Without a per-directory merge rule
  // nothing is pushed, so nothing is popped.
  const pushed: Array<{ depth: number; types: string[] }> = [];
  const popTo = (depth: number): void => {
    while (t.dirMerge && pushed.length && pushed.at(-1)!.depth >= depth) popFilters(pushed.pop()!.types);
  };
  const isAttached = (e: TraceEntry): boolean => e.leader !== undefined && attached.has(e.leader);
  // The sender's order: readdir()'s ("." first).
  const names = (l: TraceList): TraceEntry[] => [...l.listed].sort((a, b) => a.pos - b.pos);
  const received = (l: TraceList, who?: string): void => {
    if (who) line(on.flist, `[${who}] receiving flist for dir ${dirNo.get(l.dir.name) ?? 0}`);
    for (const e of names(l)) line(on.flist, `recv_file_name(${sentName(e)})`);
    line(on.flist, `received ${names(l).length} names`);
    line(on.flist, 'recv_file_list done');
  };
  const early = lists.filter((l, k) => k === 0 || l.early);
  const later = lists.filter((l, k) => k > 0 && !l.early);

  // The sender: the first lists, then (send_files' look-ahead) those of the directories beneath.
  const first = lists[0]!;
  const sendList = (l: TraceList): void => {
    // The first list's own entries are the operands (level 0): "." before its directory is read.
    if (l.top) return names(l).forEach((e) => line(on.flist, `[sender] make_file(${sentName(e)},*,${e.implied ? 2 : 0})`));
    if (l === first) line(on.flist, `[sender] make_file(${l.dir.name},*,0)`);
    const depth = l.dir.name === '.' ? 0 : l.dir.name.split('/').length;
    popTo(depth);
    pushed.push({ depth, types: pushFilters(l) });
    // Its entries, and the lines about those it left out, in readdir order.
    const made = names(l)
      .filter((e) => e !== l.dir)
      .map((e) => ({ pos: e.pos, print: () => line(on.flist, `[sender] make_file(${e.name},*,${e.operand ? 0 : 2})`) }));
    const left = l.said.map((s) => ({ pos: s.pos, print: () => out.print(s.text) }));
    [...made, ...left].sort((a, b) => a.pos - b.pos).forEach((x) => x.print());
  };
  sendList(first);
  line(on.flist, 'send_file_list done');
  early.slice(1).forEach(sendList);
  line(on.send, 'send_files starting');
  later.forEach(sendList);
  popTo(-1);

  // The receiving side, before it forks into the receiver and the generator.
  const count0 = names(first).length;
  line(on.recv, `server_recv(2) starting pid=${o.pid}`);
  early.forEach((l) => received(l));
  line(on.recv, `get_local_name count=${early.reduce((n, l) => n + l.listed.length, 0)} ${o.dest}`);
  replay(t.prefork);
  line(on.genr, `generator starting pid=${o.pid}`);
  replay(t.genHead);
  if (o.hardLinks) later.forEach((sub) => received(sub, 'generator'));
  /** -H's followers, by index: handed to the sender after their leaders are in place, the last first. */
  const followers: Indexed[] = [];

  lists.forEach((l, k) => {
    const list = entries[k]!;
    const start = starts[k]!;
    // The generator.
    if (k > 0 && !l.early && !o.hardLinks) received(l, 'generator');
    if (!l.top) line(on.genr, `recv_generator(${l.dir.name},${start - 1})`);
    replay(l.dir.gen);
    if (l.push) line(on.filter, l.push);
    list.forEach((e, i) => {
      line(on.genr, `recv_generator(${e.name},${start + i})`);
      if (!e.isDir) replay(e.gen);
      // A backup made for an entry that sends no data is the generator's.
      if (!e.isDir && !e.data) replay(e.recv);
      sums(e, start + i);
    });
    if (l.dir.decided && !l.top) sent(l.dir, start - 1);
    list.forEach((e, i) => {
      if (e.follower) {
        if (!isAttached(e)) followers.push({ e, ndx: start + i });
      } else if (!e.isDir && e.decided) sent(e, start + i);
    });
    // The receiver: its start, and every later list, arrive once the first list's files are sent.
    if (k === 0) {
      line(on.recv, `recv_files(${count0}) starting`);
      later.forEach((sub) => received(sub, 'receiver'));
    }
    if (l.dir.decided && !l.top) got(l.dir);
    for (const e of list) if (!e.isDir && e.decided && !e.follower) got(e);
  });
  followers.sort((a, b) => b.ndx - a.ndx);
  followers.forEach(sentFollower);
  for (const f of followers) line(on.recv, `recv_files(${f.e.name})`);

  phases();
}

/** rsync's last line under --debug=EXIT (-vvv): the client's exit, at the end of its client_run. */
export function exitLine(code: number, dryRun: boolean): string {
  return `[sender] _exit_cleanup(code=${code}, file=main.c, line=1394): about to call exit(${code})${dryRun ? ' (DRY RUN)' : ''}`;
}
