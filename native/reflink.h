/* --reflink: a whole regular file cloned (FICLONE) into the file the copy would have written, and the
 * policy around it. */
#ifndef ARSYNC_REFLINK_H
#define ARSYNC_REFLINK_H

#include <stdbool.h>
#include <sys/stat.h>

#include "context.h"

/* Errnos after which auto copies the data instead (GNU cp's "cloning is not supported here" set, as
 * its copy.c documents it): the filesystem or this pair of files cannot share extents. Any other errno
 * is a real error of the file. */
bool reflink_unsupported(int e);

/* Tries to clone `in` (fstat'ed as *st) into `out`, which is empty or, with --inplace, the old target
 * (the caller truncates it to st_size afterwards). Returns 1 when the data is in `out` (bytes counted),
 * 0 when the caller copies the data itself (--reflink=never; auto with -S, which must look at the bytes,
 * or after an unsupported errno), OP_FAIL with the job's error (--reflink=always that could not clone,
 * or a real error). */
/* Whether copy_file_range may carry the data: the kernel clones within XFS and btrfs when it can, so
 * --reflink=never rules it out, as GNU cp does (read/write then). */
bool reflink_cfr_allowed(const struct ctx *c);

int reflink_try(struct job *j, int in, int out, const struct stat *st, bool skip_zero);

#endif
