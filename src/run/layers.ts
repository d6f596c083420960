// Several source directories landing on one destination directory (several "dir/" operands, or
// directories of one name), walked as one listing in rsync's order. rsync's sender puts the entries of
// duplicate directories in one file list and sorts it (flist.c send_extra_file_list), so their lines
// interleave by name, not operand by operand. The first root's walk takes the others in as layers: at each
// directory every layer is listed and paired with the destination, its entries join the first root's by
// rsync's duplicate rule (plan/overlay.ts roleOf: the first occurrence wins, a directory beats a file),
// and a directory several layers have is one frame carrying them all. Roots landing inside another
// root's directory keep the overlay's root-by-root walk.

import { isFailure } from '../model/failure.js';
import type { PairListing } from '../model/listing.js';
import { fileType } from '../model/stat.js';
import type { DeleteList } from '../plan/deletelist.js';
import type { FilterScope } from '../plan/filter-scope.js';
import type { Root } from '../plan/sources.js';
import { ERRNO, showPath } from '../util/errors.js';
import { absolutePath } from '../util/names.js';
import { withChmod, type Frame, type Kept, type Layer, type RunContext } from './context.js';
import { classify, isDirKept } from './walk.js';
import type { DirEntries } from './source.js';

/**
 * The roots after `index` whose directory lands at the same destination path as root `index`'s (a
 * walked directory): from now on part of its walk (the overlay marks them absorbed).
 */
export function layersAt(rc: RunContext, index: number, root: Root): { layers: Layer[]; adopt: number[] } | undefined {
  const overlay = rc.overlay;
  // --iconv pairs converted names per source (iconv-source.ts): those roots keep the root-by-root walk.
  // -vvv's trace follows rsync's sender through each operand in its turn (run/trace.ts): kept too.
  if (!overlay || rc.charsets || rc.trace || !rc.c.recursive) return undefined;
  const out: Layer[] = [];
  rc.plan.roots.forEach((r, j) => {
    if (j <= index || r.missing || r.dirOnly || !r.rel.equals(root.rel)) return;
    const st = rc.source.lstat(r.src);
    if (isFailure(st)) return;
    let src = r.src;
    let type = fileType(st.mode);
    if (type === 'link' && (r.contents || rc.c.copyLinks || rc.c.copyDirlinks)) {
      // As the walk starts a root (walk.ts startRoot): "link/", -L and -k open through the link.
      const followed = rc.source.follow(r.src);
      if (followed && fileType(followed.mode) === 'dir') {
        type = 'dir';
        src = Buffer.concat([r.src, Buffer.from('/')]);
      }
    }
    if (type !== 'dir') return;
    rc.anchors.add(src);
    overlay.absorbed.add(j);
    out.push({ src, root: j });
  });
  // Later roots landing right inside it ("a" or "dir" after "dir2/"): entries of this listing, in its
  // order. An earlier root was walked already: taking it again would copy and print it twice.
  const adopt = rc.c.relative ? [] : rc.plan.roots.flatMap((r, j) => (j > index && !r.missing && !r.dirOnly && childOf(r.rel, root.rel) ? [j] : []));
  return out.length || adopt.length ? { layers: out, adopt } : undefined;
}

/** Is `rel` one name inside directory `dir` ("" is the destination root)? */
function childOf(rel: Buffer, dir: Buffer): boolean {
  if (!dir.length) return rel.length > 0 && !rel.includes(0x2f);
  return rel.length > dir.length + 1 && rel[dir.length] === 0x2f && rel.subarray(0, dir.length).equals(dir) && !rel.includes(0x2f, dir.length + 1);
}

