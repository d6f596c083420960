/* --fake-super (rsync's am_root < 0): what a receiver may not set as a non-root user (owner, group,
 * set-id bits, the type of a device, FIFO, socket or symlink) is kept in the user.rsync.%stat xattr,
 * in rsync's format "MODE MAJOR,MINOR UID:GID" (mode in octal), and the entry on disk is a plain
 * file or directory the user owns (xattrs.c set_stat_xattr / get_stat_xattr). */
#ifndef ARSYNC_FAKESUPER_H
#define ARSYNC_FAKESUPER_H

#include <node_api.h>
#include <stdbool.h>
#include <sys/types.h>

#include "context.h"

#define FAKE_STAT_XATTR "user.rsync.%stat"

/* rsync's names in user.rsync.% (%stat, %aacl, %dacl): never copied as plain xattrs (rsync copies
 * them only with -XX, which arsync does not have). */
bool fake_reserved_xattr(const char *name);

/* The entry on fd gets its fake-super record for this op: the permission bits on disk become
 * `perms & 0777` plus owner read/write (and search on a directory), and the xattr holds the op's type,
 * `perms` (set-id bits included), its device numbers and the owner and group it would have (the
 * op's under -o/-g, else the file's own); a record equal to what is on disk is removed. */
int fake_stat_set(struct job *j, int fd, mode_t perms);

/* The permission bits (07777) an existing fake-super entry claims, or `fallback` without a record. */
mode_t fake_stat_perms(int fd, mode_t fallback);

/* fakeRead(ctx | null, path: Buffer, onDest: boolean, content: boolean): Buffer | null | { errno, syscall }.
 * content false: the user.rsync.%stat value of a regular file or directory (null when it has none or
 * is of another type); content true: the bytes of a regular file (a fake symlink's target, at most
 * PATH_MAX). onDest: path is relative to the context's destination root, resolved beneath it. */
napi_value fake_read(napi_env env, napi_callback_info info);

#endif
