// A syscall that failed, returned as a value (never thrown) by the addon, the node engine's walk and
// every lookup the planner is handed: the positive errno and the syscall as Node names it. One
// TypeScript function (util/errors.ts fsError) turns it into a Node-shaped Error.

export interface SysFailure {
  /** Positive errno. */
  errno: number;
  /** The syscall that failed, as Node names it (open, read, copy_file_range, rename, lstat, scandir, ...). */
  syscall: string;
}

export const isFailure = (v: unknown): v is SysFailure =>
  typeof v === 'object' && v !== null && 'errno' in v && 'syscall' in v && !ArrayBuffer.isView(v);
