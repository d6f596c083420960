/* Paths longer than PATH_MAX: no single *at call takes them, so the leading part is opened a chunk at
 * a time (each chunk shorter than PATH_MAX, cut at a '/') from a held directory fd, and the call is
 * then made relative to the last directory opened, with the rest of the path. A path that fits
 * costs nothing extra: it is only copied and NUL-terminated. */
#ifndef ARSYNC_LONGPATH_H
#define ARSYNC_LONGPATH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opens one chunk (NUL-terminated; relative, or absolute only as a path's first chunk) as an
 * O_PATH|O_DIRECTORY fd relative to dirfd. Returns the fd or -errno. */
typedef int (*lp_open_fn)(void *arg, int dirfd, const char *chunk);

/* A path made ready for *at calls: `dirfd` (the start fd, or a directory we opened on the way) and
 * `rest`, the part of the path left below it. */
struct lp_at {
  int dirfd;
  bool owned; /* dirfd is ours to close (lp_release) */
  char rest[PATH_MAX];
};

/* Descends from `start` through (p, n), opening chunks with `open_chunk`, until what is left is
 * shorter than `max` (at most PATH_MAX) bytes, and copies that into at->rest ("." when a chunk cut
 * left nothing). 0 or an errno: EINVAL for an embedded NUL, ENAMETOOLONG for a component that no
 * chunk can hold, or what open_chunk returned. On failure nothing is held. */
int lp_split(int start, const uint8_t *p, uint32_t n, size_t max, lp_open_fn open_chunk, void *arg,
             struct lp_at *at);
void lp_release(struct lp_at *at);

/* A source path, resolved as open(2) resolves it (relative to the cwd, symlinks to directories
 * followed: it is the user's tree, checked by identity afterwards). */
int lp_source(const uint8_t *p, uint32_t n, size_t max, struct lp_at *at);

#endif
