/* Temp files beside their target (DESIGN §3.1): `.<name>.XXXXXX`, created exclusively with a fresh
 * name on a collision, renamed over the target or discarded. */
#ifndef ARSYNC_TEMP_H
#define ARSYNC_TEMP_H

#include <limits.h>
#include <sys/types.h>

#include "context.h"

/* Makes one temp entry named `.<name>.XXXXXX` (shortened so that it fits NAME_MAX) in dirfd with
 * make(arg, dirfd, tmp), with a fresh name while it answers EEXIST. Returns make's result (>= 0, or
 * -1 with errno set); tmp holds the name used. */
typedef int (*temp_make_fn)(const void *arg, int dirfd, const char *tmp);
int temp_make(struct ctx *c, int dirfd, const char *name, char tmp[NAME_MAX + 1], temp_make_fn make, const void *arg);

/* The kinds every caller makes: a regular file O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode
 * 0600 (an fd); a symlink; a device, FIFO or socket (mode 0600 until its metadata is set); a hard link
 * to `from` (AT_SYMLINK_FOLLOW in `follow` only for a pinned /proc/self/fd entry). */
int temp_open(struct ctx *c, int dirfd, const char *name, char tmp[NAME_MAX + 1]);
int temp_symlink(struct ctx *c, int dirfd, const char *name, char tmp[NAME_MAX + 1], const char *target);
int temp_mknod(struct ctx *c, int dirfd, const char *name, char tmp[NAME_MAX + 1], mode_t type, dev_t rdev);
int temp_link(struct ctx *c, int fromfd, const char *from, int follow, int dirfd, const char *name,
              char tmp[NAME_MAX + 1]);

/* A new regular file for a File op whose target's permission bits will be `mode`: unnamed (O_TMPFILE in
 * p, created with mode's permission bits, tmp set to "", *made its fstat) where the run and p's
 * filesystem allow it and the temp goes beside the target (tdir is p's fd), else temp_open's named one
 * in tdir (tmp its name, *made untouched). An fd, or -1 with errno set by the named create. */
int temp_open_new(struct ctx *c, struct parent *p, int tdir, const char *name, char tmp[NAME_MAX + 1], mode_t mode,
                  struct stat *made);

/* An unnamed file (fd still open, written and given its metadata) put in place as `name` in p: linked
 * there when the name is free, else linked under a temp name (tmp) and renamed over as temp_commit does
 * (and p's next new files are made by name). Returns OP_OK or the op failed; nothing is left under a
 * temp name either way. */
int temp_place_unnamed(struct job *j, int fd, struct parent *p, const char *name, char tmp[NAME_MAX + 1]);

/* renameat over the target; a directory in the way is removed when empty (else "rmdir" fails). */
int temp_rename_over(struct job *j, int dirfd, const char *tmp, const char *name);

/* A temp entry made by name (symlink, node, hard link) after its metadata step gave rc: renamed over
 * the target when rc is OP_OK, else (or when the rename fails) unlinked. Returns the final rc. */
int temp_commit(struct job *j, int dirfd, const char *tmp, const char *name, int rc);

/* Closes a temp file we wrote; a deferred write error fails the op with syscall `close` (the data is
 * then not renamed into place). */
int temp_close(struct job *j, int fd, int where);

/* A failed File op's temp file (made in `tdir`): unlinked, or with --partial renamed over the target
 * (mtime 0) or into the partial dir when data had been copied, with the permission bits `mode`. */
void temp_discard(struct job *j, int tdir, const char *tmp, int dirfd, const char *name, mode_t mode);

/* The directory a File op's temp file is made in: the held --temp-dir (opened on first use without
 * following any symlink), else `dirfd`, the target's. -1 with the op failed. */
int temp_file_dir(struct job *j, int dirfd);

/* A finished File temp moved over the target: a rename (from --temp-dir into the target's directory
 * too); across filesystems (EXDEV) rsync's copy into a temp beside the target, its metadata (`mode`,
 * the op's owner and times, the temp's xattrs) set again, then renamed. A directory in the way is
 * removed when empty. */
int temp_place(struct job *j, int tdir, const char *tmp, int dirfd, const char *name, mode_t mode);

/* The context's --temp-dir, closed and freed. */
void temp_release(struct ctx *c);

/* --preallocate: the file's blocks reserved before its data is written (not under -S, whose zero runs
 * are holes); best effort, as in rsync. */
void temp_preallocate(const struct ctx *c, int fd, off_t size);

/* --fsync: the written file's data and metadata on disk before it takes its name (or, in place, before
 * its close); a failure fails the op with syscall `fsync`. */
int temp_fsync(struct job *j, int fd, int where);

#endif
