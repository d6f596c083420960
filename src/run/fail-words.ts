// rsync's words for a failed step of a local copy. rsync runs three processes and each names its own
// failures: the sender reading the source, the generator making directories, links, devices and
// deletions and fixing up attributes, the receiver writing files into temp names and renaming them. Its
// line is "[ROLE] STEP "FULL-PATH" failed: TEXT (ERRNO)": the path as its full_fname() gives it (absolute,
// in quotes; the destination root is "DEST/."), the errno's text as glibc's strerror() words it. Scripts
// and people grep for those lines, so arsync words each failure of its one process as the rsync process
// that would have met it (sender.c, generator.c, receiver.c, rsync.c, delete.c, hlink.c, backup.c).

import { readlinkSync } from 'node:fs';
import type { Op } from '../engine/batch.js';
import type { OpFailure } from '../engine/types.js';
import { OpFlag, OpKind, targetParts } from '../model/ops.js';
import { ERRNO, showPath } from '../util/errors.js';
import { absolutePath, baseName, dirName, joinPath } from '../util/names.js';
import { errnoSuffix } from '../util/strerror.js';
import { tempName as modelTempName } from '../model/temp-name.js';

/** rsync's process roles, as its who_am_i() prints them in front of a message. */
type Role = 'sender' | 'generator' | 'receiver';

/** A path as rsync's full_fname() shows it: absolute, quoted. */
const quoted = (p: Buffer): string => `"${showPath(p)}"`;

/**
 * rsync's temp name beside NAME, with the six letters mkstemp fills in left as its template (a failed
 * mkstemp made no file; for a failed rename or close the engines do not report the letters they drew).
 */
function tempOf(rel: Buffer): Buffer {
  const name = modelTempName(baseName(rel), false, 'XXXXXX');
  const dir = dirName(rel);
  return dir.length && !(dir.length === 1 && dir[0] === 0x2e) ? joinPath(dir, name) : name;
}

export class FailWords {
  private readonly destAbs: Buffer;

  constructor(
    destRoot: Buffer,
    /**
     * The run changes owners: it acts as root (root, or --super) and keeps them (-o). rsync's
     * set_file_attrs then says "chown", else it changes groups only: "chgrp" (its change_uid).
     */
    private readonly asRoot = false,
    /** --inplace (or --append): files are opened at their own names, which rsync's receiver names when that fails. */
    private readonly inplace = false,
  ) {
    this.destAbs = absolutePath(destRoot);
  }

  /** A destination path (relative to the root, or an absolute backup name) as full_fname() names it. */
  private dest(p: Buffer): Buffer {
    if (p[0] === 0x2f) return p;
    return p.length ? joinPath(this.destAbs, p) : joinPath(this.destAbs, Buffer.from('.'));
  }

