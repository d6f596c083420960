// The -v summary's and --stats' byte figures of a local copy as rsync prints them: rsync copies locally
// as a sender and a receiver (itself a generator and a receiver) talking its protocol over pipes, and
// counts what its sender wrote and read after the handshake (io.c's stats.total_written/total_read,
// taken before the final goodbye), and the part of it written while the lists were being sent ("File
// list size"). This works the stream out for a run that changed nothing (a no-op re-sync, the everyday
// case), where rsync's own figures are the same from run to run:
//   the sender writes the first list and flushes it (one MSG_DATA frame; a first list of one entry
//   takes the next lists along until one has entries), then the other lists and NDX_FLIST_EOF, sent
//   when it first waits for the generator; the generator answers with one NDX_DONE per list and the
//   end of the first phase, in one frame, or in two when it had to wait for the second lot of lists
//   after finishing the first (its flushes follow its waits); the sender echoes each; then three more
//   NDX_DONEs (the phases, and protocol 31's late-delete phase) with --delete's statistics, and the
//   sender's two last NDX_DONEs. Each frame has a 4-byte header; a frame is cut at rsync's 64 KiB buffer.
// Outside what is worked out here (anything changed, -vv or -ii, whose generator names every entry to
// the sender, lists sent in several lots as rsync's 1,000-entry lookahead spreads them over the
// generator's answers, and the options stream-list.ts leaves out), the caller keeps its plain figures.

import type { Config } from '../model/config.js';
import type { Engine } from '../engine/engine.js';
import type { RunTotals, StreamTotals } from '../model/run-totals.js';
import { NdxWriter, NDX_FLIST_EOF } from '../remote/ndx.js';
import { MuxCounter } from './stream-out.js';
import { listEncoder, rsyncLists, unmodelled, type SentList } from './stream-list.js';

/** rsync's NDX_FLIST_OFFSET: a directory's list is announced as this minus the directory's index. */
const NDX_FLIST_OFFSET = -101;
/** rsync's MIN_FILECNT_LOOKAHEAD: the entries the sender keeps listed ahead of the generator. */
const LOOKAHEAD = 1000;
const HEADER = 4;
/** NDX_DEL_STATS (0xff and its step) and five zero counts: --delete's statistics of a run that deleted nothing. */
const DEL_STATS = 7;

const none = (c: RunTotals['created']): boolean => c.reg + c.dir + c.link + c.dev + c.special === 0;

/** Whether rsync's generator would have sent its sender anything but the NDX_DONEs: nothing changed, nothing itemized. */
function quiet(c: Config, t: RunTotals): boolean {
  return t.ops === 0 && none(t.created) && none(t.deleted) && t.ioErrors === 0 && t.vanished === 0 && t.errors.length === 0 && c.info.NAME < 2 && c.itemize < 2;
}

/** The figures, or undefined where they are not worked out (see above). */
export function streamTotals(c: Config, t: RunTotals, engine: Engine): StreamTotals | undefined {
  if (unmodelled(c) !== undefined || !quiet(c, t)) return undefined;
  try {
    return session(c, engine);
  } catch {
    // A source that could not be read again: no figures.
    return undefined;
  }
}

function session(c: Config, engine: Engine): StreamTotals | undefined {
  const out = new MuxCounter();
  const enc = listEncoder(c, c.protocol ?? 32);
  const ndx = new NdxWriter();
  const b = Buffer.allocUnsafe(8);
  let index = 0;
  let lists = 0;
  const send = (l: SentList): number => {
    if (l.dirNdx !== undefined) out.put(ndx.encodeInto(NDX_FLIST_OFFSET - l.dirNdx, b, 0));
    const start = index;
    for (const e of l.entries) enc.entry(out, e, index++, start);
    // The end: a zero flags varint and the I/O-error varint (write_end_of_flist).
    out.varint(0);
    out.varint(0);
    lists++;
    return l.entries.length;
  };
  const it = rsyncLists(c, engine);
  let next = it.next();
  const eof = (): void => out.put(ndx.encodeInto(NDX_FLIST_EOF, b, 0));

  // send_file_list: the first list (a first list of one entry takes lists along until one has entries).
  const firstCount = send(next.value as SentList);
  next = it.next();
  let ahead = 0;
  if (firstCount === 1) {
    while (!next.done && ahead < 1) {
      ahead += send(next.value);
      next = it.next();
    }
  }
  if (next.done) eof();
  let listBytes = out.written;
  const inFirst = lists;
  out.flush();

  // send_files' first round: the other lists while fewer than LOOKAHEAD entries are listed ahead.
  if (!next.done) {
    const before = out.written;
    while (!next.done && ahead < LOOKAHEAD) {
      ahead += send(next.value);
      next = it.next();
    }
    // More lists than one round sends: rsync spreads them over the generator's answers.
    if (!next.done) return undefined;
    eof();
    listBytes += out.written - before;
    out.flush();
  }

  // The generator's NDX_DONEs and the sender's echoes, frame by frame.
  let sent = out.written;
  let received = 0;
  const early = inFirst - 1;
  if (early > 0) {
    received += HEADER + early;
    sent += HEADER + early;
  }
  const rest = lists - Math.max(early, 0);
  received += HEADER + rest;
  sent += HEADER + rest;
  // --delete-delay deletes after the transfer: its statistics and the last NDX_DONE come after the
  // sender took its figures.
  if (c.deleteMode === 'delay') received += HEADER + 2;
  else received += HEADER + 3 + (c.deleteMode !== 'none' ? DEL_STATS : 0);
  sent += HEADER + 2;
  return { sent, received, listBytes };
}
