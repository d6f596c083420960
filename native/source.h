/* Source-side path resolution: the operator's anchor is followed like any path the user typed, what
 * the walk found beneath it is resolved without following a symlink. */
#ifndef ARSYNC_SOURCE_H
#define ARSYNC_SOURCE_H

#include <limits.h>
#include <stdint.h>

#include "context.h"

/* Opens a source directory for listing (O_RDONLY|O_DIRECTORY): `src[0, alen)` is the anchor (0: the
 * path's own parent directory), the rest is opened beneath it with no symlinks. An fd or -errno. */
int src_open_dir(const uint8_t *src, uint32_t len, uint32_t alen);

/* The source directory that holds the op's src, opened beneath its anchor (op->anchor) and cached
 * like destination parents; the last component goes to name. *out is NULL when src is the anchor
 * itself (the caller opens the whole path, following it like the operand it is). A symlink or
 * escape on the way fails with ESTALE/"fstat" (the entry changed since the walk). */
int src_resolve_parent(struct job *j, struct parent **out, char name[NAME_MAX + 1]);

/* `rest` ("" = `at` itself) beneath the directory fd `at`, with no symlinks and no "..": openat2, or
 * one O_NOFOLLOW component at a time where openat2 is missing. An fd or -errno. */
int src_open_beneath(int at, const char *rest, int flags);

/* src_open_beneath for `rest` of any length (not NUL-terminated): beyond PATH_MAX it is opened a
 * chunk at a time, each chunk with the same rules (longpath.h). An fd or -errno. */
int src_open_beneath_path(int at, const uint8_t *rest, uint32_t len, int flags);

/* Forgets the cached source parent (EMFILE recovery, context close). */
void src_drop_cache(struct ctx *c);

#endif
