/* The per-kind ops: what each op kind does to the destination, in plain syscalls. */
#ifndef ARSYNC_OPS_H
#define ARSYNC_OPS_H

#include <stdbool.h>

#include "context.h"

/* Runs one op by its kind; OP_OK/OP_FAIL (j->err set)/OP_ABORT. Nothing is recorded or counted as
 * failed here (exec.c does that). */
int ops_dispatch(struct job *j);

/* An Attrs op's work on a regular file the caller has open (stagefile.c's writeNewSettled): owner,
 * mode and times by the same rules, only what differs; OP_OK or OP_FAIL with j->err set. */
int ops_attrs_file_fd(struct job *j, int fd);

/* Not acting as root, rsync makes a directory of ours that lacks owner write writable before it deletes
 * (or backs up) inside it: its DEL_NO_UID_WRITE and delete_dir_contents' chmod, so a read-only tree,
 * such as a module cache, goes whole. An op inside a directory whose contents go (OF_OWNER_WRITE) that
 * meets EACCES opens its held parent up (by /proc/self/fd: no path walked again) and tries again; false,
 * nothing changed, unless it is a directory of ours without owner write. The directory is on its way out:
 * as in rsync, it keeps owner write if something in it stays (a backup, a failure); a directory that
 * stays for good (a kept one) never has its ops flagged. */
bool parent_open_up(int dirfd);

/* Not acting as root, rsync makes an entry of ours that lacks owner write writable before it deletes it
 * (DEL_NO_UID_WRITE, and delete_dir_contents for what is inside), whether or not the deletion then
 * happens: seen when it fails or stops (--max-delete, backups kept inside a directory, OF_OWNER_WRITE_ONLY),
 * and in the --backup copy a deletion leaves (OF_DELETION_BACKUP). Through an O_PATH descriptor of the
 * name, only while it is still that entry (its type, ours, without owner write); a symlink has no mode of
 * its own. Failures are ignored: the deletion reports its own outcome. */
void owner_write_first(const struct ctx *c, const struct op *op, int dirfd, const char *name);

#endif
