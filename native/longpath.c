/* Paths longer than PATH_MAX, opened a chunk at a time from a held directory fd (see longpath.h).
 * Each chunk is opened relative to the directory the previous one reached, with the same rules as
 * the whole path would have been (the caller's open_chunk): a destination chain stays beneath the
 * root because every link of it is opened beneath the one before, never following a symlink. */
#include "longpath.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void lp_release(struct lp_at *at)
{
  if (at->owned)
    close(at->dirfd);
  at->owned = false;
}

int lp_split(int start, const uint8_t *p, uint32_t n, size_t max, lp_open_fn open_chunk, void *arg,
             struct lp_at *at)
{
  if (max > PATH_MAX)
    max = PATH_MAX;
  at->dirfd = start;
  at->owned = false;
  if (n && memchr(p, 0, n))
    return EINVAL;
  size_t off = 0;
  while (n - off >= max) {
    /* The longest chunk that ends at a '/' and fits a PATH_MAX buffer with its NUL. */
    size_t lim = off + PATH_MAX - 1;
    if (lim > n)
      lim = n;
    const uint8_t *slash = memrchr(p + off, '/', lim - off);
    size_t cut = slash ? (size_t)(slash - p) : off;
    char chunk[PATH_MAX];
    size_t clen = cut - off;
    if (clen == 0) {
      lp_release(at);
      return ENAMETOOLONG; /* a component longer than any chunk (NAME_MAX makes this impossible) */
    }
    memcpy(chunk, p + off, clen);
    chunk[clen] = 0;
    int fd = open_chunk(arg, at->dirfd, chunk);
    if (fd < 0) {
      lp_release(at);
      return -fd;
    }
    lp_release(at);
    at->dirfd = fd;
    at->owned = true;
    off = cut + 1;
    while (off < n && p[off] == '/')
      off++; /* a later chunk starting with '/' would be taken as absolute */
  }
  size_t rlen = n - off;
  if (rlen == 0 && off > 0) {
    at->rest[0] = '.';
    rlen = 1;
  } else if (rlen) {
    memcpy(at->rest, p + off, rlen);
  }
  at->rest[rlen] = 0;
  return 0;
}

static int open_plain(void *arg, int dirfd, const char *chunk)
{
  (void)arg;
  int fd = openat(dirfd, chunk, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int lp_source(const uint8_t *p, uint32_t n, size_t max, struct lp_at *at)
{
  return lp_split(AT_FDCWD, p, n, max, open_plain, NULL, at);
}
