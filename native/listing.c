/* Sorted directory listings (names only; entries are stat'ed one by one when they are looked at), the
 * one merge-join of a source listing with its destination twin, and the 12-double stat layout: shared
 * by scanDir/scanDest, the scanPair cursor and scanTree. */
#include "listing.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DENTS_BUF (64 * 1024)

struct dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

void listing_free(struct listing *l)
{
  free(l->pool);
  free(l->names);
  memset(l, 0, sizeof *l);
}

static int cmp_name(const void *a, const void *b)
{
  /* strcmp compares as unsigned char: the same byte order as Buffer.compare. */
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int list_names(int fd, struct listing *l)
{
  char *buf = malloc(DENTS_BUF);
  if (!buf)
    return ENOMEM;
  int e = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, DENTS_BUF);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      e = errno;
      break;
    }
    if (n == 0)
      break;
    for (long off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->d_reclen;
      const char *nm = d->d_name;
      if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0)))
        continue;
      size_t len = strlen(nm) + 1;
      if (l->used + len > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8192;
        while (cap < l->used + len)
          cap *= 2;
        char *p = realloc(l->pool, cap);
        if (!p) {
          e = ENOMEM;
          goto out;
        }
        l->pool = p;
        l->cap = cap;
      }
      memcpy(l->pool + l->used, nm, len);
      l->used += len;
      l->n++;
    }
  }
out:
  free(buf);
  if (e)
    return e;
  /* Offsets become pointers only now: the pool may have moved while growing. */
  l->names = malloc((l->n ? l->n : 1) * sizeof *l->names);
  if (!l->names)
    return ENOMEM;
  char *p = l->pool;
  for (size_t i = 0; i < l->n; i++) {
    l->names[i] = p;
    p += strlen(p) + 1;
  }
  qsort(l->names, l->n, sizeof *l->names, cmp_name);
  return 0;
}

size_t listing_pack(char *const *names, const size_t *idx, size_t n, char *out)
{
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(names[idx[i]]) + 1;
    if (out)
      memcpy(out + total, names[idx[i]], len);
    total += len;
  }
  return total;
}

int stat_entry(int dirfd, const char *name, struct statx *sx)
{
  if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, sx) < 0)
    return errno;
  return 0;
}

void listing_fill(double *m, const struct statx *sx, int err)
{
  memset(m, 0, META_FIELDS * sizeof *m);
  if (err) {
    m[11] = err;
    return;
  }
  m[0] = sx->stx_mode;
  m[1] = sx->stx_uid;
  m[2] = sx->stx_gid;
  m[3] = (double)sx->stx_size;
  m[4] = (double)sx->stx_mtime.tv_sec;
  m[5] = sx->stx_mtime.tv_nsec;
  m[6] = (double)sx->stx_ino;
  m[7] = (double)makedev(sx->stx_dev_major, sx->stx_dev_minor);
  m[8] = sx->stx_nlink;
  m[9] = (double)makedev(sx->stx_rdev_major, sx->stx_rdev_minor);
  m[10] = (double)sx->stx_blocks;
  m[12] = (double)sx->stx_atime.tv_sec; /* after the errno slot: -U's whole-second access time */
}

bool join_next(struct join *m, const struct listing *s, const struct listing *d, size_t *si, size_t *dj)
{
  if (m->i == s->n) {
    if (m->j == d->n)
      return false;
    *si = SIZE_MAX;
    *dj = m->j++;
    return true;
  }
  int cmp = m->j < d->n ? strcmp(d->names[m->j], s->names[m->i]) : 1;
  if (cmp < 0) {
    *si = SIZE_MAX; /* destination-only: an extra */
    *dj = m->j++;
    return true;
  }
  *si = m->i++;
  *dj = cmp == 0 ? m->j++ : SIZE_MAX;
  return true;
}
