// The destination entries of one directory that may be deleted (--delete), in rsync's deletion order.
// A wide directory can have hundreds of thousands of them, so each is kept as a latin1 name and six
// numbers in a shared Float64Array rather than a Map entry holding a Stat object (a tenth of the memory).

import { S_IFDIR, S_IFMT, type Stat } from '../model/stat.js';

/** Fields kept per entry: what deletion and its output use. */
const F = 6;

export class DeleteList {
  private readonly names: string[] = [];
  private meta = new Float64Array(F * 64);

  get size(): number {
    return this.names.length;
  }

  add(name: Buffer, st: Stat): void {
    const i = this.names.length;
    if ((i + 1) * F > this.meta.length) {
      const grown = new Float64Array(this.meta.length * 2);
      grown.set(this.meta);
      this.meta = grown;
    }
    this.names.push(name.toString('latin1'));
    this.meta.set([st.mode, st.size, st.mtimeSec, st.mtimeNsec, st.uid, st.gid], i * F);
  }

  /** rsync's deletion order, the reverse of its file-list order: directories, then the rest, each by name bytes descending. */
  order(): number[] {
    const isDir = (i: number): boolean => ((this.meta[i * F]! & S_IFMT) === S_IFDIR);
    const idx = this.names.map((_, i) => i);
    const dirs = idx.filter(isDir);
    const others = idx.filter((i) => !isDir(i));
    // latin1 strings compare by their bytes.
    const desc = (a: number, b: number): number => (this.names[a]! < this.names[b]! ? 1 : this.names[a]! > this.names[b]! ? -1 : 0);
    return [...dirs.sort(desc), ...others.sort(desc)];
  }

  name(i: number): Buffer {
    return Buffer.from(this.names[i]!, 'latin1');
  }

  /** The entry's lstat as far as it was kept (identity fields are 0: deletion never needs them). */
  stat(i: number): Stat {
    const m = this.meta;
    const o = i * F;
    return { mode: m[o]!, size: m[o + 1]!, mtimeSec: m[o + 2]!, mtimeNsec: m[o + 3]!, uid: m[o + 4]!, gid: m[o + 5]!, ino: 0, dev: 0, nlink: 1, rdev: 0, blocks: 0 };
  }
}