/** An adopted root's entry as the listing keeps it (undefined: gone, or another root's name wins there). */
function adopted(rc: RunContext, j: number, taken: Set<string>, sender: FilterScope | undefined): Kept | undefined {
  const r = rc.plan.roots[j]!;
  const name = r.rel.subarray(r.rel.lastIndexOf(0x2f) + 1);
  const key = name.toString('latin1');
  if (taken.has(key)) return undefined;
  const lst = rc.source.lstat(r.src);
  if (isFailure(lst)) return undefined;
  let st = lst;
  let src = r.src;
  if (fileType(st.mode) === 'link' && (rc.c.copyLinks || rc.c.copyDirlinks)) {
    const followed = rc.source.follow(r.src);
    if (followed && fileType(followed.mode) === 'dir') {
      st = followed;
      src = Buffer.concat([r.src, Buffer.from('/')]);
    }
  }
  const isDir = fileType(st.mode) === 'dir';
  // Its name at the top of its own transfer is this name here: the same rules decide.
  if (sender && sender.check(r.rel, isDir) === 'exclude') return undefined;
  if (isDir) rc.anchors.add(src);
  rc.overlay!.absorbed.add(j);
  // The same name given again (`src/a src/a`) is the first one's: rsync keeps one of duplicate names.
  taken.add(key);
  return { name, src, rel: r.rel, st: withChmod(rc, st), dest: rc.dest.stat(r.rel), root: j };
}

/** Entries the native quick check found unchanged are only counted (as transfer-pass.ts does). */
function counted(rc: RunContext, chunk: PairListing): void {
  rc.tally.addListed({ reg: chunk.collapsed.reg, link: chunk.collapsed.link }, chunk.collapsed.size);
}

/**
 * A layered directory's entries in the transfer: the first root's (`pair`, every chunk, extraneous
 * names gathered there: the overlay already spares what any other root has) and each layer's, merged by
 * rsync's duplicate rule, non-directories by name; a directory that other layers have too carries them.
 */
export function layeredKept(rc: RunContext, dir: Frame, pair: DirEntries, extraneous: DeleteList): Kept[] {
  const all: Kept[] = [];
  for (const chunk of pair.chunks()) {
    counted(rc, chunk);
    all.push(...classify(rc, dir, chunk, extraneous, 'fail'));
  }
  for (const layer of dir.layers ?? []) {
    const at = { ...dir, src: layer.src, sender: dir.sender };
    const l = rc.source.openDir(layer.src, dir.destExists ? dir.rel : null, rc.anchors.of(layer.src));
    if (isFailure(l)) {
      if (l.errno !== ERRNO.ENOENT) rc.tally.ioError(layer.src, l.errno, l.syscall, `[sender] opendir "${showPath(absolutePath(layer.src))}" failed`);
      continue;
    }
    try {
      for (const chunk of l.chunks()) {
        counted(rc, chunk);
        for (const k of classify(rc, at, chunk, undefined, 'fail', layer.root)) all.push({ ...k, root: layer.root });
      }
    } finally {
      l.close();
    }
  }
  // Roots landing right here: entries of this listing, unless a name an earlier root has (as rsync keeps
  // the first of duplicate names; a directory of one of them would still merge: the overlay's walk).
  const taken = new Set(all.map((k) => k.name.toString('latin1')));
  for (const j of dir.adopt ?? []) {
    if (rc.overlay?.absorbed.has(j)) continue;
    const k = adopted(rc, j, taken, dir.sender);
    if (k) all.push(k);
  }
  // A directory an earlier layer has too is walked as that one's layer.
  const dirs = new Map<string, Kept>();
  const kept: Kept[] = [];
  for (const k of all) {
    if (!isDirKept(k)) {
      kept.push(k);
      continue;
    }
    const owner = k.merged ? dirs.get(k.name.toString('latin1')) : undefined;
    if (owner) {
      (owner.layers ??= []).push({ src: k.src, root: k.root ?? rc.root.index });
      continue;
    }
    dirs.set(k.name.toString('latin1'), k);
    kept.push(k);
  }
  return kept.sort((a, b) => Number(isDirKept(a)) - Number(isDirKept(b)) || Buffer.compare(a.name, b.name));
}
