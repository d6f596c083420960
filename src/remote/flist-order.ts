// rsync's file-list order (f_name_cmp, protocol 29+) compared straight on two names' bytes, without
// making each name's components (flist.ts's sortKey): the sender sorts every entry of a push, and one
// allocation per component per entry was most of a no-op push's garbage. flist.ts's compareEntries is
// the reference; test/unit/remote/flist-order.test.ts holds the two together. A whole received list is
// sorted by the addon's copy of compareNames when the CLI hands it in (native/flistsort.c, held to this
// one by test/contract/flist-sort.test.ts): this layer loads no addon.

const SLASH = 0x2f;
const DOT = 0x2e;

/**
 * The addon's sortAndClean (native/flistsort.c flistOrder): the indices in compareNames' order, stable,
 * and by place in that order 1 for each entry flist.ts's sortAndClean clears.
 */
export type NativeOrder = (names: Buffer, ends: Uint32Array, dirs: Uint8Array) => { order: Uint32Array; drop: Uint8Array };

let nativeOrder: NativeOrder | undefined;

/** Hands in the addon's sort; undefined takes it back (the lists are then sorted in TypeScript). */
export function useNativeOrder(order: NativeOrder | undefined): void {
  nativeOrder = order;
}

/** The addon's sort when the CLI handed it in. */
export function handedOrder(): NativeOrder | undefined {
  return nativeOrder;
}

const isRoot = (n: Uint8Array): boolean => n.length === 1 && n[0] === DOT;

/**
 * Negative when `a` (a directory if `aDir`) comes before `b` in rsync's order: component by component,
 * a file before a directory at the same level, a directory compared as its name with a "/" after it,
 * and the root "." first.
 */
export function compareNames(a: Uint8Array, aDir: boolean, b: Uint8Array, bDir: boolean): number {
  if (isRoot(a)) return isRoot(b) ? 0 : -1;
  if (isRoot(b)) return 1;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return aDir === bDir ? 0 : aDir ? 1 : -1;
  // Both names share every component before the one holding byte i: that one decides. It is a
  // directory when a "/" follows in the name, else the name's last part, a directory if the entry is.
  const aIsDir = aDir || slashFrom(a, i);
  const bIsDir = bDir || slashFrom(b, i);
  if (aIsDir !== bIsDir) return aIsDir ? 1 : -1;
  // A component that ended at i reads on as its "/" (a directory) or as nothing (a file).
  const ca = i < a.length ? a[i]! : aIsDir ? SLASH : -1;
  const cb = i < b.length ? b[i]! : bIsDir ? SLASH : -1;
  if (ca !== cb) return ca - cb;
  // Equal only as a directory's implied "/" against the other's real one: the shorter name comes first.
  return a.length - b.length;
}

/** Whether a "/" comes at or after byte i: a loop here, not Buffer's indexOf (a call into C++ for a few bytes, twice per comparison of a sort). */
function slashFrom(n: Uint8Array, i: number): boolean {
  for (; i < n.length; i++) if (n[i] === SLASH) return true;
  return false;
}
