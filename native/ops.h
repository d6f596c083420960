/* Batch execution: per-op semantics (temp file + rename, beneath-root resolution, source identity
 * checks) for the sync engine, and the building blocks the uring pipeline reuses. */
#ifndef ARSYNC_OPS_H
#define ARSYNC_OPS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context.h"

/* Copies path bytes into a NUL-terminated buffer; 0 or ENAMETOOLONG/EINVAL (embedded NUL). */
int ops_zpath(const uint8_t *p, uint32_t n, char *out, size_t cap);

/* Opens (or takes from the one-entry cache) the destination directory that holds `path`
 * (destination-relative) and copies the last component into name. The caller owns one reference. */
int ops_resolve_parent(struct job *j, const uint8_t *path, uint32_t len, struct parent **out,
                       char name[NAME_MAX + 1]);
void ops_parent_put(struct ctx *c, struct parent *p);
/* Forgets the cached parent (EMFILE recovery, context close). */
void ops_parent_drop_cache(struct ctx *c);

/* `.<name>.XXXXXX`, shortened so that it fits NAME_MAX. */
void ops_temp_name(struct ctx *c, const char *name, char out[NAME_MAX + 1]);

/* Source flags for a regular file: O_NONBLOCK so that a FIFO swapped in for the file cannot hang
 * the open; cleared again by ops_check_source once the fd is known to be a regular file. */
int ops_source_flags(const struct ctx *c, const struct op *op);
/* fstat + type/identity check (ESTALE/"fstat" on mismatch); clears O_NONBLOCK on regular files. */
int ops_check_source(struct job *j, int fd, int flags, mode_t type, struct stat *st);

/* renameat over the target; a directory in the way is removed when empty (else "rmdir" fails). */
int ops_rename_over(struct job *j, int dirfd, const char *tmp, const char *name);

/* Opens a destination path ("" = the root) beneath the root; an fd or -errno. */
int ops_open_dest(struct ctx *c, const uint8_t *rel, uint32_t len, int flags);

/* Open an absolute path without following a symlink at any component (ELOOP if one is met). Returns an
 * fd, or -1 with errno set. */
int ops_open_no_symlinks(const char *path, int flags);

/* A failed File op's temp file: unlinked, or with --partial renamed over the target when data had
 * been copied. */
void ops_discard_temp(struct job *j, int dirfd, const char *tmp, const char *name);

/* --remove-source-files: the op's source is unlinked only while it is still the file the walk saw
 * (ino/dev), never a directory; a missing source is fine. Any path length (longpath.h). */
int ops_remove_source(struct job *j);

/* After an op ran: --remove-source-files, failure recording and counting, the outcome byte.
 * Returns the final OP_* code. */
int ops_finish(struct job *j, int rc);

/* Runs one op with the sync engine. Failures are recorded in c->fails (and counted); with
 * allow_retry an EMFILE/ENFILE drops the cached fd and runs the op once more. OP_OK/OP_FAIL/OP_ABORT. */
int ops_exec_sync(struct ctx *c, const struct op *op, bool allow_retry);

/* The sync engine: every op in order. OP_OK, or OP_ABORT when the abort flag stopped the batch. */
int ops_run_sync(struct ctx *c, const uint8_t *batch, size_t len);

#endif
