/* --partial-dir and --delay-updates (rsync's partial_dir): where a kept partial file and a delayed
 * update wait. The twin of src/engine/node-partial.ts. */
#ifndef ARSYNC_PARTIAL_H
#define ARSYNC_PARTIAL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "context.h"

/* A finished File temp (made in `tdir`) into place: with P_DELAY_UPDATES into the partial dir of
 * `dirfd` (made when missing) under `name`; otherwise over `name` (temp_place), after which a
 * partial file left there for `name` is used up (unlinked) and a relative partial dir left empty is
 * removed. OP_OK or the op failed. */
int partial_finish(struct job *j, int tdir, const char *tmp, int dirfd, const char *name, mode_t mode);

/* --partial with a partial dir: the interrupted or failed temp renamed to `name` in the partial dir
 * of `dirfd` (made when missing). False when that could not be done (the caller discards the temp). */
bool partial_keep(struct job *j, int tdir, const char *tmp, int dirfd, const char *name);

/* OP_DELAYED: the file waiting under dst's name in its partial dir renamed over dst; a relative
 * partial dir left empty is removed. */
int partial_delayed(struct job *j);

/* OP_PARTIAL_USED: dst is current; the partial file waiting under its name is removed, and a relative
 * partial dir left empty. */
int partial_used(struct job *j);

/* The context's partial dir: the held absolute one closed, the path freed. */
void partial_release(struct ctx *c);

#endif
