/* File data: copy_file_range with the read/write fallback, hole-preserving copies, zero-run
 * detection for -S. The uring engine shares the policy helpers and does its own I/O. */
#ifndef ARSYNC_COPY_H
#define ARSYNC_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "context.h"

/* Granularity of -S zero-run detection (and of the holes we leave), the common fs block size. */
#define ZERO_BLOCK 4096u

/* Reads up to n bytes at off into buf, going on after short reads and EINTR: the count read (less than
 * n only at the file's end) or -errno. The one such loop of the addon (copy, basis sums, sendReadWhole). */
ssize_t pread_full(int fd, uint8_t *buf, size_t n, uint64_t off);

/* Copies the data of the regular file `in` (as fstat'ed in *st: exactly st_size bytes; growth after
 * the open is not copied) into `out` (a new empty file, or with inplace the old target, truncated to
 * the new size at the end), with the sync engine's plain syscalls. A source that ends before st_size
 * fails the op (copy_fail_short): its data was not fully read. */
int copy_data_sync(struct job *j, int in, int out, const struct stat *st, bool inplace);

/* copy_data_sync from byte `from` on (--append: the target's first `from` bytes are kept). */
int copy_data_from(struct job *j, int in, int out, const struct stat *st, bool inplace, uint64_t from);

/* --append-verify: 1 when the first `size` bytes of `fd` (open for reading) are the source's, 0 when
 * not (or when it reads short), OP_FAIL (the source unreadable) or OP_ABORT. */
int copy_same_prefix(struct job *j, int in, int fd, uint64_t size);

/* Fails the job because the source ended before the size fstat gave at the open: it shrank or its
 * filesystem promised more than it has. Reported as rsync's "read errors" (ENODATA, read). Only a
 * zero-byte read is end of file, so this is the one outcome of reading "too little". */
int copy_fail_short(struct job *j);

/* OP_OK when the source still has at least `size` bytes, else the job fails as copy_fail_short (or
 * with fstat's errno). Needed where "no more data" is not a zero-byte read:
 * - hole-aware copies: SEEK_DATA reports a truncated tail as a hole;
 * - copy_file_range returning 0 before the end, which is not proof of EOF: the kernel clamps it to
 *   the inode's cached size, which on FUSE (and network filesystems) a short read can cut, and
 *   which async reads (io_uring) trust too. fstat asks the filesystem again and refreshes that
 *   size; when the source is not shorter, the caller goes on with read(), whose zero-byte result
 *   is the one that means EOF. */
int copy_check_size(struct job *j, int in, uint64_t size);

/* Holes count as copied bytes, so that progress reaches the files' total size (as the node engine
 * does): adds eof minus what was counted since `before` (a j->bytes snapshot). */
void copy_count_holes(struct job *j, int64_t before, uint64_t eof);

/* A source with fewer allocated blocks than its size has holes worth keeping (or -S asks for it). */
bool copy_want_sparse(const struct ctx *c, const struct stat *st);

/* The next byte run of buf[from, n) to write: all of it, or with skip_zero the next run of
 * ZERO_BLOCK blocks that are not all zero. False when nothing is left to write. */
bool copy_next_run(const uint8_t *buf, size_t from, size_t n, bool skip_zero, size_t *start, size_t *end);

/* Errnos that say copy_file_range cannot do this pair of files, as opposed to an I/O error. */
bool copy_cfr_unsupported(int e);

/* Errnos of a copy that are about the destination, not the source. */
bool copy_dest_errno(int e);

/* -c: 1 when the target `name` in dirfd already holds exactly the source's bytes (then *tfd is the
 * target, open read-only for setting attributes), 0 when it does not (or cannot be read: copy then),
 * OP_FAIL on a source read error, OP_ABORT. */
int copy_same_content(struct job *j, int dirfd, const char *name, int in, const struct stat *st, int *tfd);

#endif