  /** The line for a failed op (`op` is the batch's op at the failure's index, when it came from one). */
  line(f: OpFailure, op: Op | undefined): string {
    const err = errnoSuffix(f.errno);
    const say = (role: Role, what: string): string => `[${role}] ${what}: ${err}`;
    if (!f.onDest) return say('sender', this.sourceStep(f, op));
    const kind = op?.kind;
    const path = quoted(this.dest(f.path));
    const sc = f.syscall;
    // Attribute steps read alike whoever meets them: the receiver for a file it wrote, the generator
    // for everything else (rsync.c set_file_attrs).
    const role: Role = kind === OpKind.File || kind === OpKind.Backup || kind === OpKind.Delayed ? 'receiver' : 'generator';
    if (sc === 'fchmod' || sc === 'chmod') return say(role, `failed to set permissions on ${path}`);
    // rsync says "chgrp" when the owner was not to change, as for anyone not acting as root.
    if (sc === 'fchown' || sc === 'lchown' || sc === 'chown') return say(role, `${this.asRoot ? 'chown' : 'chgrp'} ${path} failed`);
    if (sc === 'futimes' || sc === 'lutimes' || sc === 'utimes' || sc === 'futime' || sc === 'lutime' || sc === 'utime') {
      return say(role, `failed to set times on ${path}`);
    }
    switch (kind) {
      case OpKind.Mkdir:
        if (sc === 'mkdir') return say('generator', `recv_generator: mkdir ${path} failed`);
        break;
      case OpKind.Symlink:
        if (sc === 'symlink' || sc === 'open' || sc === 'rename') return say('generator', `symlink ${path} -> "${this.linkTarget(op!)}" failed`);
        break;
      case OpKind.Special:
        if (sc === 'mknod' || sc === 'open' || sc === 'rename') return say('generator', `mknod ${path} failed`);
        break;
      case OpKind.Hardlink:
      case OpKind.LinkFrom:
        // hlink.c hard_link_one names the link being made, whichever side failed.
        if (sc === 'link' || sc === 'rename') return say('generator', `link ${quoted(this.dest(op!.dst))} => ${showPath(op!.src)} failed`);
        break;
      case OpKind.Delete:
        // delete.c names the entry relative to the destination, unquoted.
        if (sc === 'unlink' || sc === 'rmdir') return say('generator', `delete_file: ${sc}(${showPath(f.path)}) failed`);
        break;
      case OpKind.Backup:
        if (f.dest) return say('receiver', `keep_backup failed: ${path} -> "${showPath(f.dest)}"`);
        break;
      case OpKind.File: {
        const temp = quoted(this.dest(tempOf(f.path)));
        if (op && op.flags & OpFlag.Compare && sc === 'read') return say('receiver', `read failed on ${path}`);
        if (sc === 'open') return say('receiver', this.inplace ? `open ${path} failed` : `mkstemp ${temp} failed`);
        // A pull's received file linked in at its temp name (native/adopt.c): the step rsync's receiver
        // takes with mkstemp. (ESTALE is arsync's own check that the staged inode is still the one opened.)
        if (sc === 'link' && f.errno !== ERRNO.ESTALE) return say('receiver', `mkstemp ${temp} failed`);
        if (sc === 'rename') return say('receiver', `rename ${temp} -> "${showPath(f.path)}"`);
        // receive_data() names the file by its final name; only a failed close names the temp file.
        if (sc === 'write' || sc === 'copy_file_range' || sc === 'fallocate') return say('receiver', `write failed on ${path}`);
        // --reflink is arsync's own (rsync has no clone step): named so, for the file it was for.
        if (sc === 'clone') return say('receiver', `clone ${path} failed`);
        if (sc === 'ftruncate') return say('receiver', `ftruncate failed on ${path}`);
        if (sc === 'close') return say('receiver', `close failed on ${temp}`);
        if (sc === 'fsync') return say('receiver', `fsync failed on ${path}`);
        break;
      }
      default:
        break;
    }
    if (f.dest) return say(role, `${sc} ${path} -> "${showPath(f.dest)}" failed`);
    return say(role, `${sc} ${path} failed`);
  }

  /**
   * A failure rsync reports in a line of its own, without its program name or an errno (an rprintf), or
   * undefined. With --delay-updates a finished file whose partial dir could not be made (the engines
   * say "mkdir" for a File op only then): receiver.c's words, the name as its file list has it.
   */
  bare(f: OpFailure, op: Op | undefined): string | undefined {
    if (f.onDest && op?.kind === OpKind.File && f.syscall === 'mkdir') {
      return `Unable to create partial-dir for ${showPath(f.path)} -- discarding completed file.`;
    }
    return undefined;
  }

  /** What rsync's sender calls the step that failed on the source. */
  private sourceStep(f: OpFailure, op: Op | undefined): string {
    const path = quoted(absolutePath(f.path));
    switch (f.syscall) {
      case 'open':
        return op && op.kind !== OpKind.File ? `open ${path} failed` : `send_files failed to open ${path}`;
      case 'read':
        return `read errors mapping ${path}`;
      case 'readlink':
      case 'lstat':
      case 'fstat':
      case 'statx':
        return `readlink_stat(${path}) failed`;
      case 'opendir':
      case 'scandir':
        return `opendir ${path} failed`;
      case 'unlink':
        // sender.c names the file as the sender's list has it (relative to the transfer: the op's
        // destination name), unquoted.
        return `sender failed to remove ${showPath(op ? op.dst : f.path)}`;
      default:
        return `${f.syscall} ${path} failed`;
    }
  }

  /** A symlink op's target: the one the planner judged, else the source link's own (read now). */
  private linkTarget(op: Op): string {
    if (op.target) return showPath(targetParts(op.target).written);
    try {
      return showPath(readlinkSync(op.src, { encoding: 'buffer' }));
    } catch {
      return '';
    }
  }
}
