/* Resolution beneath a held directory fd without following symlinks: the one implementation of the
 * destination rule (DESIGN §3.2) and of the source rule below an anchor, used by the ops, the source
 * side, the scanPair cursor and the tree scan alike. openat2 where the kernel has it; the same
 * guarantee with one O_NOFOLLOW component at a time where it does not (kernels before 5.6, seccomp
 * profiles that predate it). */
#ifndef ARSYNC_BENEATH_H
#define ARSYNC_BENEATH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* -K: symlinks to directories may be followed by openat2 (still never out of `dirfd`); the component
 * walk stays strict (stricter than -K, never looser). */
#define BENEATH_DIRLINKS 1u

/* Opens `path` ("" or "." = `dirfd` itself) beneath `dirfd`: no symlink and no magic link followed,
 * no "..", no absolute path (EXDEV, openat2's answer for an escape). `dirfd` is the root or a
 * directory already resolved beneath it (a long path's chain, longpath.h). An fd or -errno. */
int beneath_open(int dirfd, const char *path, int flags, unsigned opts);

/* beneath_open for `rel` of any length (not NUL-terminated): beyond PATH_MAX its leading directories
 * are opened a chunk at a time, each beneath the last with the same rules (longpath.h). */
int beneath_open_path(int dirfd, const uint8_t *rel, uint32_t len, int flags, unsigned opts);

/* A path resolved beforehand to hold no symlink (the destination root, an OF_BASIS file), opened so
 * that none is followed at any component now either. Absolute paths only without openat2. Returns
 * an fd, or -1 with errno set. */
int open_no_symlinks(const char *path, int flags);

/* Copies path bytes into a NUL-terminated buffer; 0 or ENAMETOOLONG/EINVAL (embedded NUL). */
int zpath(const uint8_t *p, uint32_t n, char *out, size_t cap);

#endif
