/* The quick check on a matched pair (quickcheck.h): size and mtime (nanoseconds, --modify-window, or the
 * engine's resolution), mode bits with -p, owner and group as asked, symlink targets. */
#include "quickcheck.h"

#include <limits.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "listing.h"

/* sameTime() of src/plan/quickcheck.ts. */
static bool same_time(const struct quick *q, const struct statx *a, const struct statx *b)
{
  double ds = (double)a->stx_mtime.tv_sec - (double)b->stx_mtime.tv_sec;
  if (q->window > 0)
    return fabs(ds) <= q->window;
  if (fabs(ds) > 1)
    return false;
  double dn = ds * 1e9 + ((double)a->stx_mtime.tv_nsec - (double)b->stx_mtime.tv_nsec);
  return fabs(dn) < (q->res > 1 ? q->res : 1);
}

static bool same_ids(const struct quick *q, const struct statx *a, const struct statx *b)
{
  if ((q->bits & SP_OWNER) && a->stx_uid != b->stx_uid)
    return false;
  return !(q->bits & SP_GROUP) || a->stx_gid == b->stx_gid;
}

/* The source's target: `known` when the caller has it (a received list's), else read at sfd/sname. */
static bool same_link(int sfd, const char *sname, const struct target *known, int dfd, const char *dname, size_t size)
{
  char a[PATH_MAX], b[PATH_MAX];
  if (size >= sizeof a)
    return false;
  ssize_t la;
  if (known) {
    if (known->len >= sizeof a)
      return false;
    memcpy(a, known->bytes, known->len);
    la = (ssize_t)known->len;
  } else {
    la = readlinkat(sfd, sname, a, sizeof a);
  }
  ssize_t lb = readlinkat(dfd, dname, b, sizeof b);
  return la >= 0 && la == lb && memcmp(a, b, (size_t)la) == 0;
}

bool quick_unchanged(const struct quick *q, const struct statx *s, const struct statx *d, int sfd, const char *name,
                     int dfd)
{
  return quick_unchanged_to(q, s, d, sfd, name, NULL, dfd);
}

bool quick_unchanged_to(const struct quick *q, const struct statx *s, const struct statx *d, int sfd, const char *name,
                        const struct target *known, int dfd)
{
  if ((s->stx_mode & S_IFMT) != (d->stx_mode & S_IFMT) || !same_ids(q, s, d))
    return false;
  /* -H: every member of a hard-link group goes to the planner (symlinks too, as rsync groups them). */
  if ((q->bits & SP_HARDLINKS) && !S_ISDIR(s->stx_mode) && s->stx_nlink > 1)
    return false;
  if (S_ISREG(s->stx_mode)) {
    if (s->stx_size != d->stx_size || !same_time(q, s, d))
      return false;
    return !(q->bits & SP_PERMS) || (s->stx_mode & 07777) == (d->stx_mode & 07777);
  }
  if (S_ISLNK(s->stx_mode) && (q->bits & SP_LINKS)) {
    if ((q->bits & SP_TIMES) && !same_time(q, s, d))
      return false;
    return same_link(sfd, name, known, dfd, name, s->stx_size);
  }
  return false;
}

bool quick_data_differs(const struct quick *q, const struct statx *s, const struct statx *d)
{
  return s->stx_size != d->stx_size || !same_time(q, s, d);
}

bool quick_same_dir(const struct quick *q, const struct statx *a, const struct statx *b)
{
  if (!same_ids(q, a, b))
    return false;
  if ((q->bits & SP_PERMS) && (a->stx_mode & 07777) != (b->stx_mode & 07777))
    return false;
  return !(q->bits & SP_DIR_TIMES) || same_time(q, a, b);
}

bool quick_same_node(const struct quick *q, const struct statx *a, const struct statx *b)
{
  if ((a->stx_mode & S_IFMT) != (b->stx_mode & S_IFMT))
    return false;
  if ((S_ISCHR(a->stx_mode) || S_ISBLK(a->stx_mode)) &&
      (a->stx_rdev_major != b->stx_rdev_major || a->stx_rdev_minor != b->stx_rdev_minor))
    return false;
  /* Times as sameTime() compares them (--modify-window, the engine's resolution), like a file's. */
  return quick_same_dir(q, a, b) && (!(q->bits & SP_TIMES) || same_time(q, a, b));
}
