// `fsImpl`, the one seam through which every node-engine module (node.ts, the walker, the pair cursor,
// beneath-root resolution, backups) touches the filesystem, so tests can inject errors. A module of its
// own so that the modules using it do not import each other for it.

import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';

/**
 * Every filesystem call of the node engine and walker goes through this object, so a test can replace
 * one function to inject an error with a `code`, then restore it.
 */
export const fsImpl = {
  openSync: fs.openSync,
  closeSync: fs.closeSync,
  readSync: fs.readSync,
  writeSync: fs.writeSync,
  fstatSync: fs.fstatSync,
  lstatSync: fs.lstatSync,
  statSync: fs.statSync,
  ftruncateSync: fs.ftruncateSync,
  fchownSync: fs.fchownSync,
  fchmodSync: fs.fchmodSync,
  futimesSync: fs.futimesSync,
  chownSync: fs.chownSync,
  chmodSync: fs.chmodSync,
  utimesSync: fs.utimesSync,
  lchownSync: fs.lchownSync,
  lutimesSync: fs.lutimesSync,
  renameSync: fs.renameSync,
  unlinkSync: fs.unlinkSync,
  rmdirSync: fs.rmdirSync,
  mkdirSync: fs.mkdirSync,
  linkSync: fs.linkSync,
  symlinkSync: fs.symlinkSync,
  readlinkSync: fs.readlinkSync,
  readdirSync: fs.readdirSync,
  realpathSync: fs.realpathSync.native,
  /** mknod(1), and a child node for sockets: Node can create neither synchronously. */
  spawnSync,
};
