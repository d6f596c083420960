// A pull's received file list decoded in one process: the TypeScript decoder alone against the C decoder
// (native/flistdec.c through src/remote/flist-native.ts), alternating, the list rsync's --server --sender
// sends for a tree (as a pull receives it, in 64 KiB pieces), then the sort (sortAndClean) the pull runs on
// it; CPU time (user + system) of each pass with a collection before it, and the C calls alone.
//
//   npx tsx bench/flist-decode.ts [TREE] [ROUNDS]     default: the bench's Linux tree, 22 rounds (2 warm-up)

import { LIST_OPTS, serveList } from '../test/helpers/rsync-server.js';
import { FlistDecoder, sortAndClean, type FlistOptions } from '../src/remote/flist.js';
import { useNativeFlist } from '../src/remote/flist-native.js';
import { several } from '../src/remote/listing.js';
import { Cf } from '../src/remote/handshake.js';
import { Cursor, Short } from '../src/remote/wire.js';
import { loadAddon } from '../src/engine/native.js';

const tree = process.argv[2] ?? '/var/tmp/arsync-bench/linux-source-6.1/';
const rounds = Number(process.argv[3] ?? 22);
const a = loadAddon();
if (!a.ok || !a.addon.flistDecode) throw new Error(`no addon with flistDecode: ${a.ok ? 'an older build' : a.reason}`);
const flistDecode = a.addon.flistDecode.bind(a.addon);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with NODE_OPTIONS=--expose-gc');

const got = await serveList(tree, '-logDtpr', LIST_OPTS);
const s = got.session;
const o: FlistOptions = {
  ...LIST_OPTS,
  protocol: s.protocol,
  id0Names: (s.compat & Cf.Id0Names) !== 0,
  varintFlags: (s.compat & Cf.VarintFlistFlags) !== 0,
  safeFlist: s.protocol >= 31 || (s.compat & Cf.SafeFlist) !== 0,
};
const wire = got.wire;
process.stdout.write(`${tree}: ${got.entries.length} entries, ${wire.length} bytes of list\n`);

let inC = 0;
const cpu = (from: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
};

function pass(native: boolean): { decode: number; sort: number } {
  useNativeFlist(
    native
      ? {
          flistDecode: (...args) => {
            const t = process.cpuUsage();
            const n = flistDecode(...args);
            inC += cpu(t);
            return n;
          },
        }
      : undefined,
  );
  const d = new FlistDecoder(o);
  useNativeFlist(undefined);
  gc!();
  const t = process.cpuUsage();
  let pos = 0;
  let upto = 0;
  for (;;) {
    upto = Math.min(wire.length, upto + 64 * 1024);
    const c = new Cursor(wire.subarray(pos, upto));
    try {
      const g = several(d, c);
      pos += c.pos;
      if ('end' in g) break;
    } catch (e) {
      if (!(e instanceof Short)) throw e;
    }
  }
  const decode = cpu(t);
  const t2 = process.cpuUsage();
  sortAndClean(d.entries);
  return { decode, sort: cpu(t2) };
}

const res = { ts: [] as number[], c: [] as number[], sort: [] as number[] };
for (let i = 0; i < rounds; i++) {
  const ts = pass(false);
  const before = inC;
  const c = pass(true);
  if (i < 2) {
    inC = before;
    continue;
  }
  res.ts.push(ts.decode);
  res.c.push(c.decode);
  res.sort.push(ts.sort, c.sort);
}
const median = (v: number[]): number => v.slice().sort((x, y) => x - y)[v.length >> 1]!;
const line = (v: number[]): string => `${v.slice().sort((x, y) => x - y).map((x) => x.toFixed(0)).join(' ')} (median ${median(v).toFixed(0)})`;
process.stdout.write(`decode, TypeScript, ms CPU: ${line(res.ts)}\n`);
process.stdout.write(`decode, C path, ms CPU:     ${line(res.c)}\n`);
process.stdout.write(`  of which in flistDecode: ${(inC / res.c.length).toFixed(1)} ms a pass\n`);
process.stdout.write(`sortAndClean, ms CPU:       ${line(res.sort)}\n`);
