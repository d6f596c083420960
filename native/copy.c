/* File data for the sync engine (and for the uring engine's EMFILE retries): a clone (reflink.c), else copy_file_range loops
 * with the read/write fallback, SEEK_DATA/SEEK_HOLE extents so that holes stay holes, -S zero runs.
 * Data goes by explicit offsets so that extents and fallbacks never depend on file positions. Also
 * -c's content compare (the one copy in C). */
#include "copy.h"
#include "reflink.h"
#include "meter.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

/* Large enough that copy_file_range's per-call cost vanishes, small enough to honour the abort flag
 * and to move the byte counter smoothly. */
#define CFR_CHUNK (8u << 20)

bool copy_cfr_unsupported(int e)
{
  return e == EXDEV || e == EOPNOTSUPP || e == EINVAL || e == ENOSYS;
}

bool copy_dest_errno(int e)
{
  return e == ENOSPC || e == EDQUOT || e == EFBIG || e == EROFS;
}

void copy_count_holes(struct job *j, int64_t before, uint64_t eof)
{
  int64_t holes = (int64_t)eof - (j->bytes - before);
  if (holes > 0) {
    job_count(j, holes);
  }
}

int copy_fail_short(struct job *j)
{
  return job_fail(j, ENODATA, "read", W_SRC);
}

int copy_check_size(struct job *j, int in, uint64_t size)
{
  struct stat now;
  if (fstat(in, &now) < 0)
    return job_fail(j, errno, "fstat", W_SRC);
  return (uint64_t)now.st_size < size ? copy_fail_short(j) : OP_OK;
}

bool copy_want_sparse(const struct ctx *c, const struct stat *st)
{
  return (c->flags & P_SPARSE) || (uint64_t)st->st_blocks * 512u < (uint64_t)st->st_size;
}

static bool zero_block(const uint8_t *p, size_t n)
{
  return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

bool copy_next_run(const uint8_t *buf, size_t from, size_t n, bool skip_zero, size_t *start, size_t *end)
{
  if (from >= n)
    return false;
  if (!skip_zero) {
    *start = from;
    *end = n;
    return true;
  }
  size_t s = from;
  while (s < n) {
    size_t b = n - s < ZERO_BLOCK ? n - s : ZERO_BLOCK;
    if (!zero_block(buf + s, b))
      break;
    s += b;
  }
  if (s >= n)
    return false;
  size_t e = s;
  while (e < n) {
    size_t b = n - e < ZERO_BLOCK ? n - e : ZERO_BLOCK;
    if (e != s && zero_block(buf + e, b))
      break;
    e += b;
  }
  *start = s;
  *end = e;
  return true;
}

static int write_all(struct job *j, int out, const uint8_t *p, size_t n, uint64_t off)
{
  while (n > 0) {
    ssize_t w = pwrite(out, p, n, (off_t)off);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return job_fail(j, errno, "write", W_DST);
    }
    if (w == 0) /* a regular file never does this; do not spin */
      return job_fail(j, EIO, "write", W_DST);
    p += w;
    n -= (size_t)w;
    off += (uint64_t)w;
  }
  return OP_OK;
}

struct copy_state {
  bool cfr;   /* copy_file_range still in use for this file */
  bool first; /* no copy_file_range call has succeeded yet: unsupported errnos may fall back */
  bool skip_zero;
  bool punch; /* -S in place: the target's old bytes under a skipped zero run are punched out */
};

/* -S in place (rsync's do_punch_hole): a zero run becomes a hole in the target; where the filesystem
 * cannot punch, the zeros (already in `zeros`) are written. */
static int punch_run(struct job *j, int out, const uint8_t *zeros, size_t n, uint64_t off)
{
  if (fallocate(out, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)n) == 0)
    return OP_OK;
  return write_all(j, out, zeros, n, off);
}

/* Copies [off, off+len); *done is what was copied (less than len only when the source ended early:
 * a zero-byte read or copy_file_range result. Short reads are continued at the new offset). */
static int copy_range(struct job *j, struct copy_state *cs, int in, int out, uint64_t off, uint64_t len,
                      uint64_t *done)
{
  struct ctx *c = j->c;
  uint64_t pos = off, end = off + len;
  while (pos < end) {
    if (aborted(c))
      return OP_ABORT;
    if (cs->cfr) {
      loff_t oi = (loff_t)pos, oo = (loff_t)pos;
      size_t piece = meter_piece(c, CFR_CHUNK);
      size_t want = end - pos < piece ? (size_t)(end - pos) : piece;
      ssize_t n = copy_file_range(in, &oi, out, &oo, want, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 0 && !cs->first && copy_check_size(j, in, end) != OP_OK)
        return OP_FAIL;
      if (n == 0 || (n < 0 && cs->first && copy_cfr_unsupported(errno))) {
        /* 0 on the first call can also mean "not supported here" (procfs-like sources): read()
         * tells whether it really is EOF, as it does after copy_check_size. */
        cs->cfr = false;
        continue;
      }
      if (n < 0)
        return job_fail(j, errno, "copy_file_range", copy_dest_errno(errno) ? W_DST : W_SRC);
      cs->first = false;
      pos += (uint64_t)n;
      job_count(j, n);
      meter_charge(c, n);
      continue;
    }
    size_t piece = meter_piece(c, c->bufsize);
    size_t want = end - pos < piece ? (size_t)(end - pos) : piece;
    ssize_t n = pread(in, c->iobuf, want, (off_t)pos);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return job_fail(j, errno, "read", W_SRC);
    }
    if (n == 0)
      break;
    size_t from = 0, s, e;
    int rc = OP_OK;
    while (copy_next_run(c->iobuf, from, (size_t)n, cs->skip_zero, &s, &e)) {
      if (cs->punch && s > from && (rc = punch_run(j, out, c->iobuf + from, s - from, pos + from)) != OP_OK)
        return rc;
      rc = write_all(j, out, c->iobuf + s, e - s, pos + s);
      if (rc != OP_OK)
        return rc;
      from = e;
    }
    if (cs->punch && from < (size_t)n && (rc = punch_run(j, out, c->iobuf + from, (size_t)n - from, pos + from)) != OP_OK)
      return rc;
    pos += (uint64_t)n;
    job_count(j, n);
    meter_charge(c, n);
  }
  *done = pos - off;
  return OP_OK;
}

