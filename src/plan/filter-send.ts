// The filter rules a client sends its peer (rsync's send_filter_list, send_rules and get_rule_prefix,
// protocol 29 and later): which of the command line's rules go over the wire and how each is spelled
// there. Rules that act only on the client's own side are kept back; -C's list is expanded by the side
// that sends files; a client that receives sends -C's rules only when its peer needs them. The caller
// frames the strings (each a 4-byte length then the bytes, a zero length at the end).

import type { FilterItem } from '../model/config.js';
import { FilterList } from './filter.js';
import { F, rulePrefix, type Entry } from './filter-rules.js';
import type { FilterOptions } from './filter-parse.js';

export interface SendFilterOptions extends Omit<FilterOptions, 'cvsExclude' | 'deleteExcluded'> {
  /** This client sends the files (a push); false for a pull. */
  weSend: boolean;
  cvsExclude: boolean;
  deleteExcluded: boolean;
  /** --delete* in any form. */
  deleting: boolean;
  pruneEmptyDirs: boolean;
}

/**
 * The rule strings to send, in order, each as its bytes on the wire (latin1: rule patterns are bytes);
 * undefined when no list goes over the wire at all (not even its end marker). Throws FilterError for a
 * bad rule, as a local run's parse does.
 */
export function rulesToSend(items: readonly FilterItem[], o: SendFilterOptions): Buffer[] | undefined {
  // A pushing client sends rules only when its receiving peer wants them (for deletions or -m); a
  // pulling client always does (its peer is the sender, which applies them).
  const receiverWantsList = o.pruneEmptyDirs || o.deleting;
  if (o.weSend && !receiverWantsList) return undefined;
  // The sending side adds -C's rules to its list before sending (so they are expanded and sent); a
  // receiving client adds them only after, and its sending peer adds its own from the 'C' option letter.
  const list = FilterList.fromOptions(items, { ...o, cvsExclude: o.cvsExclude && o.weSend, deleteExcluded: o.deleteExcluded });
  const out: Buffer[] = [];
  const send = (rules: readonly Entry[], forReal: boolean): void => {
    for (const r of rules) {
      if (!keep(r.flags, o)) continue;
      if (r.flags & F.CVS_IGNORE && !(r.flags & F.MERGE_FILE)) {
        // "-C": the sender side sends its expanded list instead of the rule; a receiver sends the rule.
        if (o.weSend) {
          send(list.cvsRules, forReal);
          continue;
        }
      }
      const text = rulePrefix(r.flags) + r.pattern + (r.flags & F.DIRECTORY ? '/' : '');
      if (forReal && text.length) out.push(Buffer.from(text, 'latin1'));
    }
  };
  send(list.globalRules, true);
  return out;
}

/** rsync's elide choice: a rule that acts only on this client's side stays here. */
function keep(flags: number, o: SendFilterOptions): boolean {
  const sender = (flags & F.SENDER_SIDE) !== 0;
  const receiver = (flags & F.RECEIVER_SIDE) !== 0;
  if (sender && receiver) return true;
  // A sender-side rule on the sending client, or a receiver-side rule on the receiving client, is local.
  if (sender) return !o.weSend;
  if (receiver) return o.weSend;
  // --delete-excluded: unqualified rules act on the sender only (the parser marks them sender-side
  // already; a per-directory merge rule without "-"/"+" stays unmarked and is sent).
  return true;
}

