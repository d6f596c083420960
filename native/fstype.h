/* The local filesystems whose semantics the engines lean on, by statfs f_type: tmpfs, ext2/3/4, XFS
 * and btrfs. On them a regular file's reads ignore O_NONBLOCK (source.c keeps the flag there) and its
 * close reports no deferred write error (temp.c names a new file before closing it there). FUSE and
 * network filesystems are not among them: their servers may do either. */
#ifndef ARSYNC_FSTYPE_H
#define ARSYNC_FSTYPE_H

#include <linux/magic.h>
#include <stdbool.h>

static inline bool fstype_plain_local(long type)
{
  return type == TMPFS_MAGIC || type == EXT4_SUPER_MAGIC || type == XFS_SUPER_MAGIC || type == BTRFS_SUPER_MAGIC;
}

#endif
