/* Source-side path resolution: the operator's anchor is followed like any path the user typed, what
 * the walk found beneath it is resolved without following a symlink. */
#ifndef ARSYNC_SOURCE_H
#define ARSYNC_SOURCE_H

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

#include "context.h"

/* Opens a source directory for listing (O_RDONLY|O_DIRECTORY): `src[0, alen)` is the anchor (0: the
 * path's own parent directory), the rest is opened beneath it with no symlinks. An fd or -errno. */
int src_open_dir(const uint8_t *src, uint32_t len, uint32_t alen);

/* The source directory that holds the op's src, opened beneath its anchor (op->anchor) and cached
 * like destination parents; the last component goes to name. *out is NULL when src is the anchor
 * itself (the caller opens the whole path, following it like the operand it is). A symlink or
 * escape on the way fails with ESTALE/"fstat" (the entry changed since the walk). */
int src_resolve_parent(struct job *j, struct parent **out, char name[NAME_MAX + 1]);

/* Forgets the cached source parent (whenever the destination parent changes too, dest.c). */
void src_drop_cache(struct ctx *c);
/* Lets go of the held source anchor (EMFILE recovery, context close: dest.c parents_release_all). */
void src_drop_anchor(struct ctx *c);

/* Source flags for a regular file: O_NONBLOCK so that a FIFO swapped in for the file cannot hang
 * the open; cleared again by src_check once the fd is known to be a regular file. */
int src_file_flags(const struct ctx *c, const struct op *op);
/* fstat + type/identity check (ESTALE/"fstat" on mismatch); clears O_NONBLOCK on regular files. */
/* src_open/src_check `type` for a char or block device (--copy-devices reads one as a file). */
#define SRC_DEVICE ((mode_t)1)

int src_check(struct job *j, int fd, int flags, mode_t type, struct stat *st);
/* The op's source, beneath its anchor, with O_NOATIME while it still works, checked against what the
 * walk saw (src_check). A basis file (OF_BASIS) is opened whole with no symlink followed. */
int src_open(struct job *j, int flags, mode_t type, int *fd, struct stat *st);

/* --remove-source-files: the op's source is unlinked only while it is still the file the walk saw
 * (ino/dev), never a directory; a missing source is fine. Any path length (longpath.h). */
int src_remove(struct job *j);

#endif