int copy_data_sync(struct job *j, int in, int out, const struct stat *st, bool inplace)
{
  return copy_data_from(j, in, out, st, inplace, 0);
}

int copy_data_from(struct job *j, int in, int out, const struct stat *st, bool inplace, uint64_t from)
{
  struct ctx *c = j->c;
  uint64_t size = (uint64_t)st->st_size;
  int64_t counted = j->bytes;
  /* In place, a hole we skip would keep the old target's bytes there: write everything. */
  bool sparse = !inplace && !j->device_out && copy_want_sparse(c, st);
  /* In place, -S punches the zero runs it skips (the old target's bytes are under them). */
  struct copy_state cs = {
    .skip_zero = (c->flags & P_SPARSE) != 0,
    .punch = inplace && (c->flags & P_SPARSE) != 0,
    .first = true,
  };
  /* Zero runs can only be skipped when we see the bytes. */
  cs.cfr = !cs.skip_zero && reflink_cfr_allowed(c);
  /* A clone replaces the whole file: not when --append keeps the target's first bytes. */
  if (from == 0) {
    int cloned = reflink_try(j, in, out, st, cs.skip_zero);
    if (cloned != 0) {
      /* In place, the old target may be longer than the clone. */
      if (cloned == 1 && inplace && !j->device_out && ftruncate(out, (off_t)size) < 0)
        return job_fail(j, errno, "ftruncate", W_DST);
      return cloned == 1 ? OP_OK : cloned;
    }
  }
  uint64_t off = from;
  while (off < size) {
    uint64_t end = size;
    if (sparse) {
      off_t d = lseek(in, (off_t)off, SEEK_DATA);
      if (d < 0 && errno == ENXIO) /* only a hole is left */
        break;
      if (d < 0 && errno == EINVAL) {
        sparse = false; /* the filesystem cannot tell: copy everything, still skipping zeros */
      } else if (d < 0) {
        return job_fail(j, errno, "read", W_SRC);
      } else {
        off = (uint64_t)d;
        if (off >= size)
          break;
        off_t h = lseek(in, d, SEEK_HOLE);
        if (h < 0)
          return job_fail(j, errno, "read", W_SRC);
        end = (uint64_t)h < size ? (uint64_t)h : size;
      }
    }
    uint64_t done;
    int rc = copy_range(j, &cs, in, out, off, end - off, &done);
    if (rc != OP_OK)
      return rc;
    if (done < end - off)
      return copy_fail_short(j);
    off = end;
  }
  /* SEEK_DATA sees a source that shrank as a trailing hole: only its size tells them apart. */
  if (sparse && copy_check_size(j, in, size) != OP_OK)
    return OP_FAIL;
  /* A trailing hole (or skipped zeros) leaves the file short: extend it without allocating.
   * In place, the old target may be longer than the source. */
  /* A device written into (--write-devices) keeps its size: it cannot be truncated. */
  if ((sparse || cs.skip_zero || inplace) && !j->device_out && ftruncate(out, (off_t)size) < 0)
    return job_fail(j, errno, "ftruncate", W_DST);
  copy_count_holes(j, counted, size);
  return OP_OK;
}

ssize_t pread_full(int fd, uint8_t *buf, size_t n, uint64_t off)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -errno;
    if (r == 0)
      break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

int copy_same_prefix(struct job *j, int in, int fd, uint64_t size)
{
  struct ctx *c = j->c;
  size_t half = c->bufsize / 2;
  uint8_t *a = c->iobuf, *b = c->iobuf + half;
  for (uint64_t off = 0; off < size;) {
    if (aborted(c))
      return OP_ABORT;
    size_t want = size - off < half ? (size_t)(size - off) : half;
    ssize_t n = pread_full(in, a, want, off);
    if (n < 0)
      return job_fail(j, (int)-n, "read", W_SRC);
    if ((size_t)n != want || pread_full(fd, b, want, off) != n || memcmp(a, b, want) != 0)
      return 0;
    off += want;
  }
  return 1;
}

/* -c: 1 when the target already holds exactly the source's bytes (then *tfd is the target, open
 * read-only for setting attributes), 0 when it does not (or cannot be read: copy then). */
int copy_same_content(struct job *j, int dirfd, const char *name, int in, const struct stat *st, int *tfd)
{
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return 0;
  struct stat ts;
  if (fstat(fd, &ts) < 0 || !S_ISREG(ts.st_mode) || ts.st_size != st->st_size) {
    close(fd);
    return 0;
  }
  int r = copy_same_prefix(j, in, fd, (uint64_t)st->st_size);
  if (r != 1) {
    close(fd);
    return r;
  }
  *tfd = fd;
  return 1;
}
