// rsync's -vvv output split by the process that prints each line (a local rsync runs a sender, and a
// receiving side that forks into a receiver and a generator), so two outputs can be compared process by
// process: rsync interleaves its processes differently from run to run, but each one's own lines come in
// its own order.

import { normaliseOutput } from './normalise.js';

export type Proc = 'sender' | 'prefork' | 'generator' | 'receiver';

/** The output's lines, with what differs between runs for reasons outside the trace normalised (pids, temp names, the -v summary's figures). */
export function normaliseTrace(out: string): string[] {
  return normaliseOutput(out, 'rsync')
    .split('\n')
    .filter((l) => l !== '');
}

const SENDER = /^(\[sender\]|send_file_list done|send_files|sending file_sum|false_alarms=|calling match_sums|sender finished|send files finished|total: matches=|sending incremental file list|sent … bytes|total size is)/;
const GENERATOR = /^(generator starting|mknod\(|generating and sending sums|count=\d+ rem=|recv_generator\(|\[generator\]|generate_files|delta-transmission|delete_in_dir|delete_item|deleting |.* is uptodate$|.* exists$|.* is newer$|not creating new |skipping non-regular file )/;
const RECEIVER = /^(recv_files|recv mapped |make_backup: |backed up |finishing |got file_sum|renaming |\[receiver\])/;
const PREFORK = /^(server_recv|get_local_name|created directory)/;
/** A file list received: its lines belong to whoever said "receiving flist" (or, for the first, the receiving side). */
const LIST = /^(recv_file_name\(|received \d+ names|recv_file_list done)/;

/** Each process's lines, in the order the output has them; the rest (-v names) are the sender's. */
export function byProcess(lines: string[]): Record<Proc, string[]> {
  const out: Record<Proc, string[]> = { sender: [], prefork: [], generator: [], receiver: [] };
  let list: Proc = 'prefork';
  for (const l of lines) {
    if (l.startsWith('[generator] receiving flist')) list = 'generator';
    else if (l.startsWith('[receiver] receiving flist')) list = 'receiver';
    if (LIST.test(l)) out[list].push(l);
    else if (RECEIVER.test(l)) out.receiver.push(l);
    else if (GENERATOR.test(l)) out.generator.push(l);
    else if (PREFORK.test(l)) out.prefork.push(l);
    else if (SENDER.test(l)) out.sender.push(l);
    else out.sender.push(l);
    if (l === 'recv_file_list done') list = 'prefork';
  }
  return out;
}
