/* Destination metadata: owner, mode, xattrs/ACLs and times, always in that order (chown clears
 * set-id bits and ACLs rewrite the group mode bits; times must come last because every other
 * change bumps ctime and some filesystems touch mtime on xattr writes). */
#ifndef ARSYNC_META_H
#define ARSYNC_META_H

#include <stdbool.h>

#include "context.h"

/* On an open fd (files, directories). A set or remove of an xattr/ACL that the destination refuses
 * does not fail the step: it is reported at once (a failure with the attribute's name), counted in
 * j->refused, and the rest goes on; exec_finish then marks the op failed (rsync's rule: the entry
 * lands without that attribute, exit 23). */
int meta_owner_fd(struct job *j, int fd);
int meta_mode_fd(struct job *j, int fd, mode_t mode);
/* chmod of the inode an fd holds, O_PATH ones too (fchmod refuses those): through its /proc/self/fd link,
 * which is that inode, not a name that could be swapped. 0, or -1 with errno. */
int meta_chmod_held(int fd, mode_t mode);
int meta_xattrs_fd(struct job *j, int srcfd, int dstfd, bool dir);
int meta_times_fd(struct job *j, int fd);
/* Makes dst's copied xattrs equal to src's: sets what differs, removes what src lacks (Attrs). */
int meta_xattrs_sync_fd(struct job *j, int srcfd, int dstfd, bool dir);

/* An xattr holder: an fd (f*xattr), or with fd < 0 a path whose last component is not followed;
 * with `magic` the path is /proc/self/fd/N of an O_PATH descriptor, resolved (the kernel's jump lands
 * on the entry the descriptor holds, a symlink itself included, and follows nothing further). */
struct xnode {
  int fd;
  const char *path;
  bool magic;
};
/* The raw name list (NUL-terminated names) into *buf, grown as needed: its length, 0 where the
 * filesystem has no xattrs, or -errno. */
ssize_t meta_xattr_names(struct xnode n, char **buf, size_t *cap);
/* One value into *buf: its length, or -errno (-ENODATA when the name is absent). */
ssize_t meta_xattr_value(struct xnode n, const char *name, char **buf, size_t *cap);
/* XC_ACL_ACCESS: with XC_ACL in a difference, the access ACL was among what differed.
 * XC_ACL_RAW: under -AX with x-rules, an ACL's system.posix_acl_* value differed byte for byte (or is
 * on one side only): rsync's lists then hold those names as xattrs too (meta.c acl_listed). */
enum { XC_XATTR = 1, XC_ACL = 2, XC_ACL_ACCESS = 4, XC_ACL_RAW = 8 };
/* Which class a name belongs to under `flags` (0: not copied). */
int meta_xattr_class(uint32_t flags, bool is_root, const char *name, bool dir);
/* XC_* bits of the classes whose copied names/values differ, or -1 with j->err set. */
int meta_xattrs_diff(struct job *j, uint32_t flags, struct xnode src, struct xnode dst, bool dir);

/* The whole sequence for a regular file's temp fd; `mode` is the final permission bits. `made`: an
 * unnamed file's fstat as temp_open_new created it (what already is right is not set again), or NULL
 * for a named temp (0600, owner not looked at). */
int meta_file(struct job *j, int srcfd, int dstfd, mode_t mode, const struct stat *made);

/* By name, never following a symlink (symlinks, device nodes, FIFOs, sockets). */
int meta_owner_at(struct job *j, int dirfd, const char *name);
int meta_mode_at(struct job *j, int dirfd, const char *name, mode_t mode);
int meta_times_at(struct job *j, int dirfd, const char *name);
/* -X for an entry that is never opened (a symlink, a device node, a FIFO, a socket): dirfd/name's
 * xattrs made equal to those of the source held by `srcfd` (O_PATH, no symlink followed). No ACLs:
 * a symlink has none, and rsync keeps them for files and directories only. */
int meta_xattrs_at(struct job *j, int srcfd, int dirfd, const char *name);
/* Whether a destination of statfs type `type` gets both times in every time change (FUSE: see
 * meta.c), decided once per context. */
bool meta_both_times_fs(long type);
/* On such a destination, a UTIME_OMIT in ts becomes the entry's current time (fstatat on dirfd/name
 * without following, or fstat on dirfd when name is NULL); elsewhere ts is left as it is. */
void meta_fill_times(const struct ctx *c, struct timespec ts[2], int dirfd, const char *name);

/* Permission bits a new or replaced non-directory gets. Without P_PERMS rsync keeps an existing
 * target's bits, and new files get the source's bits masked by the umask. */
/* rsync's default_perms_for_dir: the permission bits a new entry may have without -p: those of the
 * directory's default ACL (user::, mask:: or group::, other::) when it has one, else what the umask
 * leaves. */
mode_t meta_default_perms(const struct ctx *c, int dirfd);

/* -A without -p, at a directory's visit (OF_VISIT_ACL): dst's default ACL made src's, or removed when src
 * has none, so that what is made inside takes its bits from the ACL the directory will have. Both are
 * descriptors (O_PATH allowed). Best effort: DirMeta sets the same at the end and reports a failure. */
void meta_visit_default_acl(int srcfd, int dstfd);
mode_t meta_target_mode(struct job *j, int dirfd, const char *name);
/* rsync's dest_mode under -E (P_EXECUTABILITY, without -p) for an existing regular file: its own bits,
 * execute taken away when the source has none, or given to whoever may read when the source has some
 * and the file had none. */
mode_t meta_exec_mode(mode_t src, mode_t cur);

#endif
