/* Destination metadata: owner, mode, xattrs/ACLs and times, always in that order (chown clears
 * set-id bits and ACLs rewrite the group mode bits; times must come last because every other
 * change bumps ctime and some filesystems touch mtime on xattr writes). */
#ifndef ARSYNC_META_H
#define ARSYNC_META_H

#include <stdbool.h>

#include "context.h"

/* On an open fd (files, directories). */
int meta_owner_fd(struct job *j, int fd);
int meta_mode_fd(struct job *j, int fd, mode_t mode);
int meta_xattrs_fd(struct job *j, int srcfd, int dstfd, bool dir);
int meta_times_fd(struct job *j, int fd);
/* The whole sequence for a regular file's temp fd; `mode` is the final permission bits. */
int meta_file(struct job *j, int srcfd, int dstfd, mode_t mode);

/* By name, never following a symlink (symlinks, device nodes, FIFOs, sockets). */
int meta_owner_at(struct job *j, int dirfd, const char *name);
int meta_mode_at(struct job *j, int dirfd, const char *name, mode_t mode);
int meta_times_at(struct job *j, int dirfd, const char *name);

/* Permission bits a new or replaced non-directory gets. Without P_PERMS rsync keeps an existing
 * target's bits, and new files get the source's bits masked by the umask. */
mode_t meta_target_mode(struct job *j, int dirfd, const char *name);

#endif
